"""Training as the explorer shows it: the one loop's updates, and a live view of the model between them.

At a capped rate between updates, the explorer's batch is re-traced with the training weights and
layer health is sampled; for inputs on a plane, the decision boundary is drawn at epoch ends. All of
it holds the session's lock, so none of it overlaps a step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
from torch import nn

from tui.core.records import NnviewError, TraceResult
from tui.core.session import ModelSession
from tui.core.train.boundary import DecisionBoundary, decision_boundary, has_plane_inputs
from tui.core.train.health import LayerHealth, layer_health, weights_snapshot
from tui.core.train.loop import UPDATE_EVERY, TrainingUpdate, training_updates
from tui.core.train.trainer import Trainer

RETRACE_EVERY = 1.0  # seconds between live re-traces (and health samples); also after the last step
BOUNDARY_EVERY = 0.5  # seconds between decision boundaries at epoch ends; one always follows the last step
HEALTH_SAMPLES = 256  # validation samples the layer health is measured on


@dataclass(frozen=True)
class LiveView:
    """The model being trained, seen between two steps.

    Attributes:
        model: the model (for the views that explain a layer's weights).
        result: the explorer's batch traced with the current weights, if re-traced this time.
        health: per-layer health since the previous sample, with ``result``.
        boundary: the predicted class over the input plane, if drawn this time.
        epoch: epochs finished when it was sampled.
    """

    model: nn.Module
    result: TraceResult | None = None
    health: tuple[LayerHealth, ...] = ()
    boundary: DecisionBoundary | None = None
    epoch: int = 0


def live_training(
    session: ModelSession,
    trainer: Trainer,
    *,
    pause: threading.Event | None = None,
    max_steps: int | None = None,
    pace: Callable[[], float | None] | None = None,
    every: float = UPDATE_EVERY,
    retrace_every: float = RETRACE_EVERY,
    boundary_every: float = BOUNDARY_EVERY,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[TrainingUpdate | LiveView]:
    """Walk :func:`training_updates` under the session's lock; after an update, a live view when one is due.

    Args:
        session: the explorer's session (its lock, its batch to re-trace).
        trainer: the session's trainer.
        pause: set it to stop at the next step boundary.
        max_steps: stop after this many steps (``None``: until done or paused).
        pace: the most steps per second, asked before each step (``None`` or a ``None`` answer: full speed).
        every: seconds between training updates.
        retrace_every: seconds between re-traces and health samples (one always follows the last step).
        boundary_every: seconds between decision boundaries (inputs on a plane only; at epoch ends, and
            always after the last step).
        clock: seconds, monotonic.

    Yields:
        Training updates, each followed by a live view when one is due. A live view that fails ends
        training with a final update whose ``error`` says why (no steps in it: they were shown).
    """
    plane = has_plane_inputs(trainer.data)
    last_trace = last_boundary = -math.inf
    with session.lock:
        before, before_step = weights_snapshot(trainer.model), trainer.step_count
    updates = training_updates(
        trainer, every=every, pause=pause, max_steps=max_steps, pace=pace, lock=session.lock, clock=clock
    )
    for update in updates:
        yield update
        if update.error is not None:
            return
        if not update.steps:  # nothing changed (the trainer was done already): nothing new to look at
            continue
        now = clock()
        retrace = update.final or now - last_trace >= retrace_every
        due = update.epoch_record is not None and now - last_boundary >= boundary_every
        boundary = plane and (update.final or due)  # the last one always: the plot must match where training stopped
        if not (retrace or boundary):
            continue
        try:
            steps = update.step - before_step
            view, before = sample_live_view(session, trainer, before, retrace=retrace, boundary=boundary, steps=steps)
            if retrace:
                before_step = update.step
        except NnviewError as exc:
            updates.close()
            yield replace(update, steps=(), epoch_records=(), error=exc.record, final=True)
            return
        if retrace:
            last_trace = clock()
        if boundary:
            last_boundary = clock()
        yield view


def sample_live_view(
    session: ModelSession,
    trainer: Trainer,
    before: dict[str, torch.Tensor],
    *,
    retrace: bool = True,
    boundary: bool = False,
    steps: int = 1,
) -> tuple[LiveView, dict[str, torch.Tensor]]:
    """Look at the model between steps, holding the session's lock.

    Args:
        session: the explorer's session.
        trainer: its trainer.
        before: the weights at the previous sample (health's update ratios are measured from them).
        retrace: re-trace the explorer's batch and sample layer health.
        boundary: draw the decision boundary over the input plane.
        steps: optimizer steps since ``before`` (health's update ratio is per step).

    Returns:
        The view, and the weights to measure the next sample's updates from.

    Raises:
        NnviewError: the re-trace failed (the model's forward, with these weights).
    """
    with session.lock:
        view = LiveView(trainer.model, epoch=trainer.epoch)
        if retrace:
            result = session.retrace()
            sample = trainer.data.x_val[:HEALTH_SAMPLES].to(trainer.device)
            view = replace(view, result=result, health=tuple(layer_health(trainer.model, sample, before, steps)))
            before = weights_snapshot(trainer.model)
        if boundary:
            view = replace(view, boundary=decision_boundary(trainer.model, trainer.data))
    return view, before
