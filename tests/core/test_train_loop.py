"""The one training loop: updates batched by time, epoch ends and the end always reported, errors as data,
pause at a step boundary, and the session's lock keeping every trace off a running step."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
import torch

from tests.conftest import MODELS
from tui.core.live_training import LiveView, live_training
from tui.core.session import ModelSession, SessionOptions
from tui.core.trace import tracing as tracing_module  # the session imports trace_model from here at call time
from tui.core.train.loop import TrainingUpdate, training_updates
from tui.core.train.records import StepOutcome
from tui.core.train.run import TrainOptions, open_training
from tui.core.train.trainer import TrainConfig, Trainer

SIMPLE = str(MODELS / "simple.py")  # 800 training samples: 25 batches of 32 per epoch


def simple_trainer(epochs: int = 2) -> Trainer:
    options = TrainOptions(SIMPLE, config=TrainConfig(epochs=epochs, seed=0), explicit=("epochs", "seed"))
    return open_training(options).trainer


def ticks(seconds_per_call: float) -> Callable[[], float]:
    """A clock that moves on by ``seconds_per_call`` each time it is read (the loop reads it once per step)."""
    calls = itertools.count()
    return lambda: next(calls) * seconds_per_call


def test_a_frozen_clock_gives_the_first_step_then_the_end_with_every_epoch_in_it() -> None:
    """Epoch ends do not force an update (a small model ends dozens a second): they ride on the next one."""
    updates = list(training_updates(simple_trainer(), clock=lambda: 0.0))
    assert [len(u.steps) for u in updates] == [1, 49]
    assert [(u.epoch, u.step, u.done, u.final) for u in updates] == [(1, 1, False, False), (2, 50, True, True)]
    assert [[e.epoch for e in u.epoch_records] for u in updates] == [[], [1, 2]]
    assert updates[-1].epoch_record == updates[-1].epoch_records[-1]
    assert [s.step for u in updates for s in u.steps] == list(range(1, 51))
    assert all((u.epochs, u.steps_per_epoch, u.lr, u.error) == (2, 25, 0.01, None) for u in updates)
    assert updates[-1].reason == "done"


def test_updates_are_batched_by_time_and_carry_the_epochs_that_ended() -> None:
    # 1/16 s per step and an update every 4/16 s: exact in binary, so no rounding decides a batch.
    updates = list(training_updates(simple_trainer(), every=0.25, clock=ticks(1 / 16)))
    assert [len(u.steps) for u in updates] == [1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1]
    assert [u.step for u in updates] == [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 50]
    assert [u.step for u in updates if u.epoch_record is not None] == [25, 50]
    assert {u.steps_per_second for u in updates} == {16.0}


def test_a_failing_step_ends_the_loop_with_the_error_as_data() -> None:
    trainer = simple_trainer()
    trainer.data.x_train[trainer.order[64:96]] = float("nan")  # the third batch
    updates = list(training_updates(trainer, clock=lambda: 0.0))
    assert [[s.step for s in u.steps] for u in updates] == [[1], [2]]
    last = updates[-1]
    assert last.error is not None and last.final and last.reason == "error"
    assert "the loss became nan at step 3" in last.error.message and last.error.layer == "fc1"
    assert (last.step, trainer.step_count) == (2, 2)  # the failed step is not counted


def test_pause_is_honoured_at_the_next_step_boundary() -> None:
    trainer = simple_trainer()
    pause = threading.Event()
    step = trainer.step_in_guest

    def step_then_pause_at_3() -> StepOutcome:
        outcome = step()
        if outcome.step.step == 3:
            pause.set()  # as if t came in while step 3 ran
        return outcome

    trainer.step_in_guest = step_then_pause_at_3  # type: ignore[method-assign]
    updates = list(training_updates(trainer, pause=pause, clock=lambda: 0.0))
    assert [[s.step for s in u.steps] for u in updates] == [[1], [2, 3]]
    assert (updates[-1].final, updates[-1].reason, trainer.step_count) == (True, "paused", 3)
    # Set before the loop starts, the pause still lets one step run (a pressed s or t always trains).
    again = list(training_updates(trainer, pause=pause, clock=lambda: 0.0))
    assert [(u.step, u.final, u.reason) for u in again] == [(4, True, "paused")]
    assert [u.step for u in training_updates(trainer, max_steps=1)] == [5]


def test_a_done_trainer_gives_one_final_update_and_no_step() -> None:
    trainer = simple_trainer(epochs=1)
    list(training_updates(trainer))
    assert [(u.step, u.steps, u.done, u.final) for u in training_updates(trainer)] == [(25, (), True, True)]


def test_a_trace_never_overlaps_a_training_step(monkeypatch: pytest.MonkeyPatch) -> None:
    session = ModelSession(SessionOptions(SIMPLE))
    session.open()
    trainer = session.ensure_trainer()
    trainer.reconfigure(replace(trainer.config, epochs=2))
    running = {"step": 0, "trace": 0}
    overlaps: list[str] = []
    held: list[bool] = []
    step, trace = trainer.step_in_guest, tracing_module.trace_model

    def slow_step() -> StepOutcome:
        held.append(session.lock._is_owned())  # type: ignore[attr-defined]
        running["step"] += 1
        if running["trace"]:
            overlaps.append("a step started during a trace")
        time.sleep(0.002)  # wide enough that an unlocked trace would land inside it
        outcome = step()
        running["step"] -= 1
        return outcome

    def slow_trace(*args: object, **kwargs: object) -> object:
        running["trace"] += 1
        if running["step"]:
            overlaps.append("a trace started during a step")
        time.sleep(0.002)
        result = trace(*args, **kwargs)
        running["trace"] -= 1
        return result

    trainer.step_in_guest = slow_step  # type: ignore[method-assign]
    monkeypatch.setattr(tracing_module, "trace_model", slow_trace)
    items: list[TrainingUpdate | LiveView] = []
    worker = threading.Thread(target=lambda: items.extend(live_training(session, trainer, retrace_every=0.0)))
    worker.start()
    traced = 0
    while worker.is_alive():  # the explorer's `b` and `r`, pressed over and over while it trains
        if traced % 2:
            session.new_batch()
        else:
            session.retrace()
        traced += 1
    worker.join()
    assert trainer.step_count == 50 and traced >= 5
    assert overlaps == [] and held == [True] * 50
    views = [item for item in items if isinstance(item, LiveView)]
    assert len(views) == len([u for u in items if isinstance(u, TrainingUpdate)])  # re-traced after every update
    assert all(v.result is not None and v.health for v in views)


def guest_entries(trainer: Trainer) -> list[int]:
    """The step count at each entry into ``trainer``'s guest guard, filled as the loop runs."""
    guest = trainer.guest
    entries: list[int] = []

    def counted_guest() -> object:
        entries.append(trainer.step_count)
        return guest()

    trainer.guest = counted_guest  # type: ignore[method-assign]
    return entries


def test_the_guest_guard_is_entered_once_per_run_of_steps_and_the_lock_let_go_between_runs() -> None:
    """Entering the guard costs more than a small model's step: a frozen clock gives one entry per update."""
    trainer = simple_trainer()
    entries = guest_entries(trainer)
    updates = list(training_updates(trainer, clock=lambda: 0.0))
    assert [u.step for u in updates] == [1, 50] and entries == [0, 1]
    # A clock that moves 1/64 s per step (exact in binary): the lock is let go once HOLD_SECONDS (20 ms)
    # have passed, after every 2 steps, though an update (every 0.15 s) comes only every 10 steps.
    trainer = simple_trainer(epochs=1)
    entries = guest_entries(trainer)
    updates = list(training_updates(trainer, clock=ticks(1 / 64)))
    assert [u.step for u in updates] == [1, 11, 21, 25]
    assert entries == [0, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]


def test_accuracy_reads_the_class_dimension_of_a_sequence_output() -> None:
    from tui.core.train.setup import accuracy_counts

    loss = torch.nn.CrossEntropyLoss()
    logits = torch.zeros(2, 3, 4)  # (N, C, L): CrossEntropyLoss's layout for 2 sequences of 4 tokens
    logits[:, 2, :] = 1.0  # class 2 everywhere
    target = torch.tensor([[2, 2, 0, 2], [2, 1, 2, 2]])
    assert accuracy_counts(logits, target, loss, "cross_entropy") == (6, 8)
    last = logits.transpose(1, 2)  # (N, L, C): a loss of the file's own with classes last
    assert accuracy_counts(last, target, loss, "cross_entropy") == (6, 8)
    assert accuracy_counts(torch.zeros(2, 3, 5), target, loss, "cross_entropy") is None  # neither layout fits


def test_a_pace_caps_the_steps_per_second_and_lets_the_lock_go_between_steps() -> None:
    trainer = simple_trainer(epochs=1)  # 25 steps
    entries = guest_entries(trainer)
    began = time.perf_counter()
    updates = list(training_updates(trainer, pace=lambda: 200.0))
    took = time.perf_counter() - began
    assert updates[-1].step == 25 and updates[-1].done
    assert entries == list(range(25))  # one step per hold: a trace never waits for more than one
    assert took >= 24 / 200  # 200 steps/s at most: the 24 waits between 25 steps take 0.12 s or more
    # A pause cuts the wait short: at 1 step/s, pausing after the first step ends the loop at once.
    pause = threading.Event()
    trainer = simple_trainer(epochs=1)
    began = time.perf_counter()
    seen = []
    for update in training_updates(trainer, pace=lambda: 1.0, pause=pause):
        seen.append(update)
        pause.set()
    assert [(u.step, len(u.steps), u.final) for u in seen] == [(1, 1, False), (1, 0, True)]  # no second step
    assert time.perf_counter() - began < 0.9  # and no 1 s wait
