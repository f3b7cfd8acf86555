"""`nnview export FILE --onnx OUT.onnx` through the real console entry point in a subprocess (issue 11).

Every run costs a torch import (~2 s), so all of them start at once in one module fixture, each in a
folder of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

from tui.core.load.model_file import load_model

onnxruntime = pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[2]
SVD_MODEL = textwrap.dedent(
    """
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
)
BROKEN = str(ROOT / "tests/core/broken/forward_valueerror.py")
SIMPLE = str(ROOT / "models/simple.py")
DIGITS = str(ROOT / "models/digits_cnn.py")
RUNS: dict[str, list[str]] = {
    "simple": ["export", SIMPLE, "--onnx", "out/simple.onnx"],
    "exists": ["export", SIMPLE, "--onnx", "taken.onnx"],
    "forced": ["export", DIGITS, "--onnx", "taken.onnx", "--force", "--static-batch", "--opset", "17"],
    "svd": ["export", "svd_net.py:SvdNet", "--onnx", "svd.onnx"],
    "svd_debug": ["export", "svd_net.py:SvdNet", "--onnx", "svd.onnx", "--debug"],
    "broken": ["export", BROKEN, "--onnx", "broken.onnx"],
    "broken_summary": ["summary", BROKEN],
    "opset": ["export", SIMPLE, "--onnx", "simple.onnx", "--opset", "30"],
    "no_onnx_flag": ["export", SIMPLE],
}


def _run(folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "svd_net.py").write_text(SVD_MODEL)
    (folder / "taken.onnx").write_bytes(b"someone's file")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    base = tmp_path_factory.mktemp("export")
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures = {name: pool.submit(_run, base / name, args) for name, args in RUNS.items()}
        return {name: (base / name, future.result()) for name, future in futures.items()}


def test_simple_exports_matches_pytorch_and_prints_the_tolerance(runs: dict) -> None:
    folder, run = runs["simple"]
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("wrote out/simple.onnx (") and lines[0].endswith(
        "KiB, ONNX opset 20, TorchScript exporter of torch 2.13.0)"
    )
    assert lines[1:4] == [
        "  inputs   x: batch×5 float32",
        "  outputs  output: batch×3 float32",
        "  onnx.checker: the file is a valid ONNX model",
    ]
    assert lines[4].startswith(f"  onnxruntime {onnxruntime.__version__}: matches PyTorch at batch 4: max |onnx")
    assert lines[4].endswith("(tolerance 1e-05)")
    assert lines[5].startswith("  dynamic batch: matches PyTorch at batch 8: ")
    netron = "open it in Netron: `netron out/simple.onnx` (pip install netron), or drop it on the page at netron.app"
    assert lines[6] == netron
    assert run.stderr == ""
    # A batch the export never saw, run by the file alone: it matches the model within 1e-5.
    model = load_model(SIMPLE).model.eval()
    x = torch.randn(11, 5, generator=torch.Generator().manual_seed(3))
    session = onnxruntime.InferenceSession(str(folder / "out/simple.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"x": x.numpy()})
    with torch.no_grad():
        assert got.shape == (11, 3) and float(np.abs(got - model(x).numpy()).max()) <= 1e-5


def test_an_existing_file_is_refused_and_kept(runs: dict) -> None:
    folder, run = runs["exists"]
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        "error [save]: --onnx taken.onnx already exists\n  fix: pass --force to replace it, or choose another name\n"
    )
    assert (folder / "taken.onnx").read_bytes() == b"someone's file"
    assert sorted(p.name for p in folder.iterdir()) == ["svd_net.py", "taken.onnx"]


def test_force_replaces_it_at_the_opset_and_batch_asked(runs: dict) -> None:
    folder, run = runs["forced"]
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("wrote taken.onnx (") and ", ONNX opset 17, " in run.stdout
    assert "  inputs   x: 4×1×8×8 float32" in run.stdout and "dynamic batch" not in run.stdout
    assert (folder / "taken.onnx").stat().st_size > 16_000


def test_an_op_onnx_lacks_is_named_with_its_layer_without_a_traceback(runs: dict) -> None:
    folder, run = runs["svd"]
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        "error [export] in blocks.1 (Spectrum): ONNX opset 20 has no translation for aten::linalg_svd\n"
        "  at:       svd_net.py:8\n"
        "  fix: rewrite that step with operations ONNX has, or move it out of forward\n"
    )
    assert not (folder / "svd.onnx").exists()
    _, debug = runs["svd_debug"]
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert "torch.onnx.errors.UnsupportedOperatorError: Exporting the operator 'aten::linalg_svd'" in debug.stderr


def test_a_model_file_with_an_error_gets_the_usual_error_view(runs: dict) -> None:
    folder, run = runs["broken"]
    _, summary = runs["broken_summary"]
    assert run.returncode == summary.returncode == 2
    assert run.stderr == summary.stderr and run.stderr.startswith("error [forward]")
    assert "Traceback" not in run.stderr and not (folder / "broken.onnx").exists()


def test_bad_arguments_are_answered_before_loading(runs: dict) -> None:
    _, opset = runs["opset"]
    assert opset.returncode == 2
    assert opset.stderr == (
        "error [input]: --opset 30: torch 2.13.0 exports ONNX opsets 7 to 20\n"
        "  fix: pass --opset 20 (or leave it out for the exporter's default)\n"
    )
    _, missing = runs["no_onnx_flag"]
    assert missing.returncode == 2
    assert missing.stderr.startswith("error [input]: the following arguments are required: --onnx\n")
