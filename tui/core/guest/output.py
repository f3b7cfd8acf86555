"""A guest's output: fds 1 and 2 and ``sys.stdout``/``sys.stderr`` sent to one temporary file while it runs.

Part of :func:`tui.core.guest.state.guest_state`: ``os.write(1, ...)`` in a model cannot corrupt ``--json`` or the
explorer's screen, and what the guest printed is kept (its tail) for error messages.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import tempfile
import threading
from typing import Any

# The tail of what a call printed that is kept for error messages: a model printing in a loop
# must not fill nnview's memory.
OUTPUT_LIMIT = 64 * 1024
real_signal = signal.signal  # the one nnview restores handlers with, whatever a guest did to signal.signal


def _guest_signal(signum: int, handler: Any) -> Any:
    if threading.current_thread() is threading.main_thread():
        return real_signal(signum, handler)
    return signal.getsignal(signum)


class Captured:
    """What the guest printed, through ``print`` or straight to file descriptors 1 and 2."""

    def __init__(self, start: int) -> None:
        self._start = start
        self._final: str | None = None

    def getvalue(self) -> str:
        """The text printed so far (all of it once the call is over)."""
        if self._final is not None:
            return self._final
        return OUTPUT_CAPTURE.read_from(self._start)

    def _finish(self) -> None:
        self._final = OUTPUT_CAPTURE.read_from(self._start)


class _OutputCapture:
    """One temporary file that fds 1 and 2 and ``sys.stdout``/``sys.stderr`` point at while guests run.

    fds are process-wide, so overlapping guests (a trace and a training step in two workers) share
    one redirection: the first to enter redirects, the last to leave puts everything back. Each
    guest reads its own slice of the file. Whoever drew the terminal before must write through a
    duplicate of its fd (see ``tui/terminal.py``), never through fd 1 or 2.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users = 0
        self.file: Any = None
        self.text: io.TextIOWrapper | None = None
        self.saved_fds: list[tuple[int, int]] = []
        self.saved_streams: tuple[Any, Any] = (None, None)

    def enter(self) -> Captured:
        with self.lock:
            if self.users == 0:
                self._redirect()
            self.users += 1
            return Captured(self._size())

    def leave(self, captured: Captured) -> None:
        with self.lock:
            captured._finish()
            if self.users == 0:  # put back early by emergency_restore: nothing left to undo
                return
            self.users -= 1
            if self.users == 0:
                self._restore()

    def read_from(self, start: int) -> str:
        with self.lock:
            if self.file is None or self.users == 0:
                return ""
            end = self._size()
            start = max(start, end - OUTPUT_LIMIT)
            data = os.pread(self.file.fileno(), end - start, start) if end > start else b""
            return data.decode("utf-8", errors="replace")

    def _size(self) -> int:
        _flush(self.text, sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        return os.fstat(self.file.fileno()).st_size if self.file is not None else 0

    def _redirect(self) -> None:
        _flush(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)  # nnview's own text goes out first
        if self.file is None:  # one file for the process, emptied after use: a training step is ~1 ms
            self.file = tempfile.TemporaryFile(prefix="nnview-output-")
            raw = io.FileIO(os.dup(self.file.fileno()), "w")
            self.text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", write_through=True)
        self.saved_streams = (sys.stdout, sys.stderr)
        self.saved_fds = []
        for fd in (1, 2):
            try:
                saved = os.dup(fd)
            except OSError:  # closed (nnview run with 1>&-): nothing there to protect
                continue
            os.dup2(self.file.fileno(), fd)
            self.saved_fds.append((fd, saved))
        sys.stdout = sys.stderr = self.text
        # A guest running in a worker thread cannot install signal handlers (Python refuses outside the
        # main thread); its change would be undone after the call anyway, so the request is dropped.
        signal.signal = _guest_signal  # type: ignore[assignment]

    def _restore(self) -> None:
        signal.signal = real_signal
        _flush(self.text, sys.__stdout__, sys.__stderr__)  # a guest's buffered __stdout__ text lands in the file
        sys.stdout, sys.stderr = self.saved_streams
        for fd, saved in self.saved_fds:
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
            os.close(saved)
        self.saved_fds = []
        with contextlib.suppress(OSError):
            os.ftruncate(self.file.fileno(), 0)
            os.lseek(self.file.fileno(), 0, os.SEEK_SET)

    def emergency_restore(self) -> None:
        """Put fds 1 and 2 back now, while a guest is still running (it is stuck and nnview exits)."""
        with self.lock:
            if self.users:
                self.users = 0
                self._restore()


def _flush(*streams: Any) -> None:
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


OUTPUT_CAPTURE = _OutputCapture()


def _close_saved_fds_in_child() -> None:
    """A process forked by the guest (multiprocessing) must not hold nnview's real stdout open.

    Else ``nnview summary m.py | head`` (or a test reading the pipe) waits for that child to end.
    """
    for _, saved in OUTPUT_CAPTURE.saved_fds:
        with contextlib.suppress(OSError):
            os.close(saved)
    OUTPUT_CAPTURE.saved_fds = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_saved_fds_in_child)


def restore_output_now() -> None:
    """Point fds 1 and 2 back at the terminal even though a guest call has not returned (before exiting)."""
    OUTPUT_CAPTURE.emergency_restore()
