"""Smoke test of bench/train.py: ``--quick`` runs end to end and counts exactly what it was asked (no timing checks).

The quick run pins every contender to one torch thread (``--threads 1``): on a 2-core machine with a busy neighbour,
torch's two OpenMP threads can slow a step of these tiny models a hundredfold, and the test's duration must not
depend on that. The thread bookkeeping of an unpinned run is checked on its own, with one-thread steps only.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import train  # noqa: E402
from bench.trace import write_readme  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("nnview") is None, reason="the nnview console script is not installed")

QUICK_PRESSES = 5
# --quick trains 2 epochs of models/simple.py (800 samples / 32 = 25 steps each) and 1 epoch of
# models/fashion_mlp.py (1,437 training digits / 32 -> 45 steps).
QUICK_STEPS = {"simple": 2 * 25, "fashion_mlp": 1 * 45}


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """stdout and the JSON of one ``--quick`` run, in-process."""
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert train.main(["--quick", "--threads", "1", "--json", str(out)]) == 0
    return printed.getvalue(), json.loads(out.read_text())


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table in ``text``: its data rows as lists of cell texts."""
    found: list[list[list[str]]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            assert current[1].startswith("|---")
            found.append([[cell.strip() for cell in row.strip("|").split("|")] for row in current[2:]])
            current = []
    return found


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_steps_table_has_one_row_per_model_with_positive_finite_rates(quick: tuple[str, dict[str, Any]]) -> None:
    printed, results = quick
    steps, where, latency, terminal = tables(printed)
    assert [row[0] for row in steps] == list(train.MODELS.values())
    for row in steps:
        assert len(row) == 11
        assert number(row[1]) in QUICK_STEPS.values() and row[2] == "1"
        for cell in row[3:]:  # four rates, four ratios
            assert 0 < number(cell) < math.inf, row
    assert [row[0] for row in where] == list(train.MODELS.values())
    for model in results["steps"]:
        for key in ("seed", "seed_nnview_threads", "headless", "tui"):
            assert 0 < model[key] < math.inf, (model["model"], key)
        assert all(0 < value < math.inf for value in model["ratios"].values())
    assert len(latency) == len(train.MODELS) and len(terminal) == 1


def test_every_contender_trained_exactly_the_steps_asked(quick: tuple[str, dict[str, Any]]) -> None:
    results = quick[1]
    assert results["expected_steps"] == QUICK_STEPS
    contenders: dict[str, list[str]] = {}
    for m in results["measurements"]:
        assert m["steps"] == QUICK_STEPS[m["model"]], m
        assert 0 < m["seconds"] < math.inf and 0 < m["rate"] < math.inf
        assert m["threads"] >= 1
        contenders.setdefault(m["model"], []).append(m["contender"])
        if m["contender"] == "tui":
            stats = m["tui"]
            assert stats["frames"] > 0 and stats["live_views"] > 0
            assert 0 < stats["in_step"] <= m["seconds"] and stats["ui_cpu"] > 0
        else:
            assert m["tui"] is None
    for model, names in contenders.items():
        assert {"seed", "headless", "tui"} <= set(names), model
        assert len(names) == len(set(names))  # one round each in quick mode


def test_every_key_press_was_answered_and_timed(quick: tuple[str, dict[str, Any]]) -> None:
    results = quick[1]
    assert results["presses"] == QUICK_PRESSES
    assert [run["model"] for run in results["latency"]] == list(train.MODELS)
    for run in results["latency"]:
        # Every press is accounted for: answered (timed) or missed (not answered within PRESS_TIMEOUT).
        assert len(run["idle"]) + run["missed_idle"] == QUICK_PRESSES
        assert len(run["training"]) + run["missed_training"] == QUICK_PRESSES
        assert all(0 < x < train.PRESS_TIMEOUT for x in run["idle"] + run["training"])
        assert run["training_steps"] >= 0 and run["training_seconds"] > 0


def test_terminal_bytes_are_counted_and_the_program_quits(quick: tuple[str, dict[str, Any]]) -> None:
    (run,) = quick[1]["terminal"]
    for key in ("idle_bytes", "open_bytes", "training_bytes"):
        assert isinstance(run[key], int), key
    assert run["idle_bytes"] >= 0 and run["open_bytes"] > 0 and run["training_bytes"] > 0
    assert run["idle_seconds"] > 0 and run["training_seconds"] > 0 and run["open_seconds"] > 0
    assert run["shown_step"] is not None and run["shown_step"] > 0
    assert run["exit_code"] == 0


def test_unpinned_seed_loop_is_labelled_by_its_thread_count() -> None:
    setup = train.prepare("simple", train.MODELS["simple"], 1)
    assert setup.pin is None and setup.seed_threads == train.DEFAULT_THREADS
    assert setup.steps == 25 and 1 <= setup.nnview_threads <= train.DEFAULT_THREADS
    run = train.seed_loop(setup, 1)
    assert run.steps == 25 and run.threads == 1
    assert run.contender == ("seed" if train.DEFAULT_THREADS == 1 else "seed_nnview_threads")


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert train.percentile(values, 50) == 10.5
    assert train.percentile(values, 95) == pytest.approx(19.05)
    assert train.percentile([3.0], 95) == 3.0
    assert math.isnan(train.percentile([], 50))


def test_readme_has_the_markers_and_write_readme_replaces_only_between_them(tmp_path: Path) -> None:
    start, end = train.MARKERS
    text = (ROOT / "README.md").read_text()
    assert text.index(start) < text.index(end)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{start}\nold\n{end}\n\n<!-- bench:trace -->\nkeep\n<!-- /bench:trace -->\n")
    write_readme("| new |", readme, train.MARKERS)
    assert readme.read_text() == (
        f"# x\n\n{start}\n| new |\n{end}\n\n<!-- bench:trace -->\nkeep\n<!-- /bench:trace -->\n"
    )
