"""Frozen dataclasses for a user mistake: what went wrong, where, and how to fix it.

The core raises :class:`NnviewError` with an :class:`ErrorRecord`; the CLI, the report and the TUI
show the record (through :mod:`tui.core.records`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.core.trace_records import LayerRecord, TensorSpec

ERROR_KINDS = (
    "shape_mismatch",
    "dtype",
    "forward",
    "load",
    "syntax",
    "no_model",
    "ambiguous",
    "input",
    "internal",  # nnview's own code failed: a bug in nnview, never blamed on the model
    "save",  # a checkpoint path refused before training, or a write that failed (see tui.core.load.save_path)
    "export",  # an ONNX export that failed: the op ONNX cannot express, or the exporter's own refusal
)


@dataclass(frozen=True)
class ErrorRecord:
    """A user mistake, as data: what went wrong, where, and how to fix it.

    Attributes:
        kind: one of ``ERROR_KINDS``.
        message: one sentence that says what is wrong.
        hint: one sentence that says how to fix it.
        layer: qualified name of the innermost module involved, if any.
        type: that module's class name.
        inputs: the tensors that module received.
        expected: what the module needed, when that can be derived.
        location: ``file:line`` (or ``file:line:column``) in the user's code, when known.
        partial: the layers traced before the failure.
        candidates: for ``ambiguous``, the names the user can pick from.
        output: text the model file printed while loading.
    """

    kind: str
    message: str
    hint: str
    layer: str | None = None
    type: str | None = None
    inputs: tuple[TensorSpec, ...] = ()
    expected: str | None = None
    location: str | None = None
    partial: tuple[LayerRecord, ...] = ()
    candidates: tuple[str, ...] = ()
    output: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` body of ``--json`` output."""
        return {
            "kind": self.kind,
            "layer": self.layer,
            "type": self.type,
            "inputs": [list(t.shape) for t in self.inputs],
            "expected": self.expected,
            "hint": self.hint,
            "message": self.message,
            "location": self.location,
            "candidates": list(self.candidates),
        }


class NnviewError(Exception):
    """Raised by the core for a user mistake; carries the :class:`ErrorRecord`."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(record.message)
        self.record = record
