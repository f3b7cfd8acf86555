"""``torchrun --nproc-per-node 2 -m tui train``: two real ranks on gloo, one display, one checkpoint, one fate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tui.core.load.checkpoints import load_checkpoint
from tui.core.load.model_file import load_model

DIGITS = str(MODELS / "digits_cnn.py")  # 1,437 training samples: 719 per rank (one padded), 360 to validate
LIMIT = 120  # seconds: a rank left waiting in a collective would hang the run; the test fails instead

# Rank 1 fails at its third training step: its forward raises, or its output turns NaN (FLAKY=nan).
FLAKY = """
import os
import torch
from torch import nn


class Flaky(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.steps = 0

    def forward(self, x):
        out = self.fc(x)
        if self.training and torch.is_grad_enabled() and os.environ.get("RANK") == "1":
            self.steps += 1
            if self.steps == 3:
                if os.environ.get("FLAKY") == "nan":
                    return out * float("nan")
                raise ValueError("rank one broke on purpose")
        return out


def dataset():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 4, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return x[:160], y[:160], x[160:], y[160:]
"""


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def torchrun_command(*args: str) -> list[str]:
    # --standalone: a free port of its own, so runs beside each other (other test sessions) never collide.
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    return [*launcher, "-m", "tui", "train", *args]


def torchrun(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = torchrun_command(*args)
    return subprocess.run(command, cwd=cwd, env=environment(**env), capture_output=True, text=True, timeout=LIMIT)


def epoch_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("Epoch [")]


def val_accuracy(line: str) -> float:
    return float(line.rsplit("Val Acc: ", 1)[1])


def rank_lines(folder: Path, rank: int) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / f"rank{rank}.jsonl").read_text().splitlines()]


def last_step(folder: Path, rank: int) -> int:
    return max(int(str(line["step"])) for line in rank_lines(folder, rank) if line["kind"] == "step")


def test_two_ranks_train_like_one_process_print_once_save_once_and_write_both_rank_files(tmp_path: Path) -> None:
    done = torchrun(tmp_path, DIGITS, "--epochs", "2", "--batch-size", "16", "--save", "out.safetensors")
    assert done.returncode == 0, done.stderr
    lines = epoch_lines(done.stdout)
    assert [line.split(",")[0] for line in lines] == ["Epoch [1/2]", "Epoch [2/2]"]  # rank 0's only
    assert done.stdout.count("saved out.safetensors (and out.safetensors.json)") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.safetensors", "out.safetensors.json", "runs"]
    fresh = load_model(DIGITS).model
    load_checkpoint(tmp_path / "out.safetensors", fresh)  # every name without DDP's "module." prefix
    info = json.loads((tmp_path / "out.safetensors.json").read_text())
    assert info["metrics"]["val_accuracy"] == pytest.approx(val_accuracy(lines[-1]), abs=5e-5)
    # Two ranks of 16 step over the same batches as one process of 32: the same accuracy, within a sample or two.
    alone = subprocess.run(
        [sys.executable, "-m", "tui", "train", DIGITS, "--epochs", "2", "--batch-size", "32"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert alone.returncode == 0, alone.stderr
    assert abs(val_accuracy(lines[-1]) - val_accuracy(epoch_lines(alone.stdout)[-1])) <= 2 / 360
    assert val_accuracy(lines[-1]) >= 0.93
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("digits_cnn-")
    assert sorted(p.name for p in folder.iterdir()) == ["architecture.json", "rank0.jsonl", "rank1.jsonl", "run.json"]
    assert json.loads((folder / "run.json").read_text())["world_size"] == 2
    assert [last_step(folder, rank) for rank in (0, 1)] == [90, 90]  # 45 steps of 16 per epoch on each rank
    assert [rank_lines(folder, rank)[-1]["event"] for rank in (0, 1)] == ["closed", "closed"]
    watched = subprocess.run(
        [sys.executable, "-m", "tui", "watch", str(folder), "--json"], capture_output=True, text=True, timeout=LIMIT
    )
    state = json.loads(watched.stdout)
    assert (state["world_size"], state["run"]["framework"]) == (2, "nnview")
    assert [(r["rank"], r["steps"], r["state"]) for r in state["ranks"]] == [(0, 90, "closed"), (1, 90, "closed")]
    assert [layer["name"] for layer in state["layers"]][-1] == "classifier"


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("raise", "error [forward]: rank 1: step 3 failed: ValueError: rank one broke on purpose at flaky.py:"),
        ("nan", "error [forward]: rank 1: the loss became nan at step 3"),
    ],
)
def test_a_rank_that_fails_ends_both_with_its_message_instead_of_a_hang(tmp_path: Path, how: str, message: str) -> None:
    (tmp_path / "flaky.py").write_text(FLAKY)
    done = torchrun(tmp_path, "flaky.py", "--epochs", "3", "--save", "flaky.safetensors", FLAKY=how)
    assert done.returncode != 0
    assert done.stderr.count(message) == 1  # said once, by rank 0, though rank 1 failed
    assert "exitcode  : 2" in done.stderr  # the failing rank's own exit status: a user error
    assert not (tmp_path / "flaky.safetensors").exists()
    (folder,) = (tmp_path / "runs").iterdir()
    ends = [rank_lines(folder, rank)[-1] for rank in (0, 1)]
    assert [(end["event"], end["step"]) for end in ends] == [("error", 2), ("error", 2)]


def test_a_save_path_rank_0_refuses_ends_both_ranks_before_training(tmp_path: Path) -> None:
    (tmp_path / "taken.safetensors").write_text("not mine to replace")
    done = torchrun(tmp_path, DIGITS, "--epochs", "1", "--save", "taken.safetensors")
    assert done.returncode != 0
    assert done.stderr.count("error [save]: rank 0: ") == 1
    assert "--force" in done.stderr
    assert (tmp_path / "taken.safetensors").read_text() == "not mine to replace"
    assert not (tmp_path / "runs").exists() and epoch_lines(done.stdout) == []


def first_pid_when_training(folder: Path, rank: int) -> int:
    """Rank ``rank``'s pid, once its file shows a step (polled; the run is long, so it is still going)."""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        path = folder / f"rank{rank}.jsonl"
        if path.exists() and '"kind":"step"' in path.read_text():
            return int(str(rank_lines(folder, rank)[0]["pid"]))
        time.sleep(0.2)
    raise AssertionError(f"rank {rank} never stepped")


def test_ctrl_c_on_one_rank_stops_every_rank_after_the_same_step_and_keeps_them(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "long"
    args = (DIGITS, "--epochs", "1000", "--save", "out.safetensors", "--run-dir", str(run))
    process = subprocess.Popen(
        torchrun_command(*args),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        os.kill(first_pid_when_training(run, 1), signal.SIGINT)
        _, stderr = process.communicate(timeout=LIMIT)
    finally:
        process.kill()
    assert process.returncode != 0  # torchrun reports the ranks' 130
    assert stderr.count("interrupted by Ctrl+C on rank 1 before training ended: the ") == 1
    assert "out.safetensors was not touched" in stderr
    steps = [last_step(run, rank) for rank in (0, 1)]
    assert steps[0] == steps[1] > 0
    assert len(list(tmp_path.glob("nnview-rescue-digits_cnn-*.safetensors"))) == 1  # rank 0's only
    assert len(list(tmp_path.glob(f"nnview-rescue-digits_cnn-step{steps[0]}-*.safetensors"))) == 1
    assert not (tmp_path / "out.safetensors").exists()


def test_a_stop_from_nnview_watch_ends_every_rank_at_one_step_with_exit_0(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "watched"
    args = (DIGITS, "--epochs", "1000", "--run-dir", str(run))
    process = subprocess.Popen(
        torchrun_command(*args),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_pid_when_training(run, 1)
        control = {"command": "stop", "id": "test-stop", "time": time.time()}
        (run / ".control.tmp").write_text(json.dumps(control))
        (run / ".control.tmp").replace(run / "control.json")
        _, stderr = process.communicate(timeout=LIMIT)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert stderr.count("stopped by nnview watch before training ended: the ") == 1
    steps = [last_step(run, rank) for rank in (0, 1)]
    assert steps[0] == steps[1] > 0
    assert len(list(tmp_path.glob("nnview-rescue-digits_cnn-*.safetensors"))) == 1
