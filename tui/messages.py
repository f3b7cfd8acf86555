"""Messages that workers post to the UI (thread-safe: workers never touch widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from torch import nn

from tui.core.records import ErrorRecord, TraceResult


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
