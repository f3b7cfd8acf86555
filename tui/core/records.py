"""Frozen dataclasses: the data model every other part of nnview speaks.

The core makes these; the CLI, the report and the TUI only read them. They live in two modules,
re-exported here: :mod:`tui.core.trace_records` (what a traced forward pass found: layers, tensors,
statistics, totals) and :mod:`tui.core.error_records` (a user mistake and the exception that carries it).
"""

from __future__ import annotations

from tui.core.error_records import ERROR_KINDS, ErrorRecord, NnviewError
from tui.core.trace_records import (
    LayerRecord,
    ModeDependentLayer,
    OutputStats,
    TensorSpec,
    Totals,
    TraceResult,
    shape_arg,
    shape_text,
)

__all__ = [
    "ERROR_KINDS",
    "ErrorRecord",
    "LayerRecord",
    "ModeDependentLayer",
    "NnviewError",
    "OutputStats",
    "TensorSpec",
    "Totals",
    "TraceResult",
    "shape_arg",
    "shape_text",
]
