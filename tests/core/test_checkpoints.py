"""Checkpoints round-trip exactly, refuse pickled code, and survive being killed mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from tui.core.load.checkpoints import load_checkpoint, read_checkpoint, save_checkpoint, sidecar
from tui.core.records import NnviewError


def tied() -> nn.Sequential:
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    model[1].weight = model[0].weight
    return model


def test_round_trip_gives_identical_tensors_and_keeps_ties(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = tied()
    path = save_checkpoint(tmp_path / "w.safetensors", model, {"epoch": 3, "lr": 0.01})
    torch.manual_seed(2)
    other = tied()
    assert load_checkpoint(path, other) == {"epoch": 3, "lr": 0.01}
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True))
    assert other[1].weight is other[0].weight
    assert sidecar(path).name == "w.safetensors.json"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    torch.save({"weight": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(NnviewError) as caught:
        load_checkpoint(tmp_path / "evil.pt", nn.Linear(2, 2))
    assert caught.value.record.kind == "load"
    assert "refused to load" in caught.value.record.message
    assert not marker.exists()


def test_plain_state_dict_files_load_with_weights_only(tmp_path: Path) -> None:
    model = nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    fresh = nn.Linear(3, 2)
    load_checkpoint(tmp_path / "plain.pt", fresh)
    assert torch.equal(fresh.weight, model.weight)


def test_wrong_shapes_name_the_mismatch(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", nn.Linear(3, 2), {})
    with pytest.raises(NnviewError) as caught:
        load_checkpoint(path, nn.Linear(4, 2))
    assert "do not fit this model" in caught.value.record.message
    assert "weight" in caught.value.record.message
    with pytest.raises(NnviewError) as caught:
        load_checkpoint(tmp_path / "missing.safetensors", nn.Linear(3, 2))
    assert "does not exist" in caught.value.record.message


WRITER = """
import sys, torch
from torch import nn
from tui.core.load.checkpoints import save_checkpoint
path = sys.argv[1]
model = nn.Linear(1000, 1000)
print("ready", flush=True)
version = 0
while True:
    version += 1
    with torch.no_grad():
        model.weight.fill_(version)
        model.bias.fill_(version)
    save_checkpoint(path, model, {"version": version})
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_during_writes_leaves_a_whole_consistent_pair(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "live.safetensors"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = Path(__file__).resolve().parents[2]
    for delay in (0.3, 0.55, 0.8, 1.05):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], cwd=root, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == -signum
        if not path.exists():
            continue
        model = nn.Linear(1000, 1000)
        read = read_checkpoint(path, model)  # never a partial file
        value = float(model.weight[0, 0].detach())
        assert value >= 1 and torch.all(model.weight == value) and torch.all(model.bias == value)
        # The record always matches the weights: the sidecar's, or (killed between the renames) their own.
        assert read.info == {"version": int(value)}, (read.info, value, read.notes)
    assert path.exists()
