"""The one training loop: walk a :class:`Trainer` and yield frozen updates, batched by time, errors as data.

``nnview train`` prints the updates; the explorer's worker posts them to the screen. Whoever walks
the generator never reads the live trainer: what it shows is in the update. Stopping is cheap: a
caller that stops iterating stops training at the step boundary it is at.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.core.records import ErrorRecord, NnviewError
from tui.core.train.records import EpochRecord, StepRecord

if TYPE_CHECKING:
    from tui.core.train.trainer import Trainer

# Seconds between updates: often enough for a live curve, rarely enough that drawing them does not
# take the GIL the steps need.
UPDATE_EVERY = 0.15
# Longest hold of the model's lock by a run of steps: a trace (``b``, a reload) waits at most this long.
HOLD_SECONDS = 0.02


@dataclass(frozen=True)
class TrainingUpdate:
    """Where training is, taken under the lock right after a step (or a step that failed).

    Attributes:
        epoch: the epoch in progress, from 1; once done, the last one.
        epochs: epochs in all.
        step: optimizer steps taken so far.
        steps_per_epoch: mini-batches in one epoch.
        done: whether every epoch has run.
        lr: the learning rate of the optimizer's first parameter group.
        steps_per_second: the steps this loop took over the seconds since it started.
        steps: the steps since the previous update, oldest first (losses and accuracies).
        epoch_records: the epochs that ended among ``steps``, oldest first (a small model ends
            dozens a second; they come together rather than as an update each).
        error: why the next step failed (the weights are as before it); the loop ends with it.
        final: whether the loop ends after this update (done, paused, the step limit, or an error).
    """

    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    done: bool
    lr: float
    steps_per_second: float
    steps: tuple[StepRecord, ...] = ()
    epoch_records: tuple[EpochRecord, ...] = ()
    error: ErrorRecord | None = None
    final: bool = False

    @property
    def epoch_record(self) -> EpochRecord | None:
        """The last epoch that ended among ``steps``, if one did."""
        return self.epoch_records[-1] if self.epoch_records else None

    @property
    def reason(self) -> str:
        """Why training stops here: ``error``, ``done`` or ``paused`` (meaningful on a final update)."""
        if self.error is not None:
            return "error"
        return "done" if self.done else "paused"


def training_updates(
    trainer: Trainer,
    *,
    every: float = UPDATE_EVERY,
    pause: threading.Event | None = None,
    max_steps: int | None = None,
    pace: Callable[[], float | None] | None = None,
    lock: AbstractContextManager[Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[TrainingUpdate, None, None]:
    """Step ``trainer`` until it is done, paused, at ``max_steps`` or failing; yield what happened.

    An update comes after the first step (so a screen shows training at once), then whenever
    ``every`` seconds have passed since the last one (the epochs that ended meanwhile come with it), and
    always when training is done, when ``pause`` is set (checked after each step: at least one step runs), at
    ``max_steps`` steps, and when a step fails.

    Args:
        trainer: the trainer to step (already built and checked).
        every: seconds between updates while nothing else asks for one.
        pause: set it from another thread to stop at the next step boundary.
        max_steps: stop after this many steps (``s`` in the explorer trains one); ``None``: no limit.
        pace: the most steps per second, asked before each step; ``None`` (or a ``None`` answer) is full
            speed. Between paced steps the lock is let go and the loop waits (``pause`` cuts the wait short).
        lock: held around each step and the snapshot after it (the session's model lock), so a
            trace of the same model never overlaps a step.
        clock: seconds, monotonic (tests inject their own).

    Yields:
        Frozen updates; the last one has ``final`` set. A step that fails with a user error ends
        the loop with an update whose ``error`` says why. Any other exception is nnview's own
        failure and propagates.
    """
    guard: AbstractContextManager[Any] = lock if lock is not None else contextlib.nullcontext()
    started = last = now = clock()
    first = trainer.step_count
    pending: list[StepRecord] = []
    ended: list[EpochRecord] = []
    taken = 0
    while True:
        error: ErrorRecord | None = None
        update: TrainingUpdate | None = None
        rate = pace() if pace is not None else None
        began = clock() if rate else 0.0
        # One hold of the lock and one entry into the guest guard for a run of steps (entering the
        # guard costs more than a small model's step); both are let go at least every HOLD_SECONDS,
        # so a trace asked for meanwhile waits no longer than that.
        with guard, trainer.guest():
            held = now  # when the last step ended: close enough, and the clock is read once per step
            while update is None:
                paused_before = taken > 0 and pause is not None and pause.is_set()  # e.g. during a paced wait
                if not trainer.done and not paused_before:
                    try:
                        outcome = trainer.step_in_guest()
                    except NnviewError as exc:
                        error = exc.record
                    else:
                        taken += 1
                        pending.append(outcome.step)
                        if outcome.epoch is not None:
                            ended.append(outcome.epoch)
                now = clock()
                done = trainer.done
                paused = pause is not None and pause.is_set()
                final = error is not None or done or paused or (max_steps is not None and taken >= max_steps)
                if final or taken == 1 or now - last >= every:
                    update = _snapshot(trainer, pending, ended, error, final, first, now - started)
                elif rate or now - held >= HOLD_SECONDS:
                    break  # paced: one step per hold
        if update is not None:
            yield update  # outside the lock: a caller that takes its time holds no one up
            pending, ended, last = [], [], now
            if update.final:
                return
        if rate:
            wait = 1.0 / rate - (clock() - began)
            if wait > 0:  # outside the lock: traces and keys go on while the loop waits; a pause ends the wait
                pause.wait(wait) if pause is not None else time.sleep(wait)
        elif update is None and lock is not None:
            time.sleep(0)  # let a thread waiting for the lock take it before the next run of steps does


def _snapshot(
    trainer: Trainer,
    pending: list[StepRecord],
    ended: list[EpochRecord],
    error: ErrorRecord | None,
    final: bool,
    first: int,
    seconds: float,
) -> TrainingUpdate:
    """The update after the steps in ``pending``, read from the trainer while the lock is held."""
    return TrainingUpdate(
        epoch=min(trainer.epoch + 1, trainer.config.epochs),
        epochs=trainer.config.epochs,
        step=trainer.step_count,
        steps_per_epoch=trainer.steps_per_epoch,
        done=trainer.done,
        lr=float(trainer.optimizer.param_groups[0]["lr"]),
        steps_per_second=(trainer.step_count - first) / max(seconds, 1e-9),
        steps=tuple(pending),
        epoch_records=tuple(ended),
        error=error,
        final=final,
    )
