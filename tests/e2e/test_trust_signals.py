"""SIGTERM and SIGHUP (an SSH connection dropping) while the explorer has unsaved training (issue 7, 2 and 4).

The real console script runs in a terminal: under tmux for SIGTERM (the screen after exit shows the restored
terminal and the line naming the emergency checkpoint), and in a bare pseudo-terminal whose master side is
closed for SIGHUP, as sshd does when the connection drops. Exit statuses: 143 (128 + SIGTERM), 129 (128 + SIGHUP).
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tests.e2e.test_terminal import WAIT, Tmux, flat
from tui.core.load.checkpoints import read_checkpoint
from tui.core.load.model_file import load_model

NNVIEW = shutil.which("nnview")
SIMPLE = str(MODELS / "simple.py")
RESCUE = re.compile(
    r"nnview: unsaved training was written to (checkpoints/nnview-rescue-simple-step3-\S+\.safetensors)"
)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed but CI is set")
        pytest.skip("tmux is not installed")
    config = tmp_path / "tmux.conf"
    config.write_text("set-option -g remain-on-exit on\nset-option -g history-limit 0\n")
    socket = f"nnview-signal-{os.getpid()}"
    server = Tmux(socket, config)
    try:
        yield server
    finally:
        subprocess.run([*server.base, "kill-server"], env=server.env, capture_output=True, timeout=30, check=False)
        Path(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", socket).unlink(missing_ok=True)


def test_sigterm_restores_the_terminal_writes_an_emergency_checkpoint_and_exits_143(tmux: Tmux, tmp_path: Path) -> None:
    assert NNVIEW is not None
    work = tmp_path / "work"
    work.mkdir()
    name = "sigterm"
    # The shell outlives nnview a while: a dead pane's screen is replaced by tmux's "Pane is dead" line.
    wrapper = 'env -u COLORTERM -u NO_COLOR "$@"; echo $? > "$0"; sleep 60'
    command = ["sh", "-c", wrapper, str(tmux.status_file(name)), NNVIEW, SIMPLE, "--no-watch"]
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-c", str(work), shlex.join(command))
    tmux.wait_text(name, "SimpleNN", "fc3")
    for count in (1, 2, 3):
        tmux.keys(name, "s")
        tmux.wait_text(name, f"step {count} ")
    shell = int(tmux("display-message", "-p", "-t", name, "#{pane_pid}"))
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(shell)], capture_output=True, text=True).stdout
    os.kill(int(children.split()[0]), signal.SIGTERM)
    status = tmux.status_file(name)
    deadline = time.monotonic() + WAIT
    while not (status.exists() and status.read_text().strip()):
        assert time.monotonic() < deadline, "nnview did not exit after SIGTERM"
        time.sleep(0.1)
    assert status.read_text().strip() == "143"
    screen = flat(tmux.screen(name))
    assert "fc3" not in screen and "SimpleNN" not in screen  # back on the normal screen, the app's one is gone
    match = RESCUE.search(screen)
    assert match is not None, screen
    info = read_checkpoint(work / match.group(1), load_model(SIMPLE).model).info
    assert info["step"] == 3 and info["emergency"] is True


def read_until(fd: int, needle: bytes, seen: bytearray, timeout: float = WAIT) -> None:
    """Read the pty until ``needle`` has been printed (escape sequences and all)."""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        if time.monotonic() > deadline:
            pytest.fail(f"{needle!r} never showed; last output: {bytes(seen[-2000:])!r}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            seen += os.read(fd, 65536)


def test_an_ssh_drop_sighup_writes_an_emergency_checkpoint_and_exits_129(tmp_path: Path) -> None:
    assert NNVIEW is not None
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE", "COLORTERM", "NO_COLOR")}
    env |= {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: nnview on the pty, as a login shell over SSH would start it
        os.chdir(tmp_path)
        os.execve(NNVIEW, [NNVIEW, SIMPLE, "--no-watch"], env)
    seen = bytearray()
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        read_until(fd, b"fc3", seen)
        for count in (1, 2, 3):
            os.write(fd, b"s")
            read_until(fd, f"step {count} ".encode(), seen)
    finally:
        os.close(fd)  # the connection drops: the kernel hangs up the terminal and sends SIGHUP
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("nnview did not exit after SIGHUP")
        time.sleep(0.1)
    assert os.waitstatus_to_exitcode(status) == 129
    rescued = sorted((tmp_path / "checkpoints").glob("nnview-rescue-simple-step3-*.safetensors"))
    assert len(rescued) == 1
    info = read_checkpoint(rescued[0], load_model(SIMPLE).model).info
    assert info["step"] == 3 and info["emergency"] is True
