"""Training speed and responsiveness: the seed's loop, ``nnview train`` and the TUI side by side; keys and bytes.

Run from the repository root, either way::

    python bench/train.py              # 5 rounds per model, 50 presses per phase, 2 terminal runs (3-7 min)
    python -m bench.train --quick      # 1 round of a few dozen steps, 5 presses per phase, 1 s windows (30-60 s)

Flags:
    --quick             1 round, 2 epochs of models/simple.py (50 steps) and 1 of models/fashion_mlp.py (45 steps),
                        5 presses per phase, 1 terminal run with 1-second windows.
    --rounds N          rounds of every contender per model, the order rotating every round (default 5; 1 with
                        ``--quick``). Medians are reported.
    --simple-epochs N   epochs of models/simple.py per measurement (default 20 = 500 steps; 2 with ``--quick``).
    --mlp-epochs N      epochs of models/fashion_mlp.py per measurement (default 10 = 450 steps; 1 with ``--quick``).
    --presses N         key presses per phase (idle, training) and model for the latency (default 50; 5 with
                        ``--quick``), in blocks of 10 that alternate idle and training.
    --seconds S         length of the idle and the training windows in the terminal (default 5; 1 with ``--quick``).
    --pty-runs N        runs of the real program in a pseudo-terminal (default 2; 1 with ``--quick``); medians.
    --threads N         pin every contender (and the latency app) to N torch threads, nnview through its own
                        ``threads`` setting (``nnview train --threads N``): the like-for-like comparison on a
                        machine where a busy neighbour makes torch's default thread count erratic. The pty run
                        keeps nnview's own choice.
    --json PATH         also write the raw numbers as JSON.
    --write-readme      replace the text between ``<!-- bench:train -->`` and ``<!-- /bench:train -->`` in
                        README.md with the tables, a note of the machine and this command.

What is measured, all in one process except part 3:

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
     (``Trainer.reconfigure``, as the ``e`` form does), then ``t`` is sent through the driver the way a terminal's
     key reaches it, and the app trains to the end on its worker thread, with the live table, progress, curves
     and health it always shows. Steps/s = steps / (start of the first ``Trainer.step`` to the end of the last),
     stamped by a wrapper around that trainer's ``step``. Diagnostics: share of that time spent inside ``step``,
     the worker thread's own CPU time inside ``step`` (torch's other OpenMP threads not counted: below 100%, the
     step waited, mostly for the GIL), the UI thread's CPU time over the same interval (``time.thread_time``),
     frames painted and the UI CPU per frame, and the live-view re-traces (explorer batch + layer health).

   Steps/s are medians over the rounds; ratios are of the medians (target (b)/(a) and (c)/(a) >= 0.95).

2. **Key latency** in the same run_test app (120 x 40) on each model, the trainer set to a million epochs so it
   never finishes: ``n`` or ``p`` (whichever moves between the first two rows) sent through the driver every
   100 ms (or as soon as the previous press was answered, if that took longer), in blocks of 10 presses that
   alternate *idle* (nothing training, the reference) and *training* (``t`` pressed, steps running). A press's
   latency runs from just before the key is handed to the driver to the first frame the app composes (a wrapper
   on ``App._display``, which receives every frame the compositor renders; headless, the frame is not encoded to
   escape codes) in which the table cursor is on the new row, the explorer's ``selected`` is that layer, and the
   detail panel's first line (``#detail-facts``) names it. A press not answered within 2 s is counted as missed,
   and as *lost* if by then the cursor and the selection are back on the row it started from (a live-table rebuild
   put the cursor back before the selection reached the explorer, and nothing moved).
   p50 and p95 (target p95 <= 50 ms while training).

3. **Bytes to the terminal**: the installed ``nnview models/simple.py --no-watch`` runs in a fresh 120 x 40 pty
   read by this process (``bench/terminal.py``; ``TERM=xterm-256color``, no ``COLORTERM``). After the table is
   on screen and the output has been quiet for 300 ms: ``--seconds`` idle, then ``t``; the training window is
   the ``--seconds`` that follow the first frame showing the training status line (the time from ``t`` to that
   frame and the bytes meanwhile are reported apart); it ends early if ``Training finished`` shows. Then
   ``q``, ``d`` (quit without saving) and the exit status. Target <= 10 KB/s while training.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import re
import shlex
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
from textual import events
from textual.widgets import Static
from torch import nn

from bench.bandwidth import settle
from bench.startup import COLS, ROWS, SIMPLE, SIMPLE_TABLE, TIMEOUT
from bench.terminal import PtyRun, Screen, has_line, nnview_command
from bench.trace import machine_note, write_readme
from tui.app import NnviewApp
from tui.core.load.datasets import TrainingData
from tui.core.load.model_file import load_model
from tui.core.session import SessionOptions
from tui.core.train.run import TrainOptions, open_training, train
from tui.core.train.trainer import TrainConfig
from tui.screens.explorer import ExplorerScreen
from tui.widgets.layer_table import LayerTable

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("<!-- bench:train -->", "<!-- /bench:train -->")
MODELS = {"simple": "models/simple.py", "fashion_mlp": "models/fashion_mlp.py"}
SIZE = (COLS, ROWS)
DEFAULT_THREADS = torch.get_num_threads()  # what a fresh process (the seed's script) gets
PRESS_INTERVAL = 0.1
PRESS_TIMEOUT = 2.0
BLOCK = 10  # presses per block; blocks alternate idle and training
ENDLESS_EPOCHS = 1_000_000
TRAINING_SHOWN = has_line(r"training\s+epoch \d+/\d+\s+step \d+")
QUIT_ASKED = has_line(r"training steps are not saved")


# --- 1. steps per second ---------------------------------------------------------------------------------------


@dataclass
class TuiStats:
    """What the TUI did while training: seconds are wall time unless named cpu."""

    in_step: float = 0.0  # inside Trainer.step, on the worker thread
    in_step_cpu: float = 0.0  # the worker thread's CPU time inside Trainer.step
    ui_cpu: float = 0.0  # the UI (event loop) thread's CPU time over the run
    frames: int = 0  # frames the compositor rendered
    paint_cpu: float = 0.0  # UI-thread CPU time spent rendering those frames
    live_views: int = 0  # re-traces of the explorer's batch + layer health (worker thread)
    live_view_seconds: float = 0.0
    worker_threads: int = 0  # torch's thread count as seen from the training worker thread


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


def send_key(app: NnviewApp, key: str) -> None:
    """Hand ``key`` to the app's driver the way the terminal driver's input thread hands it a parsed key."""
    assert app._driver is not None
    app._driver.process_message(events.Key(key, key if len(key) == 1 else None))


async def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``check`` on the event loop (cheap ``asyncio.sleep``, no pilot round trips) until it holds."""
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


async def open_explorer(app: NnviewApp) -> ExplorerScreen:
    """The explorer screen once its first trace is on it."""

    def shown() -> bool:
        return any(isinstance(s, ExplorerScreen) and s.shown is not None for s in app.screen_stack)

    await wait_until(shown, TIMEOUT, "the first trace")
    screen = next(s for s in app.screen_stack if isinstance(s, ExplorerScreen))
    if screen.shown != "trace":
        raise SystemExit(f"{screen.session.options.model_ref}: the explorer shows an error, not a trace")
    await asyncio.sleep(0.2)  # let the first full frame paint
    return screen


class FrameProbe:
    """Wraps ``app._display`` and ``screen._compositor_refresh``: counts frames and their UI-thread CPU time, and
    stamps the first frame after which ``check()`` holds."""

    def __init__(self, app: NnviewApp, screen: ExplorerScreen) -> None:
        self.app = app
        self.frames = 0
        self.paint_cpu = 0.0
        self.check: Callable[[], bool] | None = None
        self.hit: float | None = None
        self.answered = asyncio.Event()
        display, refresh = app._display, screen._compositor_refresh

        def timed_display(on: Any, renderable: Any) -> None:
            display(on, renderable)
            if renderable is None or app._batch_count:
                return
            self.frames += 1
            if self.check is not None and self.hit is None and self.check():
                self.hit = time.perf_counter()
                self.answered.set()

        def timed_refresh() -> None:
            began = time.thread_time()
            refresh()
            self.paint_cpu += time.thread_time() - began

        app._display = timed_display  # type: ignore[method-assign, assignment]
        screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]

    def expect(self, check: Callable[[], bool]) -> None:
        self.check, self.hit = check, None
        self.answered.clear()


def instrument_steps(trainer: Any, stats: TuiStats) -> list[float]:
    """Wrap this trainer's ``step``: returns [first start, last end], kept up to date, and fills ``stats``."""
    span: list[float] = []
    step = trainer.step_in_guest

    def timed_step() -> Any:
        began, cpu = time.perf_counter(), time.thread_time()
        outcome = step()
        ended = time.perf_counter()
        stats.in_step += ended - began
        stats.in_step_cpu += time.thread_time() - cpu
        if not span:
            span.append(began)
            span.append(ended)
            stats.worker_threads = torch.get_num_threads()
        span[1] = ended
        return outcome

    trainer.step_in_guest = timed_step
    return span


def instrument_live_view(screen: ExplorerScreen, stats: TuiStats) -> None:
    """Count and time the worker's live-view re-traces (``session.retrace``; layer health not included)."""
    retrace = screen.session.retrace

    def timed() -> Any:
        began = time.perf_counter()
        result = retrace()
        stats.live_views += 1
        stats.live_view_seconds += time.perf_counter() - began
        return result

    screen.session.retrace = timed  # type: ignore[method-assign]


async def tui_async(setup: Setup) -> Measurement:
    torch.set_num_threads(DEFAULT_THREADS)
    app = NnviewApp(SessionOptions(setup.model_ref), watch=False)
    async with app.run_test(size=SIZE):
        screen = await open_explorer(app)
        trainer = screen.session.ensure_trainer()
        trainer.reconfigure(replace(trainer.config, epochs=setup.epochs))
        if setup.pin:  # the worker threads start from the process's setting
            torch.set_num_threads(setup.pin)
        stats = TuiStats()
        span = instrument_steps(trainer, stats)
        instrument_live_view(screen, stats)
        probe = FrameProbe(app, screen)
        gc.collect()
        ui_cpu = time.thread_time()
        send_key(app, "t")
        await wait_until(lambda: trainer.done and not screen.training, 60 + setup.steps, "the training to finish")
        stats.ui_cpu = time.thread_time() - ui_cpu
        stats.frames, stats.paint_cpu = probe.frames, probe.paint_cpu
    return Measurement(setup.name, "tui", stats.worker_threads, trainer.step_count, span[1] - span[0], stats)


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
    tui_in_step: float  # share of the TUI's training time inside Trainer.step
    tui_step_cpu: float  # worker CPU / wall inside Trainer.step (below 1: waiting, mostly for the GIL)
    tui_ui_busy: float  # UI-thread CPU time / training time
    tui_frames_per_s: float
    tui_ms_per_frame: float  # UI-thread CPU per frame
    tui_live_views_per_s: float
    tui_ms_per_live_view: float

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
        med(lambda r, s: s.in_step / r.seconds),
        med(lambda r, s: s.in_step_cpu / s.in_step),
        med(lambda r, s: s.ui_cpu / r.seconds),
        med(lambda r, s: s.frames / r.seconds),
        med(lambda r, s: s.paint_cpu / max(1, s.frames) * 1e3),
        med(lambda r, s: s.live_views / r.seconds),
        med(lambda r, s: s.live_view_seconds / max(1, s.live_views) * 1e3),
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
        + ". Where the TUI's time goes (medians):",
        "",
        "| Model | in `Trainer.step` | worker CPU / wall in `step` | UI thread CPU busy | frames/s "
        "| UI CPU ms per frame | live re-traces/s | ms per re-trace |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.tui_in_step:.0%} | {r.tui_step_cpu:.0%} | {r.tui_ui_busy:.0%} "
            f"| {r.tui_frames_per_s:.1f} | {r.tui_ms_per_frame:.1f} | {r.tui_live_views_per_s:.1f} "
            f"| {r.tui_ms_per_live_view:.1f} |"
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
    training_seconds: float = 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, linearly interpolated between the closest ranks (inclusive)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def press_block(
    app: NnviewApp, screen: ExplorerScreen, probe: FrameProbe, presses: int
) -> list[float | str | None]:
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

        probe.expect(shows)
        sent = time.perf_counter()
        send_key(app, "n" if row == 1 else "p")
        try:
            await asyncio.wait_for(probe.answered.wait(), PRESS_TIMEOUT)
        except asyncio.TimeoutError:
            origin = table.visible_rows[1 - row]
            latencies.append("lost" if table.cursor_row == 1 - row and screen.selected == origin else None)
            start = time.perf_counter() - (i + 1) * PRESS_INTERVAL  # restart the schedule after a miss
            continue
        assert probe.hit is not None
        latencies.append(probe.hit - sent)
    probe.check = None
    return latencies


async def latency_async(name: str, presses: int, pin: int | None = None) -> LatencyRun:
    torch.set_num_threads(DEFAULT_THREADS)
    target = MODELS[name]
    app = NnviewApp(SessionOptions(target), watch=False)
    run = LatencyRun(name)
    async with app.run_test(size=SIZE):
        screen = await open_explorer(app)
        trainer = screen.session.ensure_trainer()
        trainer.reconfigure(replace(trainer.config, epochs=ENDLESS_EPOCHS))
        if pin:
            torch.set_num_threads(pin)
        probe = FrameProbe(app, screen)
        left = {"idle": presses, "training": presses}
        while left["idle"] or left["training"]:
            for phase in ("idle", "training"):
                count = min(BLOCK, left[phase])
                if not count:
                    continue
                left[phase] -= count
                if phase == "training":
                    steps = trainer.step_count

                    def stepping(steps: int = steps) -> bool:
                        return screen.training and trainer.step_count > steps

                    send_key(app, "t")
                    await wait_until(stepping, 60, "training")
                    began, first = time.perf_counter(), trainer.step_count
                latencies = await press_block(app, screen, probe, count)
                if phase == "training":
                    run.training_steps += trainer.step_count - first
                    run.training_seconds += time.perf_counter() - began
                    send_key(app, "t")  # pause, then let the last re-trace paint before idle presses
                    await wait_until(lambda: not screen.training, 60, "training to pause")
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
        f"run_test app at {COLS}x{ROWS}, until the first frame with the new row selected and the detail panel "
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
    training_bytes: int
    training_seconds: float
    finished_early: bool
    shown_step: int | None  # the step counter on screen at the end of the training window
    shown_rate: int | None  # the steps/s the status line showed then
    exit_code: int | None

    @property
    def idle_rate(self) -> float:
        return self.idle_bytes / self.idle_seconds

    @property
    def training_rate(self) -> float:
        return self.training_bytes / self.training_seconds


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
    with PtyRun([nnview_command(), SIMPLE, "--no-watch"], COLS, ROWS, cwd=str(ROOT)) as run:
        if run.wait_for(SIMPLE_TABLE, timeout=TIMEOUT) is None:
            raise SystemExit(f"nnview {SIMPLE}: the table never showed; the screen was:\n{run.screen().text()}")
        settle(run)
        idle_start = run.now()
        run.pump(seconds)
        idle_end = run.now()
        typed = run.send("t")
        shown = run.wait_for(TRAINING_SHOWN, since=typed, timeout=TIMEOUT)
        if shown is None:
            raise SystemExit(f"the training status never showed; the screen was:\n{run.screen().text()}")
        end = shown + seconds
        finished = run.pump(max(0.0, end - run.now()), until=lambda: run.seen(b"Training finished", since=shown))
        if finished:
            end = next(t for t, chunk in run.chunks if t > shown and b"Training finished" in chunk)
        step, rate = status_numbers(run.screen(until=end))
        quit_typed = run.send("q")
        # The quit dialog asks about the unsaved steps; its text may not show (see the report), so "d" (quit
        # without saving) goes after a short wait either way.
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
            finished,
            step,
            rate,
            code,
        )


def render_bytes(runs: Sequence[BytesRun]) -> str:
    def med(value: Callable[[BytesRun], float]) -> float:
        return statistics.median(value(r) for r in runs)

    rates = [r.shown_rate for r in runs if r.shown_rate is not None]
    codes = ", ".join(str(c) for c in sorted({r.exit_code for r in runs}, key=str))
    early = sum(r.finished_early for r in runs)
    return "\n".join(
        [
            f"Bytes written to the terminal by `nnview {SIMPLE} --no-watch` in a {COLS}x{ROWS} pty "
            f"(`TERM=xterm-256color`), median of {len(runs)} run(s):",
            "",
            "| idle B/s | training B/s | `t` → training status on screen, s | bytes meanwhile "
            "| training window s | steps/s on the status line | exit status |",
            "|---:|---:|---:|---:|---:|---:|---|",
            f"| {med(lambda r: r.idle_rate):,.0f} | {med(lambda r: r.training_rate):,.0f} "
            f"| {med(lambda r: r.open_seconds):.2f} | {med(lambda r: r.open_bytes):,.0f} "
            f"| {med(lambda r: r.training_seconds):.1f}{' (training finished early)' * bool(early)} "
            f"| {f'{statistics.median(rates):.0f}' if rates else '-'} | {codes} |",
        ]
    )


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
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = max(1, args.rounds or (1 if quick else 5))
    args.simple_epochs = max(1, args.simple_epochs or (2 if quick else 20))
    args.mlp_epochs = max(1, args.mlp_epochs or (1 if quick else 10))
    args.presses = max(1, args.presses or (5 if quick else 50))
    args.seconds = args.seconds or (1.0 if quick else 5.0)
    args.pty_runs = max(1, args.pty_runs or (1 if quick else 2))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three parts, print the tables; optionally write JSON and the README."""
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
        results = {
            "steps": [{**asdict(r), "ratios": r.ratios} for r in rows],
            "measurements": [asdict(m) | {"rate": m.rate} for name in runs for m in runs[name]],
            "expected_steps": {s.name: s.steps for s in setups},
            "latency": [asdict(r) for r in latencies],
            "terminal": [asdict(r) | {"idle_rate": r.idle_rate, "training_rate": r.training_rate} for r in terminal],
            "presses": args.presses,
            "machine": machine_note(),
        }
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_readme:
        script = "python -m bench.train" if __package__ else "python bench/train.py"
        command = shlex.join([*script.split(), *(sys.argv[1:] if argv is None else argv)])
        write_readme("\n\n".join([*parts, f"Machine: {machine_note()}.", f"Command: `{command}`"]), markers=MARKERS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
