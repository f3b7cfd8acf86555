"""TensorBoard event files out of nnview's own training (``--log-dir``) and out of the probe, read back with
tbparse: the exact tags, the step counts and the values the run printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled, until
from tui.probe import Probe
from tui.widgets.training_panel import TrainingPanel

tbparse = pytest.importorskip("tbparse")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

EPOCH_TAGS = ["accuracy/train", "accuracy/val", "learning_rate", "loss/train", "loss/val"]
LAYER_TAGS = [f"layers/{figure}/{layer}" for figure in ("grad_norm", "update_ratio") for layer in ("fc1", "fc2", "fc3")]


def _scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    frame = tbparse.SummaryReader(str(folder)).scalars
    return {tag: list(zip(rows["step"], rows["value"], strict=True)) for tag, rows in frame.groupby("tag")}


def _nnview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=300)


def test_nnview_train_log_dir_holds_each_epoch_and_the_layers(tmp_path: Path) -> None:
    done = _nnview("train", str(MODELS / "simple.py"), "--epochs", "3", "--json", "--log-dir", str(tmp_path / "tb"))
    assert done.returncode == 0, done.stderr
    epochs = [json.loads(line) for line in done.stdout.splitlines() if '"event": "epoch"' in line]
    scalars = _scalars(tmp_path / "tb")
    assert sorted(scalars) == sorted(EPOCH_TAGS + LAYER_TAGS)
    assert [step for step, _ in scalars["loss/val"]] == [1, 2, 3]
    assert [value for _, value in scalars["loss/val"]] == pytest.approx([e["val_loss"] for e in epochs], rel=1e-6)
    assert [value for _, value in scalars["accuracy/train"]] == pytest.approx([e["train_accuracy"] for e in epochs])
    assert [value for _, value in scalars["learning_rate"]] == pytest.approx([0.01, 0.01, 0.01])  # float32 on disk
    assert scalars["layers/grad_norm/fc1"][-1][0] == 3 * 25  # the last sample: after the last step (800 / 32 = 25)
    assert all(value > 0 for tag in LAYER_TAGS for _, value in scalars[tag])


@pytest.mark.parametrize("command", [["train", str(MODELS / "simple.py")], [str(MODELS / "simple.py")]])
def test_a_log_dir_that_is_a_file_is_refused_before_any_work(tmp_path: Path, command: list[str]) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    done = _nnview(*command, "--log-dir", str(taken))
    assert done.returncode == 2
    assert f"the TensorBoard log folder {taken} is a file, not a folder" in done.stderr
    assert taken.read_text() == "mine"


async def test_the_explorers_training_writes_the_same_tags(tmp_path: Path) -> None:
    folder = tmp_path / "tb"
    async with explorer(str(MODELS / "simple.py"), log_dir=str(folder)) as (pilot, screen):
        await pilot.press("t")
        panel = screen.query_one("#training", TrainingPanel)
        await until(pilot, lambda: len(panel.epochs) >= 2)  # the pause below is followed by a health sample
        await pilot.press("t")
        await settled(pilot)
        trained = screen.trainer.epoch
    scalars = _scalars(folder)  # the app's exit closed the event file
    assert set(EPOCH_TAGS) <= set(scalars) and set(LAYER_TAGS) <= set(scalars)
    assert [step for step, _ in scalars["loss/train"]] == list(range(1, trained + 1))


def test_the_probe_writes_tensorboard_beside_its_run(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with Probe(model, tmp_path / "run", every=5, tensorboard=True) as probe:
        for _ in range(20):
            loss = model(torch.randn(8, 3)).pow(2).mean()
            loss.backward()
            probe.step(loss, accuracy=0.5)
            optimizer.step()
            optimizer.zero_grad()
    scalars = _scalars(tmp_path / "run")
    assert len(scalars["loss/train"]) == len(scalars["accuracy/train"]) == 20
    assert [step for step, _ in scalars["layers/grad_norm/0"]] == [1, 6, 11, 16]
    assert [step for step, _ in scalars["layers/update_ratio/2"]] == [1, 6, 11, 16]
