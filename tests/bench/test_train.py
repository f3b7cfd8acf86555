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
from typing import Any

import pytest

from bench import train
from bench.explorer import LoopRun, Messages
from tui.core.train.loop import TrainingUpdate
from tui.core.train.records import StepRecord
from tui.messages import TraceReady, TrainingLiveView, TrainingProgress, TrainingStopped

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
    for row in where:
        assert len(row) == 5
        assert all(0 < number(cell.rstrip("%")) < math.inf for cell in row[1:]), row
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
            # the first update comes after the first step, the final one after the last: at least two
            assert 2 <= stats["updates"] <= m["steps"]
            # a re-trace and a live view at least every second, and always one after the last step
            assert stats["retraces"] >= 1 and stats["live_views"] >= 1
            assert 0 < stats["ui_cpu"] and m["seconds"] < stats["wall"]
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


def test_terminal_bytes_are_counted_over_a_window_that_keeps_training(quick: tuple[str, dict[str, Any]]) -> None:
    printed, results = quick
    (run,) = results["terminal"]
    for key in ("idle_bytes", "open_bytes", "training_bytes", "steady_bytes"):
        assert isinstance(run[key], int), key
    assert run["idle_bytes"] >= 0 and run["open_bytes"] > 0
    assert 0 < run["steady_bytes"] <= run["training_bytes"]  # the steady window is the training window's tail
    # --quick: 2 s windows, the steady one without the first second
    assert run["idle_seconds"] >= 2.0 and run["open_seconds"] > 0
    assert (run["training_seconds"], run["steady_seconds"]) == (2.0, 1.0)
    assert run["steady_rate"] == run["steady_bytes"] / 1.0
    # simple_long.py trains on through the window: more steps than models/simple.py's 100 epochs of 25
    assert run["shown_step"] is not None and run["shown_step"] > 1 and run["shown_rate"] is not None
    assert run["exit_code"] == 0
    assert f"`nnview {train.LONG} --no-watch`" in printed


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


def update(step: int, steps: int, rate: float, final: bool = False) -> TrainingUpdate:
    """An update after ``step`` steps, the last ``steps`` of them new, the loop's rate ``rate``."""
    records = tuple(StepRecord(n, 1, 0.5, None) for n in range(step - steps + 1, step + 1))
    return TrainingUpdate(1, 10, step, 25, False, 0.01, rate, records, final=final)


def test_messages_group_updates_by_walk_and_count_each_bubbled_message_once() -> None:
    messages = Messages()
    first = [TrainingProgress(update(1, 1, 500.0)), TrainingProgress(update(40, 39, 800.0, final=True))]
    for message in first:
        messages(message)
        messages(message)  # dispatched again at the app: the message bubbled up from the screen
    messages(TrainingStopped("paused"))
    messages(TraceReady(None, None, "training"))  # type: ignore[arg-type]
    messages(TraceReady(None, None, "new batch"))  # type: ignore[arg-type]
    messages(TrainingLiveView(None))  # type: ignore[arg-type]
    messages(TrainingProgress(update(41, 1, 100.0)))  # the next `t`: a second walk, from step 40
    messages(TrainingProgress(update(100, 59, 600.0, final=True)))
    assert [len(loop.updates) for loop in messages.loops] == [2, 2]
    walk, again = messages.loops
    assert (walk.start_step, walk.steps, walk.seconds) == (0, 40, 40 / 800.0)
    assert (again.start_step, again.steps, again.seconds) == (40, 60, 60 / 600.0)
    assert (messages.retraces, messages.live_views, messages.traces) == (1, 1, ["new batch"])
    assert [stop.reason for stop in messages.stops] == ["paused"]


def test_a_walk_in_progress_counts_up_to_its_last_update() -> None:
    walk = LoopRun(10, [update(11, 1, 400.0), update(30, 19, 500.0)])
    assert not walk.ended and (walk.steps, walk.seconds) == (20, 20 / 500.0)


def test_headline_states_the_ratios_at_equal_threads_and_the_targets() -> None:
    row = train.StepsRow("simple", 500, 5, 2, 1, 1000.0, 1200.0, 1140.0, 960.0, 6.0, 1.0, 1.0, 0.4)
    keys = train.LatencyRun("simple", idle=[0.02] * 20, training=[0.03] * 19 + [0.09])
    run = train.BytesRun(0, 5.0, 4000, 1.2, 50_000, 5.0, 32_000, 4.0, 9000, 2500, 0)
    assert train.render_headline([row], [keys], [run]).splitlines() == [
        "| Model | `nnview train` / seed loop (≥ 0.95) | TUI / seed loop (≥ 0.9) "
        "| key p95 idle / training, ms (≤ 50) |",
        "|---|---:|---:|---:|",
        "| models/simple.py | 0.95 | 0.80 | 20 / 33 |",
        "",
        "Ratios over the seed's loop run with nnview's thread count, (a′) in the full table.",
        "Terminal while training `bench/models/simple_long.py` at 120x40: 10,000 B/s over the window, "
        "8,000 B/s steady (target ≤ 10 KB/s); idle 0 B/s (target 0).",
    ]
