"""``nnview watch`` in a real terminal at 80x24 under NO_COLOR (tmux) while a script trains with the probe:
t pauses the run (its rank file says "paused" and its steps stop), t resumes it, s and y stop it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.test_terminal import NNVIEW, ROOT, Tmux, session, tmux  # noqa: F401 - fixtures, used by name

SCRIPT = """
import time
import torch
from torch import nn
from tui.probe import Probe

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
with Probe(model, {folder!r}, every=2) as probe:
    for _ in range(20000):  # far more than the test lets it run: it ends when the viewer stops it
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        probe.step(loss)
        optimizer.step()
        optimizer.zero_grad()
        time.sleep(0.005)
"""


def records(folder: Path) -> list[dict[str, Any]]:
    """Rank 0's complete lines (a last line still being written is left for the next look)."""
    return [json.loads(text) for text in (folder / "rank0.jsonl").read_text().split("\n")[:-1]]


def events(folder: Path) -> list[str]:
    return [record["event"] for record in records(folder) if record["kind"] == "event"]


def steps(folder: Path) -> int:
    return max((record["step"] for record in records(folder) if record["kind"] == "step"), default=0)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.1)


def test_pause_resume_and_stop_a_probed_run_at_80x24_no_color(tmux: Tmux, session: str, tmp_path: Path) -> None:  # noqa: F811
    assert NNVIEW is not None
    folder = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(folder=str(folder))))
    training = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (folder / "run.json").exists(), "the run folder")
        tmux.start(session, 80, 24, [NNVIEW, "watch", str(folder)], env={"NO_COLOR": "1"})
        screen = tmux.wait_text(session, "run train.py 1 rank running", "loss by step", "? Help q Quit t Pause/Resume")
        assert "\x1b[38;2" not in tmux.screen(session, escapes=True)  # no 24-bit colour under NO_COLOR
        assert "Linear" in screen and "ReLU" in screen

        tmux.keys(session, "t")
        wait_for(lambda: events(folder) == ["paused"], "the paused event")
        paused_at = steps(folder)
        tmux.wait_text(session, "1 rank paused")
        time.sleep(0.5)  # a run that ignored the pause would write steps meanwhile
        assert steps(folder) == paused_at and training.poll() is None

        tmux.keys(session, "t")
        wait_for(lambda: events(folder) == ["paused", "resumed"], "the resumed event")
        wait_for(lambda: steps(folder) > paused_at, "steps after resuming")
        tmux.wait_text(session, "1 rank running")

        tmux.keys(session, "s")
        tmux.wait_text(session, "Stop the run run?")
        tmux.keys(session, "y")
        assert training.wait(timeout=60) == 0, training.stderr.read() if training.stderr else ""
        assert events(folder) == ["paused", "resumed", "stopped", "closed"]
        tmux.wait_text(session, f"1 rank stopped after {steps(folder)} steps")
        tmux.keys(session, "q")
        assert tmux.exit_status(session) == 0
    finally:
        if training.poll() is None:
            training.kill()
            training.wait()
