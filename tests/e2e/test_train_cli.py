"""`nnview train` through the real entry point: the seed's epoch lines, JSON lines, save and load."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import torch

from tests.conftest import MODELS, ROOT
from tui.core.load.checkpoints import load_checkpoint
from tui.core.load.model_file import load_model

EPOCH = re.compile(
    r"^Epoch \[(\d+)/(\d+)\], Train Loss: \d+\.\d{4}, Val Loss: \d+\.\d{4}, Train Acc: \d\.\d{4}, Val Acc: \d\.\d{4}$"
)


def nnview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "train", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_prints_one_seed_format_line_per_epoch_and_saves_weights_that_load_back(tmp_path: Path) -> None:
    save = tmp_path / "simple.safetensors"
    done = nnview(str(MODELS / "simple.py"), "--epochs", "3", "--save", str(save))
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("Epoch")]
    assert [EPOCH.match(line).groups() for line in lines] == [("1", "3"), ("2", "3"), ("3", "3")]
    info = json.loads(save.with_name(save.name + ".json").read_text())
    assert info["hyperparameters"]["epochs"] == 3 and info["metrics"]["epoch"] == 3
    fresh = load_model(str(MODELS / "simple.py")).model
    before = fresh.fc1.weight.clone()
    load_checkpoint(save, fresh)
    assert not torch.equal(fresh.fc1.weight, before)  # trained weights, not the initial ones
    again = nnview(str(MODELS / "simple.py"), "--epochs", "1", "--weights", str(save), "--json")
    epochs = [
        json.loads(line) for line in again.stdout.splitlines() if '"epoch"' in line and '"event": "epoch"' in line
    ]
    assert epochs[0]["val_accuracy"] >= float(lines[-1].rsplit(" ", 1)[1]) - 0.05  # continued, not restarted


def test_json_lines_and_user_errors_exit_2_without_traceback() -> None:
    done = nnview(str(MODELS / "xor.py"), "--json", "--epochs", "5")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events].count("epoch") == 5
    # Each epoch's line comes right after its last step, though one update may span several epochs.
    kinds = [(e["event"], e["epoch"]) for e in events]
    for epoch in range(1, 6):
        last_step = max(i for i, kind in enumerate(kinds) if kind == ("step", epoch))
        assert kinds[last_step + 1] == ("epoch", epoch)
    assert events[0] == {
        "event": "step",
        "step": 1,
        "epoch": 1,
        "loss": events[0]["loss"],
        "accuracy": events[0]["accuracy"],
    }
    bad = nnview(str(MODELS / "simple.py"), "--data", "moons", "--json")
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["layer"] == "fc1"
    assert "Traceback" not in bad.stderr and "does not fit the model" in bad.stderr
