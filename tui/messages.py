"""Messages that workers post to the UI (thread-safe: workers never touch widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from torch import nn

from tui.core.boundary import DecisionBoundary
from tui.core.health import LayerHealth
from tui.core.records import ErrorRecord, TraceResult
from tui.core.training import EpochRecord, StepRecord


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
    """Steps since the last message (losses), the latest epoch end if one happened, and the rate."""

    steps: list[StepRecord]
    epoch: EpochRecord | None
    steps_per_second: float
    lr: float


@dataclass
class TrainingHealth(Message):
    """Per-layer health sampled from the training model."""

    health: list[LayerHealth]


@dataclass
class TrainingStopped(Message):
    """The training worker stopped: finished, paused, or failed with ``error``."""

    reason: str
    error: ErrorRecord | None = None


@dataclass
class TrainingBoundary(Message):
    """The decision boundary over the input plane, for 2-D data, at the end of ``epoch``."""

    boundary: DecisionBoundary
    epoch: int


@dataclass
class CheckpointSaved(Message):
    """A save finished: ``path`` on success, else ``error``; ``then`` is what was waiting on it ("exit", "reload")."""

    path: str | None
    error: ErrorRecord | None = None
    then: str = ""
