"""A program in a pseudo-terminal, read byte for byte, and a small screen model to see what it painted.

The one terminal harness of the benchmarks (``bench/startup.py``, ``bench/bandwidth.py``, ``bench/train.py``).
Only the standard library (and Rich's cell widths):

- :class:`PtyRun` starts a command with a new pty as its stdin, stdout, stderr and controlling terminal, sized
  with ``TIOCSWINSZ`` before the program starts, and keeps every chunk read from the master with the
  ``time.perf_counter()`` it arrived at, counted from just before the fork. Reads are cheap (no parsing), so
  the timestamps are those of the ``read()`` calls, within a millisecond of the bytes leaving the program.
- :class:`Screen` replays those bytes the way a terminal would (cursor moves, erases, text with East Asian
  widths, line wrap and scrolling; colours and modes are skipped) so a test can ask "is the table on screen"
  and learn from which chunk on it was.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.cells import get_character_cell_size

# What a terminal emulator launched over SSH usually has: TERM only. COLORTERM and NO_COLOR are dropped so
# that every run sees the same colour system whatever the calling shell exported.
BASE_ENV_DROP = ("COLORTERM", "NO_COLOR", "TEXTUAL", "TMUX", "COLUMNS", "LINES")

_TOKEN = re.compile(
    r"\x1b\[(?P<params>[0-?]*)(?P<inter>[ -/]*)(?P<final>[@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, ended by BEL or ST
    r"|\x1b[P_^][^\x1b]*\x1b\\"  # DCS, APC, PM
    r"|\x1b[()*+][0-~]"  # charset designation
    r"|\x1b[^\[\]P_^()*+]"  # other two-byte escapes
    r"|(?P<ctl>[\x00-\x1a\x1c-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x7f]+)"
)
_LONGEST_ESCAPE = 4096  # an escape sequence still open after this many characters is junk, not a cut

COLS, ROWS = 120, 40  # the terminal every benchmark runs nnview in
TIMEOUT = 120.0  # seconds for any one thing to show up; far past any normal run
SIMPLE = "models/simple.py"


def nnview_command() -> str:
    """The installed ``nnview`` console script (what a user runs), or an explanation of why it is missing."""
    found = shutil.which("nnview")
    if found is None:
        raise SystemExit("the nnview console script is not on PATH: run `pip install -e .` first")
    return found


class Screen:
    """A screen of ``rows`` x ``cols`` cells fed with a program's output; :meth:`lines` gives its text."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self.autowrap = True
        self._pending_wrap = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""

    def feed(self, data: bytes) -> None:
        """Apply a chunk of output; an escape sequence cut at the chunk's end waits for the next chunk."""
        text = self._tail + self._decoder.decode(data)
        self._tail = ""
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # an escape sequence not finished yet, or junk
                if len(text) - pos < _LONGEST_ESCAPE:
                    self._tail = text[pos:]
                    return
                pos += 1
                continue
            pos = match.end()
            if match.group("text") is not None:
                self._write(match.group("text"))
            elif match.group("ctl") is not None:
                self._control(match.group("ctl"))
            elif match.group("final") is not None:
                self._csi(match.group("params"), match.group("final"))

    def lines(self) -> list[str]:
        """Each row's text, trailing blanks removed."""
        return ["".join(row).rstrip() for row in self.grid]

    def text(self) -> str:
        """The whole screen, one row a line."""
        return "\n".join(self.lines())

    # --- internals ------------------------------------------------------------------------------

    def _clear(self, top: int = 0, bottom: int | None = None) -> None:
        for y in range(top, self.rows if bottom is None else bottom):
            self.grid[y] = [" "] * self.cols

    def _newline(self) -> None:
        if self.y == self.rows - 1:
            del self.grid[0]
            self.grid.append([" "] * self.cols)
        else:
            self.y += 1

    def _write(self, text: str) -> None:
        for char in text:
            width = get_character_cell_size(char)
            if width == 0:
                continue
            if self._pending_wrap or self.x + width > self.cols:
                if not self.autowrap:
                    self.x = self.cols - width
                else:
                    self.x = 0
                    self._newline()
                self._pending_wrap = False
            self.grid[self.y][self.x] = char
            if width == 2:
                self.grid[self.y][self.x + 1] = ""
            self.x += width
            if self.x >= self.cols:
                self.x = self.cols - 1
                self._pending_wrap = self.autowrap

    def _control(self, char: str) -> None:
        self._pending_wrap = False
        if char == "\r":
            self.x = 0
        elif char in "\n\x0b\x0c":
            self._newline()
        elif char == "\b":
            self.x = max(0, self.x - 1)
        elif char == "\t":
            self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)

    def _csi(self, params: str, final: str) -> None:
        self._pending_wrap = False
        private = params.startswith("?")
        numbers = [int(p) if p.isdigit() else 0 for p in params.lstrip("?<=>").split(";")] if params else []

        def arg(i: int, default: int = 1) -> int:
            return numbers[i] if len(numbers) > i and numbers[i] else default

        if private and final in "hl":
            on = final == "h"
            if 7 in numbers:
                self.autowrap = on
            if 1049 in numbers or 47 in numbers or 1047 in numbers:  # alternate screen: a blank page either way
                self._clear()
            return
        if private or params[:1] in ("<", "=", ">"):
            return
        if final in "Hf":
            self.y, self.x = min(self.rows, arg(0)) - 1, min(self.cols, arg(1)) - 1
        elif final == "A":
            self.y = max(0, self.y - arg(0))
        elif final in "Be":
            self.y = min(self.rows - 1, self.y + arg(0))
        elif final in "Ca":
            self.x = min(self.cols - 1, self.x + arg(0))
        elif final == "D":
            self.x = max(0, self.x - arg(0))
        elif final in "G`":
            self.x = min(self.cols, arg(0)) - 1
        elif final == "d":
            self.y = min(self.rows, arg(0)) - 1
        elif final == "J":
            mode = arg(0, 0)
            if mode == 0:
                self.grid[self.y][self.x :] = [" "] * (self.cols - self.x)
                self._clear(self.y + 1)
            elif mode == 1:
                self.grid[self.y][: self.x + 1] = [" "] * (self.x + 1)
                self._clear(0, self.y)
            else:
                self._clear()
        elif final == "K":
            mode = arg(0, 0)
            row = self.grid[self.y]
            if mode == 0:
                row[self.x :] = [" "] * (self.cols - self.x)
            elif mode == 1:
                row[: self.x + 1] = [" "] * (self.x + 1)
            else:
                self.grid[self.y] = [" "] * self.cols
        elif final == "X":
            count = min(arg(0), self.cols - self.x)
            self.grid[self.y][self.x : self.x + count] = [" "] * count


@dataclass
class PtyRun:
    """One command in a fresh pty of ``cols`` x ``rows``; every chunk it writes is kept as (seconds, bytes).

    ``env`` is added to this process's environment, less :data:`BASE_ENV_DROP`, with ``TERM=xterm-256color``
    (override any of them there). Seconds count from just before the fork. Use as a context manager: leaving it ends the program (``q``,
    then SIGTERM, then SIGKILL, each after a grace period) if it is still running.
    """

    argv: Sequence[str]
    cols: int = 120
    rows: int = 40
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    sent: list[tuple[float, bytes]] = field(default_factory=list)
    eof_at: float | None = None

    def __post_init__(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in BASE_ENV_DROP}
        env["TERM"] = "xterm-256color"
        env.update(self.env)
        self.master = master
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(self.argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=self.cwd,
            start_new_session=True,  # setsid(): the pty becomes the controlling terminal below
            preexec_fn=_take_controlling_terminal,  # runs after setsid()
            close_fds=True,
        )
        os.close(slave)
        self.live = Screen(self.cols, self.rows)  # the screen as of chunk ``_replayed`` (see wait_for)
        self._replayed = 0

    def __enter__(self) -> PtyRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def total_bytes(self) -> int:
        """Every byte read from the terminal so far."""
        return sum(len(chunk) for _, chunk in self.chunks)

    def now(self) -> float:
        """Seconds since just before the fork."""
        return time.perf_counter() - self.started

    def pump(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Read whatever the program writes for up to ``seconds``; stop early once ``until()`` is true.

        ``until`` is asked after every chunk, so keep it cheap. Returns whether it became true (False at EOF
        or when the time ran out).
        """
        deadline = time.perf_counter() + seconds
        while True:
            if until is not None and until():
                return True
            left = deadline - time.perf_counter()
            if left <= 0 or self.eof_at is not None:
                return False
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self._read()

    def settle(self, quiet: float = 0.3, limit: float = 5.0) -> None:
        """Read until the program has written nothing for ``quiet`` seconds (at most ``limit`` seconds)."""
        deadline = self.now() + limit
        while self.now() < deadline:
            before = len(self.chunks)
            self.pump(quiet)
            if len(self.chunks) == before:
                return

    def _read(self) -> None:
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: every slave end is closed, the program has exited
            data = b""
        arrived = self.now()
        if data:
            self.chunks.append((arrived, data))
        else:
            self.eof_at = arrived

    def send(self, keys: bytes | str) -> float:
        """Type ``keys``; returns the time they were written."""
        data = keys.encode() if isinstance(keys, str) else keys
        os.write(self.master, data)
        at = self.now()
        self.sent.append((at, data))
        return at

    def raw(self) -> bytes:
        """Everything read so far, as one byte string."""
        return b"".join(chunk for _, chunk in self.chunks)

    def seen(self, needle: bytes, since: float = 0.0) -> bool:
        """Whether ``needle`` occurs in the raw bytes read at or after ``since`` (cheap; no screen model)."""
        return needle in b"".join(chunk for t, chunk in self.chunks if t >= since)

    def bursts(self, start: float = 0.0, end: float = float("inf"), gap: float = 0.01) -> list[tuple[float, int]]:
        """(arrival, bytes) of each burst of output in ``[start, end]``: chunks less than ``gap`` s apart.

        Textual writes a frame with one ``write()``; the pty hands it over in chunks of at most 4 KiB read
        microseconds apart, so a burst is a frame (or a few, when they follow faster than ``gap``).
        """
        found: list[tuple[float, int]] = []
        last = -1.0
        for t, chunk in self.chunks:
            if not start <= t <= end:
                continue
            if found and t - last < gap:
                found[-1] = (found[-1][0], found[-1][1] + len(chunk))
            else:
                found.append((t, len(chunk)))
            last = t
        return found

    def first_bytes(self, needle: bytes, since: float = 0.0) -> float | None:
        """The arrival time of the chunk that holds ``needle`` (not split across chunks), at or after ``since``."""
        return next((t for t, chunk in self.chunks if t >= since and needle in chunk), None)

    def screen(self, until: float | None = None) -> Screen:
        """The screen as it stood after every chunk read up to ``until`` seconds (all of them by default)."""
        screen = Screen(self.cols, self.rows)
        for t, chunk in self.chunks:
            if until is not None and t > until:
                break
            screen.feed(chunk)
        return screen

    def first_time(self, shows: Callable[[Screen], bool], since: float = 0.0) -> float | None:
        """The arrival time of the first chunk after which ``shows(screen)`` holds, replaying from the start."""
        screen = Screen(self.cols, self.rows)
        for t, chunk in self.chunks:
            screen.feed(chunk)
            if t >= since and shows(screen):
                return t
        return None

    def wait_for(self, shows: Callable[[Screen], bool], since: float = 0.0, timeout: float = 60.0) -> float | None:
        """Read until ``shows(screen)`` holds after a chunk that arrived at or after ``since``; that chunk's time.

        Reading goes on in windows of 50 ms with no parsing; the screen model catches up between windows, one
        chunk at a time, so the time returned is the arrival of the exact chunk that completed the picture
        (parsing can hold the next ``read()`` back by a few milliseconds at most). Chunks are replayed once
        over the life of the run, so call it with non-decreasing ``since``. None if ``timeout`` passed or the
        program exited first.
        """
        deadline = time.perf_counter() + timeout
        while True:
            while self._replayed < len(self.chunks):
                t, chunk = self.chunks[self._replayed]
                self._replayed += 1
                self.live.feed(chunk)
                if t >= since and shows(self.live):
                    return t
            if self.eof_at is not None or time.perf_counter() >= deadline:
                return None
            self.pump(min(0.05, deadline - time.perf_counter()))

    def wait_exit(self, seconds: float) -> int | None:
        """Keep reading until the program exits (or ``seconds`` pass); its exit status, or None.

        The exit shows as end-of-file on the master (every copy of the slave closed), stamped in
        :attr:`eof_at` like any chunk.
        """
        self.pump(seconds)
        try:
            return self.process.wait(timeout=1.0 if self.eof_at is not None else 0.01)
        except subprocess.TimeoutExpired:
            return None

    def close(self, quit_keys: bytes = b"q", grace: float = 10.0) -> int | None:
        """End the program: ``quit_keys``, then SIGTERM, then SIGKILL; close the master. Its exit status."""
        code = self.process.poll()
        try:
            if code is None and quit_keys:
                self.send(quit_keys)
                code = self.wait_exit(grace)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if code is not None:
                    break
                self.process.send_signal(sig)
                code = self.wait_exit(3.0)
        finally:
            os.close(self.master)
        return code


def _take_controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def has_line(pattern: str) -> Callable[[Screen], bool]:
    """A test for :meth:`PtyRun.first_time`: some line of the screen matches the regular expression."""
    regex = re.compile(pattern)
    return lambda screen: any(regex.search(line) for line in screen.lines())


def all_of(*tests: Callable[[Screen], bool]) -> Callable[[Screen], bool]:
    """Every one of ``tests`` holds on the same screen."""
    return lambda screen: all(test(screen) for test in tests)


def simple_table(path: str = SIMPLE) -> Callable[[Screen], bool]:
    """nnview's full table of a SimpleNN file is on screen: the header ``SimpleNN  PATH  params 147`` and the
    last row ``fc3 Linear (4,6) (3,6) (4,3)``."""
    return all_of(
        has_line(rf"SimpleNN  {re.escape(path)}  params 147"),
        has_line(r"fc3\s+Linear\s+\(4,6\)\s+\(3,6\)\s+\(4,3\)"),
    )
