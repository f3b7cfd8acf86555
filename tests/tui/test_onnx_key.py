"""The explorer's o key (issue 11): ONNX beside the model file, never over a file, the outcome as a notification."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled
from tui.core.load.model_file import load_model

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.asyncio


def messages(pilot: object) -> list[str]:
    return [n.message for n in pilot.app._notifications]  # type: ignore[attr-defined]


async def test_o_writes_stem_onnx_beside_the_model_then_stem_2(tmp_path: Path) -> None:
    model_file = tmp_path / "simple.py"
    shutil.copy(MODELS / "simple.py", model_file)
    async with explorer(str(model_file)) as (pilot, screen):
        await settled(pilot)  # the first rows of dataset() are traced too
        await pilot.press("o")
        await settled(pilot, "onnx")
        assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".onnx") == ["simple.onnx"]
        text = messages(pilot)[-1].splitlines()
        assert text[0].startswith(f"Wrote {tmp_path / 'simple.onnx'} (ONNX opset 20, ")
        assert text[1].startswith(f"onnxruntime {onnxruntime.__version__}: matches PyTorch at batch 4: max |onnx")
        assert text[2].startswith("dynamic batch: matches PyTorch at batch 8: ")
        first = (tmp_path / "simple.onnx").read_bytes()
        await pilot.press("o")
        await settled(pilot, "onnx")
        assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".onnx") == ["simple-2.onnx", "simple.onnx"]
        assert (tmp_path / "simple.onnx").read_bytes() == first  # never written over
        assert messages(pilot)[-1].startswith(f"Wrote {tmp_path / 'simple-2.onnx'} (")
        assert screen.model is not None and screen.model.training  # exported in eval mode, left in train mode
    model = load_model(str(model_file)).model.eval()
    x = torch.randn(6, 5)
    session = onnxruntime.InferenceSession(str(tmp_path / "simple-2.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x.numpy()})
    with torch.no_grad():
        assert float(np.abs(got - model(x).numpy()).max()) <= 1e-5


SVD_MODEL = """
import torch
from torch import nn


class SvdNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 5)

    def forward(self, x):
        return torch.linalg.svd(self.fc(x))[1]
"""


async def test_a_failed_export_shows_the_op_and_writes_nothing(tmp_path: Path) -> None:
    model_file = tmp_path / "svd_net.py"
    model_file.write_text(SVD_MODEL)
    async with explorer(str(model_file)) as (pilot, screen):
        await pilot.press("o")
        await settled(pilot, "onnx")
        assert messages(pilot)[-1] == (
            f"ONNX opset 20 has no translation for aten::linalg_svd in SvdNet at {model_file}:12"
            " — rewrite that step with operations ONNX has, or move it out of forward"
        )
        assert pilot.app.is_running and pilot.app.screen is screen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svd_net.py"]


async def test_o_before_the_model_loaded_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nraise ValueError('not today')\n")
    async with explorer(str(broken)) as (pilot, screen):
        assert screen.shown == "error"
        await pilot.press("o")
        await pilot.pause()
        assert messages(pilot)[-1] == "Nothing to export yet: wait for the layer table, or fix the error shown"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.py"]


async def test_o_after_a_failed_reload_exports_nothing_stale(tmp_path: Path) -> None:
    model_file = tmp_path / "simple.py"
    shutil.copy(MODELS / "simple.py", model_file)
    async with explorer(str(model_file)) as (pilot, screen):
        await settled(pilot)
        model_file.write_text(model_file.read_text() + "\nraise ValueError('half-edited')\n")
        await pilot.press("r")
        await settled(pilot)
        assert screen.shown == "error" and screen.session.loaded is not None  # the old model is still held
        await pilot.press("o")
        await pilot.pause()
        assert messages(pilot)[-1] == "Nothing to export yet: wait for the layer table, or fix the error shown"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["simple.py"]
