"""The installed ``nnview`` console script in a real pseudo-terminal (tmux): what a user sees and types.

Every test starts the program as a tmux pane of a fixed size on a private server (``tmux -L nnview-test-<pid>``,
killed at the end), types with ``send-keys`` and reads the screen with ``capture-pane``, polling until the
expected text is on it. ``remain-on-exit`` keeps a finished pane, so its exit status can be read back.

Each start costs an ``import torch`` (~2-3 s), so the keys of one session are checked in one test. Without tmux
the tests skip, except under CI (``CI`` set), where tmux is installed and its absence is an error.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NNVIEW = shutil.which("nnview")
TMUX = shutil.which("tmux")
WAIT = 60.0  # seconds for anything to show up: generous, a torch import on a loaded 2-core machine is ~3-10 s
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def truecolor(text: str) -> list[str]:
    """The SGR sequences in ``text`` that set a 24-bit colour (``38;2;r;g;b``, ``48;2;…``, ``58;2;…``, or ``:``)."""
    found = []
    for match in SGR.finditer(text):
        params = re.split(r"[;:]", match.group(1))
        i = 0
        while i < len(params):
            if params[i] in ("38", "48", "58") and i + 1 < len(params):
                if params[i + 1] == "2":
                    found.append(match.group())
                    break
                i += 3 if params[i + 1] == "5" else 2  # 38;5;n: skip the index, which may read 2
                continue
            i += 1
    return found


def flat(text: str) -> str:
    """Whitespace collapsed, so text the screen wraps or pads still matches."""
    return " ".join(text.split())


class Tmux:
    """A private tmux server: one session per program, read back as text."""

    def __init__(self, socket: str, config: Path) -> None:
        assert TMUX is not None
        self.base = [TMUX, "-L", socket, "-f", str(config)]
        self.config = config
        self.env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    def start(self, name: str, cols: int, rows: int, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Run ``argv`` (under ``env -u COLORTERM -u NO_COLOR`` plus ``env``) in a new detached session.

        A shell around it writes its exit status to a file (see :meth:`exit_status`).
        """
        assignments = [f"{k}={v}" for k, v in (env or {}).items()]
        wrapper = 'env -u COLORTERM -u NO_COLOR "$@"; echo $? > "$0"'
        command = ["sh", "-c", wrapper, str(self.status_file(name)), *assignments, *argv]
        self("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows), "-c", str(ROOT), shlex.join(command))

    def status_file(self, name: str) -> Path:
        """Where the shell around session ``name``'s program writes its exit status."""
        return self.config.parent / f"{name}.status"

    def screen(self, name: str, escapes: bool = False) -> str:
        """The pane's text (with its colour escape sequences when ``escapes``)."""
        return self("capture-pane", "-p", *(["-e"] if escapes else []), "-t", name)

    def keys(self, name: str, *keys: str) -> None:
        """Type ``keys`` (tmux key names: ``n``, ``Escape``, ``?``), with a short pause after each."""
        for key in keys:
            self("send-keys", "-t", name, key)
            time.sleep(0.15)

    def wait(self, name: str, shows: Callable[[str], bool], what: str, timeout: float = WAIT) -> str:
        """Poll the pane until ``shows(text)``; the screen text. Fails with the last screen after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(name)
            if shows(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not show within {timeout:.0f} s; the screen was:\n{text}")
            time.sleep(0.1)

    def wait_text(self, name: str, *needles: str, timeout: float = WAIT) -> str:
        """Poll until every one of ``needles`` is on the screen (whitespace-insensitive)."""
        return self.wait(name, lambda t: all(flat(n) in flat(t) for n in needles), repr(needles), timeout)

    def exit_status(self, name: str, timeout: float = 30.0) -> int:
        """Wait for the pane's program to end and the pane to die; the program's exit status.

        The status comes from the wrapping shell, not from ``#{pane_dead_status}``: tmux 3.3a sometimes never
        reaps a pane's exited child (it stays a zombie, ``pane_dead`` is 1 and ``pane_dead_status`` stays empty;
        seen here with ``sh -c 'sleep 2'`` too, tmux/tmux#311 and #4841 describe the race). Where tmux did
        read a status it must agree.
        """
        deadline = time.monotonic() + timeout
        status_file = self.status_file(name)
        while True:
            fields = self("display-message", "-p", "-t", name, "#{pane_dead}:#{pane_dead_status}")
            dead, tmux_status = fields.strip().split(":")
            written = status_file.read_text().strip() if status_file.exists() else ""
            if dead == "1" and written:
                assert tmux_status in ("", written), (tmux_status, written)
                return int(written)
            if time.monotonic() > deadline:
                pytest.fail(f"the program in {name} did not exit within {timeout:.0f} s:\n{self.screen(name)}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def tmux(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tmux]:
    """A private tmux server for this module; killed afterwards whatever happened."""
    if TMUX is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed but CI is set: CI must install tmux (see .ci/run) for these tests")
        pytest.skip("tmux is not installed: the terminal tests need it (apt-get install tmux)")
    config = tmp_path_factory.mktemp("tmux") / "tmux.conf"
    config.write_text("set-option -g remain-on-exit on\nset-option -g history-limit 0\n")
    socket = f"nnview-test-{os.getpid()}"
    server = Tmux(socket, config)
    try:
        yield server
    finally:
        subprocess.run([*server.base, "kill-server"], env=server.env, capture_output=True, timeout=30, check=False)
        # tmux leaves its socket file behind (where -L puts it: $TMUX_TMPDIR or /tmp, then tmux-<uid>/)
        Path(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", socket).unlink(missing_ok=True)


@pytest.fixture
def session(tmux: Tmux, request: pytest.FixtureRequest) -> Iterator[str]:
    """A session name for this test; the session (and its program) is killed afterwards."""
    name = re.sub(r"\W", "-", request.node.name)[:40]
    try:
        yield name
    finally:
        subprocess.run([*tmux.base, "kill-session", "-t", name], env=tmux.env, capture_output=True, check=False)


@pytest.fixture(scope="module")
def wide(tmux: Tmux) -> Iterator[tuple[str, str]]:
    """``nnview models/simple.py`` at 120x40: its session name and its screen 0.5 s after the table showed."""
    assert NNVIEW is not None
    name = "wide-120x40"
    tmux.start(name, 120, 40, [NNVIEW, "models/simple.py", "--no-watch"])
    try:
        tmux.wait_text(name, "SimpleNN", "params 147", "fc3")
        time.sleep(0.5)  # the table's scrollbar comes with a second paint, ~0.3 s after the first
        yield name, tmux.screen(name)
    finally:
        subprocess.run([*tmux.base, "kill-session", "-t", name], env=tmux.env, capture_output=True, check=False)


def test_explorer_at_120x40_table_neuron_view_help_and_quit(tmux: Tmux, wide: tuple[str, str]) -> None:
    session, screen = wide
    assert "SimpleNN  models/simple.py  params 147  input (4, 5) float32" in screen, screen
    assert re.search(r"fc1\s+Linear\s+\(4,5\)\s+\(10,5\)\s+\(4,10\)\s+relu\s+60", screen), screen
    assert re.search(r"fc2\s+Linear\s+\(4,10\)\s+\(6,10\)\s+\(4,6\)\s+relu\s+66", screen), screen

    tmux.keys(session, "n", "n", "x")  # root -> fc1 -> fc2, then the neuron view of fc2
    screen = tmux.wait_text(session, "neuron 0", "✓ matches")
    assert "fc2  neuron 0 (of 0–5)" in screen, screen

    tmux.keys(session, "Escape")
    tmux.wait(session, lambda t: "neuron 0" not in t and "fc3" in t, "the explorer after esc")
    tmux.keys(session, "?")
    tmux.wait_text(session, "Next layer in execution order")

    tmux.keys(session, "Escape")  # on the help screen q closes the help (as esc and ? do), not the app
    tmux.wait(session, lambda t: "Next layer in execution order" not in t, "the explorer after closing the help")
    tmux.keys(session, "q")
    assert tmux.exit_status(session) == 0


def test_120x40_table_shows_every_column(wide: tuple[str, str]) -> None:
    header = wide[1].splitlines()[1]
    assert "zero%" in header, header


def test_120x40_footer_shows_quit_and_help(wide: tuple[str, str]) -> None:
    footer = wide[1].splitlines()[-1]
    assert "q Quit" in footer and "? Help" in footer, footer


def test_80x24_no_color_shows_the_table_without_24_bit_colour(tmux: Tmux, session: str) -> None:
    assert NNVIEW is not None
    env = {"NO_COLOR": "1", "TERM": "xterm-256color"}
    tmux.start(session, 80, 24, [NNVIEW, "models/simple.py", "--no-watch"], env)
    screen = tmux.wait_text(session, "SimpleNN", "params 147", "fc3")
    assert re.search(r"fc1\s+Linear\s+\(4,5\)\s+\(10,5\)\s+\(4,10\)\s+relu", screen), screen
    coloured = tmux.screen(session, escapes=True)
    assert "\x1b[" in coloured  # the capture does carry escape sequences
    assert truecolor(coloured) == [], truecolor(coloured)[:5]
    tmux.keys(session, "q")
    assert tmux.exit_status(session) == 0


def test_no_color_wins_over_colorterm_truecolor(tmux: Tmux, session: str) -> None:
    assert NNVIEW is not None
    env = {"NO_COLOR": "1", "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    tmux.start(session, 80, 24, [NNVIEW, "models/simple.py", "--no-watch"], env)
    tmux.wait_text(session, "SimpleNN", "params 147", "fc3")
    coloured = tmux.screen(session, escapes=True)
    tmux.keys(session, "q")
    assert truecolor(coloured) == [], truecolor(coloured)[:5]


def test_term_screen_at_80x24_shows_the_table(tmux: Tmux, session: str) -> None:
    assert NNVIEW is not None
    tmux.start(session, 80, 24, [NNVIEW, "models/simple.py", "--no-watch"], {"TERM": "screen"})
    screen = tmux.wait_text(session, "SimpleNN", "params 147", "fc3")
    assert re.search(r"fc2\s+Linear\s+\(4,10\)\s+\(6,10\)\s+\(4,6\)\s+relu", screen), screen
    tmux.keys(session, "q")
    assert tmux.exit_status(session) == 0


def test_broken_file_shows_the_error_view(tmux: Tmux, session: str) -> None:
    assert NNVIEW is not None
    tmux.start(session, 120, 40, [NNVIEW, "tests/core/broken/deep_sequential.py", "--no-watch"])
    screen = tmux.wait_text(session, "error [shape_mismatch] in encoder.2 (Linear)")
    tmux.wait_text(
        session, "fix: encoder.2 = nn.Linear(12, 4) receives 16 features from encoder.0: change in_features to 16"
    )
    assert "got: (4, 16) float32" in flat(tmux.screen(session)), screen
    tmux.keys(session, "q")
    assert tmux.exit_status(session) == 0


def test_missing_file_exits_2_before_the_screen_opens() -> None:
    assert NNVIEW is not None, "the nnview console script is not on PATH: pip install -e ."
    done = subprocess.run([NNVIEW, "missing.py"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "error [load]: model file missing.py does not exist" in flat(done.stderr), done.stderr
    assert "\x1b[?1049h" not in done.stdout  # the alternate screen never opened
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_file_is_reported_without_importing_torch() -> None:
    code = (
        "import sys; from tui.commands.main import main\n"
        "code = main(['missing.py']); print(code, 'torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.split() == ["2", "False"], (done.stdout, done.stderr)
