"""Smoke test of bench/trace.py: the quick mode runs end to end and reports exact, sane numbers (no timing checks)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from bench import meta, nets, trace
from tests.conftest import ROOT

RATIO_COLUMNS = slice(7, 12)  # trace, summary and explorer over torchinfo, summary/plain, torchinfo/plain


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """stdout and the JSON of one ``--quick`` run, in-process."""
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert trace.main(["--quick", "--json", str(out)]) == 0
    return printed.getvalue(), json.loads(out.read_text())


def table_rows(text: str) -> list[list[str]]:
    """The data rows of the Markdown table, as lists of cell texts."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines[1].startswith("|---")
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_table_has_one_row_per_model_and_positive_finite_ratios(quick: tuple[str, dict[str, Any]]) -> None:
    printed, results = quick
    rows = table_rows(printed)
    assert [row[0] for row in rows] == [f"{name} [quick]" for name in nets.BUILDERS]
    assert all(len(row) == 15 for row in rows)
    for row in rows:
        assert row[1] == "2"  # rounds in quick mode
        for cell in row[RATIO_COLUMNS]:
            assert 0 < float(cell) < math.inf
    for model in results["models"]:
        assert set(model["ratios"]) == {
            "trace/torchinfo",
            "summary/torchinfo",
            "explorer/torchinfo",
            "summary/plain",
            "torchinfo/plain",
        }
        assert all(0 < value < math.inf for value in model["ratios"].values())
        assert all(0 < model[key] < math.inf for key in trace.CONTENDERS)
    assert "--meta" not in printed  # the 7B check is skipped in quick mode


def test_quick_gpt_counts_the_tied_weight_once(quick: tuple[str, dict[str, Any]]) -> None:
    model, _ = nets.gpt(quick=True)
    distinct = sum(p.numel() for p in set(model.parameters()))
    gpt = quick[1]["models"][2]
    assert gpt["params_nnview"] == gpt["params_true"] == distinct == 168_192
    assert gpt["params_torchinfo"] == distinct + 1000 * 64  # torchinfo counts the tied head a second time
    # 32 tokens x (Linear weights of 2 blocks + head) + 2 layers x attention (q@k and att@v: 2 * 32 * 32 * 64)
    assert gpt["macs_nnview"] == 32 * (2 * (64 * 192 + 64 * 64 + 2 * 64 * 256) + 64 * 1000) + 2 * 2 * 32 * 32 * 64
    assert (gpt["rows_torchinfo"], gpt["rows_nnview"]) == (26, 25)  # torchinfo also lists the never-called ModuleList
    assert "torchinfo counts 64,000 tied parameters twice (232,192)" in quick[0]


def test_quick_models_exact_counts(quick: tuple[str, dict[str, Any]]) -> None:
    mlp, resnet, _, deep = quick[1]["models"]
    assert mlp["params_true"] == mlp["params_torchinfo"] == mlp["params_nnview"] == 669_706
    assert (mlp["rows_torchinfo"], mlp["rows_nnview"]) == (7, 7)
    assert mlp["macs_nnview"] == 8 * (784 * 512 + 512 * 512 + 512 * 10)
    assert resnet["params_nnview"] == resnet["params_true"] == resnet["params_torchinfo"]
    assert resnet["rows_torchinfo"] == resnet["rows_nnview"] == 42
    assert deep["params_nnview"] == 100 * (64 * 64 + 64)
    assert deep["rows_torchinfo"] == deep["rows_nnview"] == 201
    assert deep["macs_nnview"] == 100 * 16 * 64 * 64


def test_full_size_models_have_the_advertised_shapes() -> None:
    with torch.device("meta"):
        gpt = nets.GPT()
        resnet = nets.ResNet()
    assert nets.distinct_params(gpt) == nets.GPT2_SMALL_PARAMS == 124_439_808
    assert sum(isinstance(m, nets.BasicBlock) for m in resnet.modules()) == 50


def test_headline_gives_nnview_over_torchinfo_and_the_meta_targets() -> None:
    row = trace.ModelRow("MLP", 50, 0.0008, 0.0012, 0.0015, 0.0021, 0.0020, 7, 7, 1, 1, 1, 1, 1)
    children = [
        meta.ChildRun('python -c "import torch"', [], 0.80, 218.0, ""),
        meta.ChildRun("import torch + one meta op", [], 1.59, 292.0, ""),
        meta.ChildRun("nnview summary bench/models/llama7b.py --meta --json", [], 1.88, 307.0, ""),
    ]
    assert trace.render_headline([row], children).splitlines() == [
        "| Model | summary / torchinfo | explorer / torchinfo |",
        "|---|---:|---:|",
        "| MLP | 1.75 | 1.67 |",
        "",
        "`nnview summary bench/models/llama7b.py --meta --json`: 1.88 s (target ≤ 3 s), 307 MiB peak RSS "
        "(target ≤ 500 MiB)",
    ]
    assert trace.render_headline([], []) == ""


def test_meta_check_as_a_script_reports_llama_7b(tmp_path: Path) -> None:
    out = tmp_path / "meta.json"
    command = [sys.executable, "bench/trace.py", "--meta-only", "--meta-repeats", "1", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    results = json.loads(out.read_text())
    assert results["models"] == []
    assert results["meta_totals"]["params"] == meta.LLAMA_PARAMS == 6_738_415_616
    # 128 tokens x Linear weights (layers and head) + attention (2 x 128^2 x 4096 MACs a layer)
    linear = 32 * (4 * 4096**2 + 3 * 4096 * 11008) + 32000 * 4096
    assert results["meta_totals"]["macs"] == 128 * linear + 32 * 2 * 128 * 128 * 4096
    labels = [child["label"] for child in results["meta"]]
    assert labels[2:] == [
        "nnview summary bench/models/llama7b.py --meta --json",
        "nnview summary bench/models/llama7b_module_level.py --meta --json",
    ]
    assert all(child["seconds"] > 0 and child["peak_mib"] > 0 for child in results["meta"])
    assert "6,738,415,616 params (= LLaMA-7B)" in done.stdout
    assert "module-level `model = Llama()` form:" in done.stdout and "the same parameter count" in done.stdout
