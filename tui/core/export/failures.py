"""Why an export failed, as an error record: the aten op the exporter cannot translate, its layer and line.

The exporter says which op it stopped at (``aten::linalg_svd``) but not where the model called it.
The layer comes from the graph the tracer records: every node carries the scope of the module whose
forward made it (``__module.blocks/__module.blocks.1``) and the Python stack that called it.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import torch
from torch import nn

from tui.core.guest.usercode import describe_exception, is_user_file, user_location
from tui.core.records import ErrorRecord

_UNSUPPORTED = re.compile(r"operator '(?P<op>[\w.:]+)' to ONNX opset version (?P<opset>\d+)")
_ADDED_IN = re.compile(r"added in version (?P<version>\d+)")
_NODE_KIND = re.compile(r"Unsupported: ONNX export of (?:operator )?(?P<op>[\w.:]+)|node has kind '(?P<kind>[\w.:]+)'")
_FRAME = re.compile(r"^(?P<file>.+)\((?P<line>\d+)\): (?P<function>\S+)$")
_SCOPE_PREFIX = "__module."
HINT = "rewrite that step with operations ONNX has, or move it out of forward"


def failing_op(exc: BaseException) -> str | None:
    """The aten op an exporter error names (``aten::linalg_svd``), else ``None``."""
    text = str(exc)
    found = _UNSUPPORTED.search(text)
    if found:
        return found.group("op")
    found = _NODE_KIND.search(text)
    if found:
        op = found.group("op") or found.group("kind")
        return op if "::" in op else f"aten::{op}"
    return None


def find_op(model: nn.Module, inputs: tuple[Any, ...], op: str, user_files: tuple[str, ...]) -> tuple[str, str | None]:
    """(the qualified name of the module whose forward calls ``op``, the user's ``file:line``) from a fresh trace.

    The name is ``""`` for the model's own forward (or when the trace does not show the op).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.trace's deprecation, the tracer's warnings: told already
            traced = torch.jit.trace(model, inputs, check_trace=False, strict=False)  # type: ignore[no-untyped-call]
        nodes = list(traced.inlined_graph.nodes())
    except Exception:  # noqa: BLE001 - finding the layer is a courtesy: the error is told without it
        return "", None
    node = next((n for n in nodes if n.kind() == op), None)
    if node is None:
        return "", None
    scope = node.scopeName().split("/")[-1]  # the innermost module: "__module.blocks.1"
    name = scope.removeprefix(_SCOPE_PREFIX) if scope.startswith(_SCOPE_PREFIX) else ""
    return name, _user_line(node.sourceRange(), user_files)


def _user_line(stack: str, user_files: tuple[str, ...]) -> str | None:
    """The innermost ``file:line`` of a node's recorded Python stack that is in the user's files."""
    for line in stack.splitlines():
        frame = _FRAME.match(line.strip())
        if frame and is_user_file(frame.group("file"), user_files):
            return f"{frame.group('file')}:{frame.group('line')}"
    return None


def export_error(
    exc: BaseException, model: nn.Module, inputs: tuple[Any, ...], opset: int | None, user_files: tuple[str, ...]
) -> ErrorRecord:
    """The record for an exception the exporter raised (call it inside the guest's guards: it traces again)."""
    op = failing_op(exc)
    if op is None:
        return ErrorRecord(
            kind="export",
            message=f"the ONNX exporter failed: {describe_exception(exc)}",
            hint="run again with --debug for the exporter's traceback; `nnview summary` still shows the model",
            location=user_location(exc, user_files),
        )
    name, location = find_op(model, inputs, op, user_files)
    layer = model.get_submodule(name) if name else model
    version = _UNSUPPORTED.search(str(exc))
    at = f"ONNX opset {version.group('opset')}" if version else "ONNX"
    added = _ADDED_IN.search(str(exc))
    hint = f"pass --opset {added.group('version')} or later" if added else HINT
    detail = _detail(exc) if version is None else ""
    return ErrorRecord(
        kind="export",
        message=f"{at} has no translation for {op}{detail}",
        hint=hint,
        layer=name,  # "" for the model's own forward: the error view then names its type
        type=type(layer).__name__,
        location=location,
    )


def _detail(exc: BaseException) -> str:
    """The exporter's own reason after "Unsupported: ONNX export of X, " (first line), if it gave one."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    _, _, reason = first.partition(", ")
    reason = reason.split("  [Caused by")[0].strip().rstrip(".")
    return f" ({reason})" if reason else ""
