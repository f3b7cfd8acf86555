"""Training speed and responsiveness: the seed's loop, ``nnview train`` and the TUI side by side; keys and bytes.

Run from the repository root, either way::

    python bench/train.py              # 5 rounds per model, 50 presses per phase, 2 terminal runs (3-7 min)
    python -m bench.train --quick      # 1 round of a few dozen steps, 5 presses per phase, 2 s windows (30-60 s)

Flags:
    --quick             1 round, 2 epochs of models/simple.py (50 steps) and 1 of models/fashion_mlp.py (45 steps),
                        5 presses per phase, 1 terminal run with 2-second windows.
    --rounds N          rounds of every contender per model, the order rotating every round (default 5; 1 with
                        ``--quick``). Medians are reported.
    --simple-epochs N   epochs of models/simple.py per measurement (default 20 = 500 steps; 2 with ``--quick``).
    --mlp-epochs N      epochs of models/fashion_mlp.py per measurement (default 10 = 450 steps; 1 with ``--quick``).
    --presses N         key presses per phase (idle, training) and model for the latency (default 50; 5 with
                        ``--quick``), in blocks of 10 that alternate idle and training.
    --seconds S         length of the idle and the training windows in the terminal (default 5; 2 with ``--quick``).
    --pty-runs N        runs of the real program in a pseudo-terminal (default 2; 1 with ``--quick``); medians.
    --threads N         pin every contender (and the latency app) to N torch threads, nnview through its own
                        ``threads`` setting (``nnview train --threads N``): the like-for-like comparison on a
                        machine where a busy neighbour makes torch's default thread count erratic. The pty run
                        keeps nnview's own choice.
    --json PATH         also write the raw numbers as JSON.
    --write-results     write the tables into bench/RESULTS.md and the headline (training speed over the seed's
                        loop at equal threads, key p95, terminal bytes while training, beside their targets) into
                        README.md, each between ``<!-- bench:train -->`` and ``<!-- /bench:train -->``, with a note
                        of the machine and this command (``bench/results.py``).

What is measured, all in one process except part 3. The TUI is watched through public surfaces only
(``bench/explorer.py``): the messages its workers post, seen through ``run_test``'s ``message_hook``; keys sent
with ``App.simulate_key``; frames awaited with ``Screen.call_after_refresh``. Nothing is patched or wrapped.

1. **Steps per second** on models/simple.py and models/fashion_mlp.py, every contender training a fresh model
   (``load_model``: same file, same seed, same weights) for the same number of steps on the same tensors, with the
   batch size, optimizer and learning rate nnview uses for the file (Adam, lr 0.01, batches of 32), rounds
   interleaved with a rotating order and ``gc.collect()`` before each:

   - (a) **seed loop**: the seed's code written out here: for each slice of 32, ``optimizer.zero_grad()``,
     forward, ``CrossEntropyLoss``, ``backward()``, ``optimizer.step()``, ``loss.item()``,
     ``_, predicted = torch.max(outputs.data, 1)`` and the correct/total counts; validation at each epoch end.
     It runs with torch's default thread count, as the seed does in a process of its own. When nnview picks
     another thread count for the file (one thread for steps under 50M MACs), the same loop is also timed with
     that count: (a′), the like-for-like reference for nnview's own overhead.
   - (b) **nnview train**: ``train(open_training(TrainOptions(FILE, epochs=N)))`` iterated to the end, i.e. what
     ``nnview train FILE --epochs N`` runs, without the progress bar; timed from the first step to the last event.
   - (c) **TUI**: ``NnviewApp(SessionOptions(FILE), watch=False).run_test(size=(120, 40))``; once the layer table
     is shown, the explorer's trainer is made (``session.ensure_trainer()``, as ``t`` would) and set to N epochs
     (``Trainer.reconfigure``, as the ``e`` form does), then ``t`` is pressed and the app trains to the end on its
     worker thread, with the live table, progress, curves and health it always shows. Steps/s come from the
     update stream: every ``TrainingProgress(update)`` the screen receives carries the step count and the loop's
     own rate since it started (``update.steps_per_second``); the last update's gives steps / (loop start to the
     last step). Threads: ``torch.get_num_threads()`` on the UI thread once the trainer is made (the worker
     starts from it). Diagnostics, per second of that time: updates the screen received, live-table re-traces
     (``TraceReady``, reason ``training``) and live views (``TrainingLiveView``: layer health, and the decision
     boundary for 2-D inputs); and the UI thread's CPU time (``time.thread_time`` on the event loop) over the wall
     time from ``t`` to the ``TrainingStopped`` message. The frame counts, the UI CPU per frame and the time inside
     ``Trainer.step`` that earlier versions reported are gone: Textual has no public hook per frame, and timing
     the steps meant wrapping the trainer.

   Steps/s are medians over the rounds; ratios are of the medians (targets: (b) >= 0.95 and (c) >= 0.9 of the
   seed loop at equal threads, i.e. of (a′)).

2. **Key latency** in the same run_test app (120 x 40) on each model, the trainer set to a million epochs so it
   never finishes: ``n`` or ``p`` (whichever moves between the first two rows) pressed (``App.simulate_key``) every
   100 ms (or as soon as the previous press was answered, if that took longer), in blocks of 10 presses that
   alternate *idle* (nothing training, the reference) and *training* (``t`` pressed, steps running). A press's
   latency runs from just before the key is posted to the first refresh of the screen (``call_after_refresh``,
   stamped right after the frame; headless, the frame is not encoded to escape codes) after which the table cursor
   is on the new row, the explorer's ``selected`` is that layer, and the detail panel's first line
   (``#detail-facts``) names it; a screen with nothing to draw is looked at every 2 ms, so a stamp is at most that
   late. A press not answered within 2 s is counted as missed, and as *lost* if by then the cursor and the
   selection are back on the row it started from (a live-table rebuild put the cursor back before the selection
   reached the explorer, and nothing moved). p50 and p95 (target p95 <= 50 ms, idle and while training). Steps/s
   while pressing: the training phases' steps over their loops' own time, from their last updates.

3. **Bytes to the terminal**: the installed ``nnview bench/models/simple_long.py --no-watch`` (models/simple.py set
   to a million epochs, so that it trains through the whole window; models/simple.py itself finishes in under a
   second) runs in a fresh 120 x 40 pty read by this process (``bench/terminal.py``; ``TERM=xterm-256color``, no
   ``COLORTERM``). After the table is on screen and the output has been quiet for 300 ms: ``--seconds`` idle, then
   ``t``; the training window is the ``--seconds`` that follow the first frame showing the training status line
   (the time from ``t`` to that frame and the bytes meanwhile are reported apart). Two figures: B/s over the whole
   window, and *steady* B/s over the same window less its first second (when the training panel first appears).
   Then ``q``, ``d`` (quit without saving) and the exit status. Target <= 10 KB/s while training; idle stays 0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tui`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from textual.widgets import Static
from torch import nn

from bench.explorer import Messages, first_refresh, open_explorer
from bench.results import command_line, machine_note, write_results
from bench.terminal import COLS, ROWS, TIMEOUT, PtyRun, Screen, has_line, nnview_command, simple_table
from tui.app import NnviewApp
from tui.core.load.datasets import TrainingData
from tui.core.load.model_file import load_model
from tui.core.session import SessionOptions
from tui.core.train.run import TrainOptions, open_training, train
from tui.core.train.trainer import TrainConfig
from tui.screens.explorer import ExplorerScreen
from tui.widgets.layer_table import LayerTable

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"simple": "models/simple.py", "fashion_mlp": "models/fashion_mlp.py"}
SIZE = (COLS, ROWS)
DEFAULT_THREADS = torch.get_num_threads()  # what a fresh process (the seed's script) gets
PRESS_INTERVAL = 0.1
PRESS_TIMEOUT = 2.0
BLOCK = 10  # presses per block; blocks alternate idle and training
ENDLESS_EPOCHS = 1_000_000
LONG = "bench/models/simple_long.py"  # models/simple.py training for a million epochs
LONG_TABLE = simple_table(LONG)
TRAINING_SHOWN = has_line(r"training\s+epoch \d+/\d+\s+step \d+")
QUIT_ASKED = has_line(r"training steps are not saved")
STEADY_AFTER = 1.0  # seconds of the training window left out of the steady rate: the panel appearing
TARGETS = {"headless": 0.95, "tui": 0.9, "key_p95_ms": 50.0, "training_bytes_per_s": 10_000}


# --- 1. steps per second ---------------------------------------------------------------------------------------


@dataclass
class TuiStats:
    """What the TUI's screen received while training, and the UI thread's CPU time."""

    updates: int = 0  # TrainingProgress messages
    retraces: int = 0  # TraceReady with reason "training": the live table re-traced
    live_views: int = 0  # TrainingLiveView messages: layer health (and the decision boundary for 2-D inputs)
    ui_cpu: float = 0.0  # the UI (event loop) thread's CPU time from t to TrainingStopped
    wall: float = 0.0  # wall time from t to TrainingStopped


@dataclass
class Measurement:
    """One contender training one model once."""

    model: str
    contender: str
    threads: int  # torch threads the steps ran with
    steps: int
    seconds: float
    tui: TuiStats | None = None

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


@dataclass
class Setup:
    """One model file and what nnview trains it with."""

    name: str
    model_ref: str
    epochs: int
    data: TrainingData
    config: TrainConfig  # the file's hyperparameters, epochs replaced
    steps_per_epoch: int
    nnview_threads: int  # the thread count nnview's Trainer picked for it (``pin`` when given)
    pin: int | None = None  # --threads: every contender runs with this many threads

    @property
    def seed_threads(self) -> int:
        """The seed loop's threads: torch's default in a fresh process, unless pinned."""
        return self.pin or DEFAULT_THREADS

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def open_headless(target: str, epochs: int, pin: int | None = None) -> Any:
    """``open_training`` as ``nnview train FILE --epochs N [--threads PIN]`` calls it, from torch's default."""
    torch.set_num_threads(DEFAULT_THREADS)
    config = TrainConfig(epochs=epochs, threads=pin)
    return open_training(TrainOptions(target, config=config, explicit=("epochs", "threads") if pin else ("epochs",)))


def prepare(name: str, target: str, epochs: int, pin: int | None = None) -> Setup:
    """Load the file once: its data, nnview's config and thread choice; check the seed loop matches it."""
    session = open_headless(target, epochs, pin)
    trainer = session.trainer
    if not isinstance(trainer.optimizer, torch.optim.Adam) or trainer.loss_name != "cross_entropy":
        used = f"{type(trainer.optimizer).__name__} and {trainer.loss_name}"
        raise SystemExit(f"{target}: nnview trains it with {used}; the seed loop here uses Adam and cross-entropy")
    threads = torch.get_num_threads()
    torch.set_num_threads(DEFAULT_THREADS)
    return Setup(name, target, epochs, session.data, session.config, trainer.steps_per_epoch, threads, pin)


def seed_loop(setup: Setup, threads: int) -> Measurement:
    """(a) The seed's training loop on a fresh model, with nnview's data, batch size, optimizer and lr."""
    torch.set_num_threads(threads)
    model = load_model(setup.model_ref).model
    criterion = nn.CrossEntropyLoss()
    lr = setup.config.lr if setup.config.lr is not None else 0.01
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    X_train, y_train, X_val, y_val = setup.data.x_train, setup.data.y_train, setup.data.x_val, setup.data.y_val
    batch_size, steps = setup.config.batch_size, 0
    gc.collect()
    began = time.perf_counter()
    for _epoch in range(setup.epochs):
        model.train()
        epoch_train_loss = 0.0
        correct_train: float = 0
        total_train = 0
        for i in range(0, len(X_train), batch_size):
            batch_X = X_train[i : i + batch_size]
            batch_y = y_train[i : i + batch_size]
            optimizer.zero_grad()
            outputs = model(batch_X)
            loss = criterion(outputs, batch_y)
            loss.backward()
            optimizer.step()
            epoch_train_loss += loss.item()
            _, predicted = torch.max(outputs.data, 1)
            total_train += batch_y.size(0)
            correct_train += (predicted == batch_y).sum().item()
            steps += 1
        model.eval()
        with torch.no_grad():
            val_outputs = model(X_val)
            val_loss = criterion(val_outputs, y_val)
            _, val_predicted = torch.max(val_outputs.data, 1)
            _val_accuracy = (val_predicted == y_val).sum().item() / len(y_val)
            val_loss.item()
    seconds = time.perf_counter() - began
    contender = "seed" if threads == setup.seed_threads else "seed_nnview_threads"
    return Measurement(setup.name, contender, threads, steps, seconds)


def headless(setup: Setup) -> Measurement:
    """(b) What ``nnview train FILE --epochs N`` runs, without the progress bar."""
    session = open_headless(setup.model_ref, setup.epochs, setup.pin)
    threads = torch.get_num_threads()
    gc.collect()
    began = time.perf_counter()
    for _event in train(session, None):
        pass
    seconds = time.perf_counter() - began
    return Measurement(setup.name, "headless", threads, session.trainer.step_count, seconds)


async def tui_async(setup: Setup) -> Measurement:
    torch.set_num_threads(DEFAULT_THREADS)
    messages = Messages()
    app = NnviewApp(SessionOptions(setup.model_ref), watch=False)
    async with app.run_test(size=SIZE, message_hook=messages):
        screen = await open_explorer(app, messages, TIMEOUT)
        trainer = screen.session.ensure_trainer()
        trainer.reconfigure(replace(trainer.config, epochs=setup.epochs))
        if setup.pin:  # the worker threads start from the process's setting
            torch.set_num_threads(setup.pin)
        threads = torch.get_num_threads()
        gc.collect()
        ui_cpu, began = time.thread_time(), time.perf_counter()
        app.simulate_key("t")
        await messages.wait(lambda: bool(messages.stops), 60 + setup.steps, "the training to finish")
        stats = TuiStats(ui_cpu=time.thread_time() - ui_cpu, wall=time.perf_counter() - began)
    stopped = messages.stops[0]
    if stopped.reason != "done" or len(messages.loops) != 1:
        raise SystemExit(f"{setup.model_ref}: the TUI stopped training ({stopped.reason}): {stopped.error}")
    loop = messages.loops[0]
    stats.updates, stats.retraces, stats.live_views = len(loop.updates), messages.retraces, messages.live_views
    return Measurement(setup.name, "tui", threads, loop.steps, loop.seconds, stats)


def tui(setup: Setup) -> Measurement:
    """(c) The TUI training headlessly at 120 x 40, the live table and panel updating as they always do."""
    return asyncio.run(tui_async(setup))


def bench_steps(setup: Setup, rounds: int) -> list[Measurement]:
    """Every contender once per round, the order rotating every round."""
    calls: dict[str, Callable[[], Measurement]] = {
        "seed": lambda: seed_loop(setup, setup.seed_threads),
        "headless": lambda: headless(setup),
        "tui": lambda: tui(setup),
    }
    if setup.nnview_threads != setup.seed_threads:
        calls["seed_nnview_threads"] = lambda: seed_loop(setup, setup.nnview_threads)
    order = list(calls)
    results = []
    for round_ in range(rounds):
        for key in order[round_ % len(order) :] + order[: round_ % len(order)]:
            results.append(calls[key]())
    torch.set_num_threads(DEFAULT_THREADS)
    return results


@dataclass
class StepsRow:
    """One model's medians (steps/s) over its rounds."""

    model: str
    steps: int
    rounds: int
    threads_default: int
    threads_nnview: int
    seed: float
    seed_nnview_threads: float
    headless: float
    tui: float
    tui_updates_per_s: float
    tui_retraces_per_s: float
    tui_live_views_per_s: float
    tui_ui_busy: float  # UI-thread CPU time / wall time, t to TrainingStopped

    @property
    def label(self) -> str:
        return MODELS[self.model]

    @property
    def ratios(self) -> dict[str, float]:
        return {
            "headless/seed": self.headless / self.seed,
            "tui/seed": self.tui / self.seed,
            "headless/seed_nnview_threads": self.headless / self.seed_nnview_threads,
            "tui/seed_nnview_threads": self.tui / self.seed_nnview_threads,
        }


def steps_row(setup: Setup, runs: list[Measurement]) -> StepsRow:
    def rate(contender: str) -> float:
        mine = [r.rate for r in runs if r.contender == contender]
        return statistics.median(mine) if mine else rate("seed")

    tuis = [r for r in runs if r.contender == "tui" and r.tui is not None]

    def med(value: Callable[[Measurement, TuiStats], float]) -> float:
        return statistics.median(value(r, r.tui) for r in tuis if r.tui is not None)

    return StepsRow(
        setup.name,
        setup.steps,
        len(tuis),
        setup.seed_threads,
        setup.nnview_threads,
        rate("seed"),
        rate("seed_nnview_threads"),
        rate("headless"),
        rate("tui"),
        med(lambda r, s: s.updates / r.seconds),
        med(lambda r, s: s.retraces / r.seconds),
        med(lambda r, s: s.live_views / r.seconds),
        med(lambda r, s: s.ui_cpu / s.wall),
    )


def render_steps(rows: Sequence[StepsRow], pin: int | None = None) -> str:
    lines = [
        "Steps per second (medians), each contender training a fresh model for the same steps on the same data:",
        "",
        "| Model | Steps | Rounds | (a) seed loop | (a′) seed loop, nnview's threads | (b) `nnview train` | (c) TUI "
        "| (b)/(a) | (c)/(a) | (b)/(a′) | (c)/(a′) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rates = f"{r.seed:,.0f} | {r.seed_nnview_threads:,.0f} | {r.headless:,.0f} | {r.tui:,.0f}"
        ratios = " | ".join(f"{v:.2f}" for v in r.ratios.values())
        lines.append(f"| {r.label} | {r.steps} | {r.rounds} | {rates} | {ratios} |")
    lines += [
        "",
        (f"Threads: every contender pinned to {pin} (`--threads`)" if pin else "Threads: (a) torch's default, ")
        + ("" if pin else "; ".join(f"{r.model} {r.threads_default}, nnview picks {r.threads_nnview}" for r in rows))
        + ". What the TUI's screen received while training (medians, per second of the loop's time):",
        "",
        "| Model | updates/s | live-table re-traces/s | live views/s | UI thread CPU busy |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.tui_updates_per_s:.1f} | {r.tui_retraces_per_s:.1f} | {r.tui_live_views_per_s:.1f} "
            f"| {r.tui_ui_busy:.0%} |"
        )
    return "\n".join(lines)


# --- 2. key latency ----------------------------------------------------------------------------------------------


@dataclass
class LatencyRun:
    """Latencies (seconds) of one model's presses, by phase; presses never answered; steps trained meanwhile."""

    model: str
    idle: list[float] = field(default_factory=list)
    training: list[float] = field(default_factory=list)
    missed_idle: int = 0
    missed_training: int = 0
    lost: int = 0  # missed presses whose effect was undone: cursor and selection back where they started
    training_steps: int = 0
    training_seconds: float = 0.0  # the training loops' own time, from their last updates


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, linearly interpolated between the closest ranks (inclusive)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def press_block(app: NnviewApp, screen: ExplorerScreen, presses: int) -> list[float | str | None]:
    """``presses`` presses of n / p, one every PRESS_INTERVAL (or once the last was answered): their latencies,
    ``"lost"`` or ``None`` (missed) for those never answered."""
    table = screen.query_one("#layers", LayerTable)
    facts = screen.query_one("#detail-facts", Static)
    latencies: list[float | str | None] = []
    start = time.perf_counter()
    for i in range(presses):
        await asyncio.sleep(max(0.0, start + i * PRESS_INTERVAL - time.perf_counter()))
        row = 1 if table.cursor_row == 0 else 0
        index = table.visible_rows[row]
        assert screen.result is not None
        rec = screen.result.layers[index]
        head = f"{rec.name or rec.type}  "

        def shows(row: int = row, index: int = index, head: str = head) -> bool:
            return table.cursor_row == row and screen.selected == index and str(facts.content).startswith(head)

        sent = time.perf_counter()
        app.simulate_key("n" if row == 1 else "p")
        shown = await first_refresh(screen, shows, PRESS_TIMEOUT)
        if shown is None:
            origin = table.visible_rows[1 - row]
            latencies.append("lost" if table.cursor_row == 1 - row and screen.selected == origin else None)
            start = time.perf_counter() - (i + 1) * PRESS_INTERVAL  # restart the schedule after a miss
            continue
        latencies.append(shown - sent)
    return latencies


async def latency_async(name: str, presses: int, pin: int | None = None) -> LatencyRun:
    torch.set_num_threads(DEFAULT_THREADS)
    messages = Messages()
    app = NnviewApp(SessionOptions(MODELS[name]), watch=False)
    run = LatencyRun(name)
    async with app.run_test(size=SIZE, message_hook=messages):
        screen = await open_explorer(app, messages, TIMEOUT)
        trainer = screen.session.ensure_trainer()
        trainer.reconfigure(replace(trainer.config, epochs=ENDLESS_EPOCHS))
        if pin:
            torch.set_num_threads(pin)
        left = {"idle": presses, "training": presses}
        while left["idle"] or left["training"]:
            for phase in ("idle", "training"):
                count = min(BLOCK, left[phase])
                if not count:
                    continue
                left[phase] -= count
                if phase == "training":
                    loops = len(messages.loops)
                    app.simulate_key("t")
                    await messages.wait(lambda loops=loops: len(messages.loops) > loops, 60, "training")
                latencies = await press_block(app, screen, count)
                if phase == "training":
                    stops = len(messages.stops)
                    app.simulate_key("t")  # pause, then let the last re-trace paint before idle presses
                    await messages.wait(lambda stops=stops: len(messages.stops) > stops, 60, "training to pause")
                    loop = messages.loops[-1]
                    run.training_steps += loop.steps
                    run.training_seconds += loop.seconds
                    await asyncio.sleep(0.3)
                answered = [x for x in latencies if isinstance(x, float)]
                run.lost += latencies.count("lost")
                getattr(run, phase).extend(answered)
                setattr(run, f"missed_{phase}", getattr(run, f"missed_{phase}") + len(latencies) - len(answered))
    torch.set_num_threads(DEFAULT_THREADS)
    return run


def render_latency(runs: Sequence[LatencyRun], presses: int) -> str:
    lines = [
        f"Key to screen (ms): `n`/`p` every {PRESS_INTERVAL * 1e3:.0f} ms, {presses} presses per phase, in the "
        f"run_test app at {COLS}x{ROWS}, until the first refresh with the new row selected and the detail panel "
        "naming it:",
        "",
        "| Model | idle p50 | idle p95 | training p50 | training p95 | answered idle / training "
        "| missed (lost) | steps/s while pressing |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        ms = [percentile(v, q) * 1e3 for v in (r.idle, r.training) for q in (50, 95)]
        rate = r.training_steps / r.training_seconds if r.training_seconds else 0.0
        lines.append(
            f"| {MODELS[r.model]} | {ms[0]:.1f} | {ms[1]:.1f} | {ms[2]:.1f} | {ms[3]:.1f} "
            f"| {len(r.idle)} / {len(r.training)} | {r.missed_idle + r.missed_training} ({r.lost}) | {rate:,.0f} |"
        )
    return "\n".join(lines)


# --- 3. bytes to the terminal ------------------------------------------------------------------------------------


@dataclass
class BytesRun:
    """One run of the real program in a pty: byte counts and window lengths (seconds)."""

    idle_bytes: int
    idle_seconds: float
    open_bytes: int  # from typing t to the first frame showing the training status
    open_seconds: float
    training_bytes: int  # the training window, from that frame on
    training_seconds: float
    steady_bytes: int  # the training window less its first STEADY_AFTER seconds
    steady_seconds: float
    shown_step: int | None  # the step counter on screen at the end of the training window
    shown_rate: int | None  # the steps/s the status line showed then
    exit_code: int | None

    @property
    def idle_rate(self) -> float:
        return self.idle_bytes / self.idle_seconds

    @property
    def training_rate(self) -> float:
        return self.training_bytes / self.training_seconds

    @property
    def steady_rate(self) -> float:
        return self.steady_bytes / self.steady_seconds if self.steady_seconds > 0 else math.nan


def bytes_between(run: PtyRun, start: float, end: float) -> int:
    """Bytes of the chunks that arrived in ``(start, end]``."""
    return sum(len(chunk) for t, chunk in run.chunks if start < t <= end)


def status_numbers(screen: Screen) -> tuple[int | None, int | None]:
    """The ``step N`` and ``R steps/s`` of the training status line, if on screen."""
    # The status line wraps in the side panel (right of the table's │): join the panel's first rows.
    text = " ".join(line.split("│", 1)[-1].strip() for line in screen.lines()[1:6])
    step = re.search(r"\bstep (\d+)\b", text)
    rate = re.search(r"\b(\d+)\s+steps/s\b", text)
    return (int(step.group(1)) if step else None, int(rate.group(1)) if rate else None)


def measure_bytes(seconds: float) -> BytesRun:
    """Part 3 once: idle window, ``t``, training window, quit without saving."""
    with PtyRun([nnview_command(), LONG, "--no-watch"], COLS, ROWS, cwd=str(ROOT)) as run:
        if run.wait_for(LONG_TABLE, timeout=TIMEOUT) is None:
            raise SystemExit(f"nnview {LONG}: the table never showed; the screen was:\n{run.screen().text()}")
        run.settle()
        idle_start = run.now()
        run.pump(seconds)
        idle_end = run.now()
        typed = run.send("t")
        shown = run.wait_for(TRAINING_SHOWN, since=typed, timeout=TIMEOUT)
        if shown is None:
            raise SystemExit(f"the training status never showed; the screen was:\n{run.screen().text()}")
        end = shown + seconds
        run.pump(max(0.0, end - run.now()))
        steady = min(shown + STEADY_AFTER, end)
        step, rate = status_numbers(run.screen(until=end))
        quit_typed = run.send("q")
        # The quit dialog asks about the unsaved steps; "d" (quit without saving) goes after a short wait either way.
        run.wait_for(QUIT_ASKED, since=quit_typed, timeout=2.0)
        run.send("d")
        code = run.wait_exit(30.0)
        return BytesRun(
            bytes_between(run, idle_start, idle_end),
            idle_end - idle_start,
            bytes_between(run, typed, shown),
            shown - typed,
            bytes_between(run, shown, end),
            end - shown,
            bytes_between(run, steady, end),
            end - steady,
            step,
            rate,
            code,
        )


def render_bytes(runs: Sequence[BytesRun]) -> str:
    def med(value: Callable[[BytesRun], float]) -> float:
        return statistics.median(value(r) for r in runs)

    rates = [r.shown_rate for r in runs if r.shown_rate is not None]
    codes = ", ".join(str(c) for c in sorted({r.exit_code for r in runs}, key=str))
    steady = med(lambda r: r.steady_rate)
    return "\n".join(
        [
            f"Bytes written to the terminal by `nnview {LONG} --no-watch` in a {COLS}x{ROWS} pty "
            f"(`TERM=xterm-256color`), median of {len(runs)} run(s); target ≤ 10 KB/s while training:",
            "",
            "| idle B/s | training B/s | steady B/s (window less its first second) | `t` → training status on screen, s "
            "| bytes meanwhile | training window s | steps/s on the status line | exit status |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {med(lambda r: r.idle_rate):,.0f} | {med(lambda r: r.training_rate):,.0f} "
            f"| {'-' if math.isnan(steady) else f'{steady:,.0f}'} "
            f"| {med(lambda r: r.open_seconds):.2f} | {med(lambda r: r.open_bytes):,.0f} "
            f"| {med(lambda r: r.training_seconds):.1f} "
            f"| {f'{statistics.median(rates):.0f}' if rates else '-'} | {codes} |",
        ]
    )


# --- results -----------------------------------------------------------------------------------------------------


def render_headline(rows: Sequence[StepsRow], latencies: Sequence[LatencyRun], terminal: Sequence[BytesRun]) -> str:
    """The README's lines: speed over the seed's loop at equal threads, key p95, terminal bytes; with targets."""
    p95 = {r.model: [percentile(v, 95) * 1e3 for v in (r.idle, r.training)] for r in latencies}
    lines = [
        f"| Model | `nnview train` / seed loop (≥ {TARGETS['headless']}) | TUI / seed loop (≥ {TARGETS['tui']}) "
        f"| key p95 idle / training, ms (≤ {TARGETS['key_p95_ms']:.0f}) |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        keys = " / ".join(f"{v:.0f}" for v in p95[r.model]) if r.model in p95 else "-"
        lines.append(
            f"| {r.label} | {r.ratios['headless/seed_nnview_threads']:.2f} | {r.ratios['tui/seed_nnview_threads']:.2f} "
            f"| {keys} |"
        )
    lines.append("")
    lines.append("Ratios over the seed's loop run with nnview's thread count, (a′) in the full table.")
    if terminal:
        steady = statistics.median(r.steady_rate for r in terminal)
        lines.append(
            f"Terminal while training `{LONG}` at {COLS}x{ROWS}: "
            f"{statistics.median(r.training_rate for r in terminal):,.0f} B/s over the window, "
            f"{'-' if math.isnan(steady) else f'{steady:,.0f}'} B/s steady (target ≤ 10 KB/s); "
            f"idle {statistics.median(r.idle_rate for r in terminal):,.0f} B/s (target 0)."
        )
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags in the module docstring, with ``--quick`` filling in the defaults it changes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--simple-epochs", type=int, default=None)
    parser.add_argument("--mlp-epochs", type=int, default=None)
    parser.add_argument("--presses", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--pty-runs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = max(1, args.rounds or (1 if quick else 5))
    args.simple_epochs = max(1, args.simple_epochs or (2 if quick else 20))
    args.mlp_epochs = max(1, args.mlp_epochs or (1 if quick else 10))
    args.presses = max(1, args.presses or (5 if quick else 50))
    args.seconds = args.seconds or (2.0 if quick else 5.0)
    args.pty_runs = max(1, args.pty_runs or (1 if quick else 2))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three parts, print the tables; optionally write JSON and the results."""
    args = parse_args(argv)
    epochs = {"simple": args.simple_epochs, "fashion_mlp": args.mlp_epochs}
    try:
        setups = [prepare(name, target, epochs[name], args.threads) for name, target in MODELS.items()]
        runs = {s.name: bench_steps(s, args.rounds) for s in setups}
        rows = [steps_row(s, runs[s.name]) for s in setups]
        latencies = [asyncio.run(latency_async(name, args.presses, args.threads)) for name in MODELS]
        terminal = [measure_bytes(args.seconds) for _ in range(args.pty_runs)]
    finally:
        torch.set_num_threads(DEFAULT_THREADS)
    parts = [render_steps(rows, args.threads), render_latency(latencies, args.presses), render_bytes(terminal)]
    print("\n\n".join(parts), flush=True)
    if args.json is not None:
        rates = ("idle_rate", "training_rate", "steady_rate")
        results = {
            "steps": [{**asdict(r), "ratios": r.ratios} for r in rows],
            "measurements": [asdict(m) | {"rate": m.rate} for name in runs for m in runs[name]],
            "expected_steps": {s.name: s.steps for s in setups},
            "latency": [asdict(r) for r in latencies],
            "terminal": [asdict(r) | {k: getattr(r, k) for k in rates} for r in terminal],
            "presses": args.presses,
            "machine": machine_note(),
        }
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_results:
        headline = render_headline(rows, latencies, terminal)
        write_results("train", "\n\n".join(parts), headline, command_line(__file__, __package__, argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
