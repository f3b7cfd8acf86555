"""Running torch's ONNX exporter on a model and its example input: the file as bytes, its names, PyTorch's outputs.

nnview uses the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``), not the
default ``torch.export``-based one (the default since torch 2.9): it records exactly the forward
nnview traces (Python branches on tensor values included, which ``torch.export`` refuses), needs no
``onnxscript``, takes hundredths of a second where the other takes seconds, and names the aten op it
cannot translate. It is deprecated upstream but present in every torch this project supports.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.guest.usercode import is_user_file
from tui.core.load.input_checks import forward_parameters
from tui.core.records import ErrorRecord, NnviewError

EXPORTER = "TorchScript exporter"
BATCH = "batch"  # the name of the dynamic batch axis in the file
MAX_NOTES = 3
_TRACER_WARNING: type[Warning] = getattr(torch.jit, "TracerWarning", UserWarning)


@dataclass(frozen=True)
class Exported:
    """What the exporter made, with what it was made from.

    Attributes:
        data: the serialized ONNX model.
        inputs: the graph's input tensors, in order (the example input, made positional).
        reference: PyTorch's outputs on ``inputs``, flattened as the graph's outputs are.
        dynamic: whether the graph's batch axis is dynamic.
        notes: what the exporter warned about that a reader of the file should know.
    """

    data: bytes
    inputs: tuple[torch.Tensor, ...]
    reference: tuple[torch.Tensor, ...]
    dynamic: bool
    notes: tuple[str, ...] = ()


@contextlib.contextmanager
def model_kept(model: nn.Module) -> Iterator[None]:
    """Eval mode, no grad, no attention fast path; every module's mode and parameter's flag put back after.

    The exporter restores only the top module's mode (``model.train(was)``), which would flatten a mix
    of modes (a frozen batch norm inside a training model); this restores each module's own.
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    try:
        model.eval()
        torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel has no ONNX translation
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            if module.training != training:
                object.__setattr__(module, "training", training)
        for param, requires_grad in flags:
            if param.requires_grad != requires_grad:
                param.requires_grad_(requires_grad)
        torch.backends.mha.set_fastpath_enabled(fastpath)


def graph_inputs(model: nn.Module, example: ExampleInput) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The example input as positional arguments in ``forward``'s order, and a name for each.

    Keyword arguments are placed where ``forward`` declares them, as the exporter itself does; names
    are ``forward``'s parameter names (``input_0``… where it has none).
    """
    params = [p for p in forward_parameters(model) or () if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in params]
    args = list(example.args)
    kwargs = dict(example.kwargs)
    for param in params[len(args) :]:
        if not kwargs:
            break
        if param.name in kwargs:
            args.append(kwargs.pop(param.name))
        elif param.default is not inspect.Parameter.empty:
            args.append(param.default)
        else:
            break
    if kwargs:  # **kwargs, or a name forward does not declare: the exporter cannot place them
        raise NnviewError(
            ErrorRecord(
                kind="export",
                message=f"the ONNX exporter takes positional inputs, and forward has no place for {sorted(kwargs)}",
                hint="give forward a named parameter for each input, or pass the inputs positionally",
            )
        )
    named = tuple(names[i] if i < len(names) else f"input_{i}" for i in range(len(args)))
    return tuple(args), named


def flat_tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in an output, in the order the exporter flattens it (tuples, lists, dict values)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat_tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in flat_tensors(item)]
    return []


def output_names(value: Any) -> tuple[str, ...]:
    """``("output",)``, a dict's keys, or ``output_0``…, for outputs one level deep; ``()`` otherwise."""
    if isinstance(value, torch.Tensor):
        return ("output",)
    if isinstance(value, dict) and all(isinstance(v, torch.Tensor) for v in value.values()):
        return tuple(str(k) for k in value)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return tuple(f"output_{i}" for i in range(len(value)))
    return ()


def export_to_bytes(
    model: nn.Module, example: ExampleInput, opset: int | None, dynamic_batch: bool, user_files: tuple[str, ...] = ()
) -> Exported:
    """Export ``model`` called on ``example``; the caller keeps the model (:func:`model_kept`) and the guest state.

    Args:
        model: the model, already in eval mode.
        example: the input to record the graph with (the one nnview traced).
        opset: the ONNX opset, ``None`` for the exporter's default.
        dynamic_batch: make axis 0 of every input (and of the outputs that share it) the dynamic ``batch``.
        user_files: the model's files: the tracer's warnings about lines in them become notes.

    Raises:
        Exception: whatever the exporter raised (see :mod:`tui.core.export.failures`).
    """
    args, names = graph_inputs(model, example)
    reference = model(*args)
    out_names = output_names(reference)
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    # Only when every input is a tensor do the names line up with the graph's inputs.
    dynamic = dynamic_batch and len(tensors) == len(args) and any(t.dim() >= 1 for t in tensors)
    axes: dict[str, dict[int, str]] = {}
    if dynamic:
        batch = next(t.shape[0] for t in tensors if t.dim() >= 1)
        axes = {name: {0: BATCH} for name, t in zip(names, tensors, strict=True) if t.dim() >= 1}
        flat = flat_tensors(reference)
        if len(flat) == len(out_names):
            axes |= {
                name: {0: BATCH}
                for name, t in zip(out_names, flat, strict=True)
                if t.dim() >= 1 and t.shape[0] == batch
            }
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(
            model,
            args,
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to any binary file object
            dynamo=False,
            opset_version=opset,
            input_names=list(names) if len(tensors) == len(args) else None,
            output_names=list(out_names) or None,
            dynamic_axes=axes or None,
        )
    return Exported(
        data=buffer.getvalue(),
        inputs=tuple(tensors),
        reference=tuple(flat_tensors(reference)),
        dynamic=dynamic,
        notes=_notes(caught, user_files),
    )


def _notes(caught: list[warnings.WarningMessage], user_files: tuple[str, ...]) -> tuple[str, ...]:
    """The tracer's warnings about the user's own lines: a value the graph fixed where the model computes it."""
    notes: dict[str, str] = {}
    for warning in caught:
        if not issubclass(warning.category, _TRACER_WARNING) or not is_user_file(warning.filename, user_files):
            continue
        where = f"{os.path.basename(warning.filename)}:{warning.lineno}"
        first = str(warning.message).split(". ")[0].rstrip(".")
        notes.setdefault(where, f"{where}: {first}; the file holds the value of this input, not the computation")
    return tuple(notes.values())[:MAX_NOTES]
