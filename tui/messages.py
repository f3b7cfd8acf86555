"""Messages that workers post to the UI (thread-safe: workers never touch widgets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # annotations only: importing this module must not import torch (the first frame comes first)
    from torch import nn

    from tui.core.live_training import LiveView
    from tui.core.records import ErrorRecord, TraceResult
    from tui.core.train.loop import TrainingUpdate


@dataclass
class TraceReady(Message):
    """A trace finished: the explorer shows ``result`` of ``model``; ``reason`` says what caused it."""

    result: TraceResult
    model: nn.Module
    reason: str


@dataclass
class TraceFailed(Message):
    """Loading or tracing failed with a user error."""

    error: ErrorRecord
    reason: str


@dataclass
class ModelFileChanged(Message):
    """The watched model file was saved."""

    path: str


@dataclass
class TrainingProgress(Message):
    """An update from the training loop: a frozen snapshot (steps since the last one, epoch end, rate)."""

    update: TrainingUpdate


@dataclass
class TrainingLiveView(Message):
    """The model seen between steps: layer health and, for 2-D data, the decision boundary."""

    view: LiveView


@dataclass
class TrainingStopped(Message):
    """The training worker stopped: finished, paused, reset, or failed with ``error``."""

    reason: str
    error: ErrorRecord | None = None


@dataclass
class CheckpointSaved(Message):
    """A save finished: ``path`` on success, else ``error``; ``then`` is what was waiting on it ("exit", "reload").

    ``step`` is the step count the checkpoint holds (on success).
    """

    path: str | None
    error: ErrorRecord | None = None
    then: str = ""
    step: int = 0
