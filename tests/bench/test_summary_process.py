"""bench/summary_process.py: the table it prints from given times, and one real quick round on SimpleNN."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from bench import summary_process
from bench.summary_process import Timing


def test_table_reports_medians_in_ms_and_the_worst_ratio() -> None:
    timings = [
        Timing("simple", [0.70, 0.72, 0.90], [0.80, 0.81, 0.83]),
        Timing("deep5k", [1.30, 1.25, 1.20], [1.25, 1.30, 1.40]),
    ]
    assert summary_process.render(timings, 3, quick=False).splitlines() == [
        "Whole processes, 3 interleaved round(s), medians, stdout to a pipe at COLUMNS=100:",
        "",
        "| Model | `nnview summary FILE` ms (min–max) | torchinfo `python -c` ms (min–max) | nnview / torchinfo |",
        "|---|---:|---:|---:|",
        "| models/simple.py | 720 (700–900) | 810 (800–830) | **0.89** |",
        "| bench/models/deep5k.py | 1250 (1200–1300) | 1300 (1250–1400) | **0.96** |",
        "",
        "Worst ratio: **0.96** (target ≤ 1.0 on every model)",
    ]


def test_headline_gives_each_ratio_and_the_worst() -> None:
    timings = [
        Timing("simple", [0.70, 0.72, 0.90], [0.80, 0.81, 0.83]),
        Timing("deep5k", [1.30, 1.25, 1.20], [1.25, 1.30, 1.40]),
    ]
    assert summary_process.render_headline(timings) == (
        "`nnview summary FILE` / `python -c` torchinfo, whole processes: models/simple.py 0.89, "
        "bench/models/deep5k.py 0.96; worst **0.96** (target ≤ 1.0)"
    )


def test_unknown_model_names_are_refused() -> None:
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        summary_process.parse_args(["--models", "simple,resnet"])


def test_one_quick_round_times_both_programs_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert summary_process.main(["--quick", "--models", "simple", "--json", str(out)]) == 0
    rows = [line for line in printed.getvalue().splitlines() if line.startswith("| models/")]
    assert len(rows) == 1 and rows[0].startswith("| models/simple.py | ")
    (model,) = json.loads(out.read_text())["models"]
    assert model["model"] == "simple"
    assert len(model["nnview"]) == len(model["torchinfo"]) == 1
    assert 0 < model["ratio"] < 10
