"""``nnview watch`` at 80x24 under NO_COLOR (tmux) on a 2-rank DDP run under torchrun: t pauses both ranks at
the same step, t resumes both, and the run then finishes on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.test_terminal import NNVIEW, ROOT, Tmux, session, tmux  # noqa: F401 - fixtures, used by name

SCRIPT = ROOT / "tests" / "probe" / "scripts" / "ddp_cnn_probe.py"
STEPS = 300


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(text) for text in path.read_text().split("\n")[:-1]]


def events(path: Path) -> list[dict[str, Any]]:
    return [record for record in records(path) if record["kind"] == "event"]


def steps(path: Path) -> int:
    return max((record["step"] for record in records(path) if record["kind"] == "step"), default=0)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.1)


def test_both_ranks_pause_and_resume_from_the_viewer(tmux: Tmux, session: str, tmp_path: Path) -> None:  # noqa: F811
    assert NNVIEW is not None
    folder = tmp_path / "ddp"
    ranks = [folder / "rank0.jsonl", folder / "rank1.jsonl"]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone"]
    command += [str(SCRIPT), str(folder), str(STEPS), "0.01"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    training = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: all(steps(path) >= 5 for path in ranks), "both ranks stepping")
        tmux.start(session, 80, 24, [NNVIEW, "watch", str(folder)], env={"NO_COLOR": "1"})
        screen = tmux.wait_text(session, "ddp_cnn_probe.py  2 ranks  running", "Conv2d", "loss by step")
        assert "\x1b[38;2" not in tmux.screen(session, escapes=True)

        tmux.keys(session, "t")
        wait_for(lambda: all(any(e["event"] == "paused" for e in events(path)) for path in ranks), "both paused")
        paused = [events(path)[0]["step"] for path in ranks]
        assert paused[0] == paused[1] < STEPS  # the same step on every rank: no collective left waiting
        tmux.wait_text(session, "2 ranks  paused")
        time.sleep(0.6)
        assert [steps(path) for path in ranks] == paused and training.poll() is None

        tmux.keys(session, "r")  # the ranks view: both at the paused step
        screen = tmux.wait_text(session, "rank", "paused")
        rows = [line.split()[:3] for line in screen.splitlines()]
        assert ["0", str(paused[0])] in [row[:2] for row in rows] and ["1", str(paused[0])] in [row[:2] for row in rows]

        tmux.keys(session, "t")
        output, _ = training.communicate(timeout=120)
        assert training.returncode == 0, output
        for path in ranks:
            assert [e["event"] for e in events(path)] == ["paused", "resumed", "closed"]
            assert steps(path) == STEPS
        tmux.wait_text(session, f"finished after {STEPS} steps")
        tmux.keys(session, "q")
        assert tmux.exit_status(session) == 0
    finally:
        if training.poll() is None:
            training.kill()
            training.wait()
