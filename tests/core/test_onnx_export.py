"""ONNX export (issue 11): the file onnxruntime runs matches PyTorch, with a dynamic batch; failures name the op."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tui.core.example_input import ExampleInput
from tui.core.export.onnx_export import export_onnx
from tui.core.export.out_path import check_onnx_path, free_name_beside, write_onnx
from tui.core.load.inputs import resolve_inputs
from tui.core.load.model_file import LoadedModel, load_model
from tui.core.records import NnviewError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def exported(name: str, tmp_path: Path) -> tuple[LoadedModel, ExampleInput, Path]:
    """Export models/<name>.py with the input nnview infers for it; return the model, the input and the file."""
    loaded = load_model(str(MODELS / f"{name}.py"))
    example = resolve_inputs(loaded, [], 4)
    result = export_onnx(loaded, example, tmp_path / f"{name}.onnx")
    assert result.path == str(tmp_path / f"{name}.onnx") and result.verified
    return loaded, example, Path(result.path)


def run_onnx(path: Path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return np.asarray(out)


@pytest.mark.parametrize(("name", "features"), [("simple", (5,)), ("digits_cnn", (1, 8, 8))])
def test_onnxruntime_matches_pytorch_within_1e_5_at_the_example_and_another_batch(
    tmp_path: Path, name: str, features: tuple[int, ...]
) -> None:
    loaded, example, path = exported(name, tmp_path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    graph_input = onnx.load(str(path)).graph.input[0]
    dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert graph_input.name == "x" and dims == ["batch", *features]
    for batch in (4, 7, 1):  # the example's batch, then others: the batch axis is dynamic
        x = example.args[0][:1].repeat(batch, *[1] * len(features)) + torch.randn(batch, *features)
        with torch.no_grad():
            expected = loaded.model.eval()(x).numpy()
        got = run_onnx(path, x)
        assert got.shape == expected.shape == (batch, 3 if name == "simple" else 10)
        assert float(np.abs(got - expected).max()) <= 1e-5


def test_the_report_prints_the_difference_and_the_tolerance(tmp_path: Path) -> None:
    loaded = load_model(str(MODELS / "simple.py"))
    result = export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "simple.onnx")
    assert result.check is not None and result.batch_check is not None
    assert (result.check.batch, result.check.tolerance, result.batch_check.batch) == (4, 1e-5, 8)
    assert result.check.max_diff is not None and result.check.max_diff <= 1e-5
    lines = result.lines()
    assert lines[1:3] == ["  inputs   x: batch×5 float32", "  outputs  output: batch×3 float32"]
    assert lines[4].startswith(f"  onnxruntime {ort.__version__}: matches PyTorch at batch 4: max |onnx - torch| = ")
    assert lines[4].endswith(" (tolerance 1e-05)")
    assert lines[5].startswith("  dynamic batch: matches PyTorch at batch 8: ")


def test_static_batch_keeps_the_example_size(tmp_path: Path) -> None:
    loaded = load_model(str(MODELS / "simple.py"))
    result = export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "s.onnx", dynamic_batch=False)
    assert result.inputs[0].shape == (4, 5) and result.batch_check is None and result.verified


def test_the_model_is_left_as_it_was(tmp_path: Path) -> None:
    loaded = load_model(str(MODELS / "digits_cnn.py"))
    model = loaded.model.train()
    model.features[0].eval()  # a mix of modes, which model.train(was) would flatten
    model.classifier.weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "d.onnx")
    assert [m.training for m in model.modules()] == [True, True, False, True, True, True, True, True, True]
    assert [p.requires_grad for p in model.parameters()] == [True, True, True, True, False, True]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.is_grad_enabled() and torch.backends.mha.get_fastpath_enabled()


SVD_MODEL = """
import torch
from torch import nn


class Spectrum(nn.Module):
    def forward(self, x):
        return torch.linalg.svd(x)[1]


class SvdNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 5)
        self.blocks = nn.Sequential(nn.ReLU(), Spectrum())

    def forward(self, x):
        return self.blocks(self.fc(x))
"""


def test_an_op_onnx_lacks_is_named_with_its_layer_and_line(tmp_path: Path) -> None:
    source = tmp_path / "svd_net.py"
    source.write_text(textwrap.dedent(SVD_MODEL))
    loaded = load_model(f"{source}:SvdNet")
    with pytest.raises(NnviewError) as caught:
        export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "svd.onnx")
    error = caught.value.record
    assert error.kind == "export"
    assert error.message == "ONNX opset 20 has no translation for aten::linalg_svd"
    assert (error.layer, error.type, error.location) == ("blocks.1", "Spectrum", f"{source}:8")
    assert not (tmp_path / "svd.onnx").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["svd_net.py"]


def test_an_op_added_in_a_later_opset_says_which(tmp_path: Path) -> None:
    model = nn.Sequential(nn.ReLU(), nn.Fold((4, 4), 2))  # aten::col2im: translated from opset 18 on
    loaded = LoadedModel(model, "Sequential", "test", {})
    with pytest.raises(NnviewError) as caught:
        export_onnx(loaded, ExampleInput((torch.randn(2, 4, 9),)), tmp_path / "fold.onnx", opset=17)
    error = caught.value.record
    assert error.message == "ONNX opset 17 has no translation for aten::col2im"
    assert (error.layer, error.type, error.hint) == ("1", "Fold", "pass --opset 18 or later")
    result = export_onnx(loaded, ExampleInput((torch.randn(2, 4, 9),)), tmp_path / "fold.onnx", opset=18)
    assert result.opset == 18 and result.verified


def test_an_existing_file_is_refused_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"mine")
    with pytest.raises(NnviewError) as caught:
        check_onnx_path(target)
    assert caught.value.record.message == f"--onnx {target} already exists"
    assert caught.value.record.hint == "pass --force to replace it, or choose another name"
    with pytest.raises(NnviewError):  # and the write itself never replaces it either
        write_onnx(b"new", target)
    assert target.read_bytes() == b"mine"
    assert check_onnx_path(target, force=True) == target
    assert write_onnx(b"new", target, replace=True) == target and target.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("model.txt", "--onnx {path}: an ONNX file must end in .onnx"),
        ("", "--onnx was given an empty path"),
        ("folder", "--onnx {path} is a folder"),
    ],
)
def test_bad_output_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    path = str(tmp_path / name) if name else ""
    with pytest.raises(NnviewError) as caught:
        check_onnx_path(path)
    assert caught.value.record.message == message.format(path=path)


def test_the_next_free_name_beside_the_model_file(tmp_path: Path) -> None:
    model_file = tmp_path / "net.py"
    assert free_name_beside(model_file) == tmp_path / "net.onnx"
    (tmp_path / "net.onnx").write_bytes(b"")
    (tmp_path / "net-2.onnx").write_bytes(b"")
    assert free_name_beside(model_file) == tmp_path / "net-3.onnx"
    # A name taken between choosing it and writing: the next free one, never the taken file.
    assert write_onnx(b"x", tmp_path / "net-2.onnx", beside=model_file) == tmp_path / "net-3.onnx"
    assert (tmp_path / "net-2.onnx").read_bytes() == b""
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_without_onnx_the_error_names_the_extra_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError, as when not installed
    loaded = load_model(str(MODELS / "simple.py"))
    with pytest.raises(NnviewError) as caught:
        export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "simple.onnx")
    assert caught.value.record.message == "exporting to ONNX needs the onnx package, which is not installed"
    assert caught.value.record.hint == 'install it: pip install -e ".[onnx]" (the onnx and onnxruntime packages)'
    assert list(tmp_path.iterdir()) == []


def test_without_onnxruntime_the_file_is_written_and_checked_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    loaded = load_model(str(MODELS / "simple.py"))
    result = export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "simple.onnx")
    assert (result.runtime, result.check, result.batch_check, result.verified) == (None, None, None, True)
    assert result.findings() == [
        'not run in onnxruntime (not installed): pip install -e ".[onnx]" to compare with PyTorch'
    ]
    onnx.checker.check_model(onnx.load(result.path), full_check=True)


BY_BATCH_MODEL = """
import torch
from torch import nn


class ByBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        if x.shape[0] > 4:  # a Python branch on the batch size: the graph keeps the example's branch
            return self.fc(x) * 2
        return self.fc(x)
"""


def test_a_branch_on_the_batch_size_fails_the_second_batch_and_is_named(tmp_path: Path) -> None:
    source = tmp_path / "by_batch.py"
    source.write_text(BY_BATCH_MODEL)
    loaded = load_model(str(source))
    result = export_onnx(loaded, resolve_inputs(loaded, [], 4), tmp_path / "by_batch.onnx")
    assert result.check is not None and result.check.matches
    assert result.batch_check is not None and result.batch_check.batch == 8 and not result.batch_check.matches
    assert not result.verified and Path(result.path).is_file()  # written: the graph can still be looked at
    findings = result.findings()
    assert findings[1].startswith("dynamic batch: DIFFERS from PyTorch at batch 8: max |onnx - torch| = ")
    assert findings[2:] == [
        "the graph holds only at batch 4: export with --static-batch to fix it there",
        "note: by_batch.py:12: Converting a tensor to a Python boolean might cause the trace to be incorrect;"
        " the file holds the value of this input, not the computation",
    ]
