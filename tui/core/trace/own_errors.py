"""Telling nnview's own failures from the model's, so a bug in nnview is never blamed on the model.

nnview's hooks and dispatch mode run *inside* the model's forward call stack, so "the forward
pass raised" says nothing about whose code failed. The innermost frame does: walking the
traceback from where it was raised outwards, past torch and the standard library, the first frame
that is left is either nnview's (a hook, the statistics) or the model's (its forward, a library it
uses). Two nnview frames only pass the model's own work through and are skipped like torch: the
dispatch mode's ``__torch_dispatch__``, which runs every aten op the model calls, and the frame
that called the model in the first place.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import torch

from tui.core.guest.usercode import describe_exception
from tui.core.records import ErrorRecord, LayerRecord
from tui.core.trace.calls import ModuleCall

HINT = "run again with --debug for the traceback and report it"
_NNVIEW = str(Path(__file__).resolve().parents[1]) + os.sep
_TORCH = str(Path(torch.__file__).resolve().parent) + os.sep
_STDLIB = tuple(
    str(Path(sysconfig.get_paths()[key]).resolve()) + os.sep
    for key in ("stdlib", "platstdlib")
    if key in sysconfig.get_paths()
)
# The nnview functions that only pass the model's work through: an error under them is the model's.
_PASSTHROUGH = {("opwatch.py", "__torch_dispatch__")}
# What nnview was doing, by the module of the frame that raised.
_ACTIVITY = {
    "stats.py": "computing statistics",
    "capture.py": "computing statistics",
    "opwatch.py": "watching the aten ops",
    "matmul_flops.py": "counting MACs",
    "rnn_flops.py": "counting MACs",
    "activations.py": "naming activations",
    "tracing.py": "recording the layer calls",
}


def _kind_of_file(filename: str) -> str:
    """``"nnview"``, ``"library"`` (torch, the standard library) or ``"model"`` (everything else)."""
    path = os.path.realpath(filename)
    if path.startswith(_NNVIEW):
        return "nnview"
    if path.startswith(_TORCH):
        return "library"
    if path.startswith(_STDLIB) and "site-packages" not in path and "dist-packages" not in path:
        return "library"
    return "model"


def _frames(tb: TracebackType | None) -> list[FrameType]:
    """The traceback's frames, outermost first."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def nnview_frames(exc: BaseException, skip_outer: int = 1) -> list[FrameType]:
    """nnview's own frames that raised ``exc``, innermost first; empty when the model's code did.

    Args:
        exc: the exception, with its traceback.
        skip_outer: outermost frames to leave out: the frame that called the model and caught it.
    """
    frames = _frames(exc.__traceback__)[skip_outer:]
    for position in range(len(frames) - 1, -1, -1):
        frame = frames[position]
        kind = _kind_of_file(frame.f_code.co_filename)
        if kind == "library":
            continue
        if kind == "model":
            return []
        name = (os.path.basename(frame.f_code.co_filename), frame.f_code.co_name)
        if name in _PASSTHROUGH and position < len(frames) - 1:
            continue  # the aten op it ran failed: the model's op, not nnview's bookkeeping
        return [f for f in reversed(frames[: position + 1]) if _kind_of_file(f.f_code.co_filename) == "nnview"]
    return []


def _layer_name(frames: list[FrameType], failing: ModuleCall | None) -> str | None:
    """The layer nnview was working on: a ``call`` in one of its frames, else the running layer."""
    for frame in frames:
        local: dict[str, Any] = frame.f_locals
        call = local.get("call")
        if hasattr(call, "module") and hasattr(call, "name"):
            return _label(call)
        calls = getattr(local.get("self"), "calls", None)
        index = local.get("index")
        if isinstance(calls, list) and isinstance(index, int) and 0 <= index < len(calls):
            return _label(calls[index])
    if failing is not None:
        return _label(failing)
    return None


def _label(call: Any) -> str:
    """``fc1 (Linear)``, or the class name alone for the root model."""
    kind = type(call.module).__name__
    return f"{call.name} ({kind})" if call.name else kind


def internal_error(
    exc: BaseException, failing: ModuleCall | None = None, partial: tuple[LayerRecord, ...] = (), skip_outer: int = 1
) -> ErrorRecord | None:
    """An ``internal`` error record when nnview's own code raised ``exc``; ``None`` when the model did.

    Args:
        exc: what the traced forward pass raised.
        failing: the innermost layer that was running, used when no frame names one.
        partial: the layers traced before the failure.
        skip_outer: outermost traceback frames that only called the model (see :func:`nnview_frames`).
    """
    frames = nnview_frames(exc, skip_outer)
    if not frames:
        return None
    return internal_record(
        exc,
        _ACTIVITY.get(os.path.basename(frames[0].f_code.co_filename), "tracing the model"),
        _layer_name(frames, failing),
        partial,
    )


def internal_record(
    exc: BaseException, doing: str, layer: str | None = None, partial: tuple[LayerRecord, ...] = ()
) -> ErrorRecord:
    """The record of a failure in nnview's own code while ``doing`` something (for ``layer``)."""
    target = f" for {layer}" if layer else ""
    return ErrorRecord(
        kind="internal",
        message=f"nnview failed while {doing}{target}: {describe_exception(exc)}. "
        "This is a bug in nnview, not in your model",
        hint=HINT,
        partial=partial,
    )
