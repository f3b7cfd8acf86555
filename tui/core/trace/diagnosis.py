"""A failed forward pass -> an :class:`ErrorRecord` that names the layer and says how to fix it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tui.core.example_input import dtype_name
from tui.core.guest.usercode import describe_exception, user_location
from tui.core.records import ErrorRecord, LayerRecord, TensorSpec, shape_arg, shape_text
from tui.core.trace.calls import CallLog
from tui.core.trace.own_errors import internal_error

MODEL_INPUT = "the model input"
_Finding = tuple[str, str, str, str]  # kind, message, hint, expected
_DTYPE_WORDS = ("dtype", "scalar type", "input type", "same type", "expected scalar", "found dtype")
_SHAPE_WORDS = ("shape", "size", "dimension", "cannot be multiplied", "mat1 and mat2", "expected input")


def _shape(t: torch.Tensor) -> str:
    return shape_text(tuple(t.shape))


def _producer(x: torch.Tensor, log: CallLog) -> str:
    """Where ``x`` came from, for "receives 10 features from fc1".

    The layer whose output it is (through activations); the model input if it is one of the
    example tensors; else the code after the last layer that finished (``x * 0.5`` and the like).
    """
    for index in log.produced_by(x):
        if 0 < index < len(log.calls):
            return log.calls[index].name
    if any(t is x for t in log.model_inputs):
        return MODEL_INPUT
    finished = [call for call in log.calls if call.outputs and call.index != 0 and call.is_leaf]
    return f"the code after {finished[-1].name}" if finished else MODEL_INPUT


def _check_module(module: nn.Module, name: str, x: torch.Tensor | None, source: str) -> _Finding | None:
    """Type-specific checks of the first input against what the layer needs; ``None`` if none apply."""
    if x is None:
        return None
    weight = getattr(module, "weight", None)
    kind = type(module).__name__
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        if x.is_floating_point():
            return (
                "dtype",
                f"{name} ({kind}) needs integer ids but got {dtype_name(x.dtype)} values",
                f"feed token ids as integers, e.g. x.long(), or --input {'x'.join(map(str, x.shape))}:long",
                "integer ids (torch.long)",
            )
        if x.numel() and x.device.type != "meta" and (int(x.max()) >= module.num_embeddings or int(x.min()) < 0):
            return (
                "input",
                f"{name} ({kind}) has {module.num_embeddings} embeddings but got ids "
                f"from {int(x.min())} to {int(x.max())}",
                f"keep ids in [0, {module.num_embeddings}) or raise num_embeddings to at least {int(x.max()) + 1}",
                f"ids in [0, {module.num_embeddings})",
            )
        return None
    if (
        isinstance(weight, torch.Tensor)
        and x.dtype != weight.dtype
        and (x.is_floating_point() or weight.is_floating_point())
    ):
        want = dtype_name(weight.dtype)
        shape = shape_arg(tuple(x.shape))
        fix = (
            # Not "without :float64": --input 4x5 means float32, wrong for a float64 or half model.
            f"feed {want} values: x.to(torch.{want}) in the file, or --input {shape}:{want}"
            if source == MODEL_INPUT
            else f"convert the tensor to {want} (x.to(torch.{want})) before {name}"
        )
        return ("dtype", f"{name} ({kind}) has {want} weights but got {dtype_name(x.dtype)} input", fix, want)
    if isinstance(module, nn.Linear) and x.dim() >= 1 and x.shape[-1] != module.in_features:
        got = x.shape[-1]
        return (
            "shape_mismatch",
            f"{name} = nn.Linear({module.in_features}, {module.out_features}) got input {_shape(x)}: "
            f"{got} features where it needs {module.in_features}",
            f"{name} = nn.Linear({module.in_features}, {module.out_features}) receives {got} features from {source}: "
            + (
                f"feed inputs with {module.in_features} features, or change in_features to {got}"
                if source == MODEL_INPUT
                else f"change in_features to {got}"
            ),
            f"(*, {module.in_features})",
        )
    if isinstance(module, nn.modules.conv._ConvNd):
        dims = len(module.kernel_size)
        if x.dim() not in (dims + 1, dims + 2):
            return (
                "shape_mismatch",
                f"{name} ({kind}) needs a {dims + 2}-D input (batch, channels, ...) but got {_shape(x)}",
                f"reshape the input to (batch, {module.in_channels}, {', '.join(['size'] * dims)}) before {name}",
                f"(N, {module.in_channels}, {', '.join(['*'] * dims)})",
            )
        got = x.shape[-dims - 1]
        if got != module.in_channels:
            return (
                "shape_mismatch",
                f"{name} ({kind}) expects {module.in_channels} input channels but got {got} (input {_shape(x)})",
                f"{name} receives {got} channels from {source}: change in_channels to {got}",
                f"{module.in_channels} channels",
            )
    if isinstance(module, nn.LayerNorm):
        norm_shape = tuple(module.normalized_shape)
        if tuple(x.shape[-len(norm_shape) :]) != norm_shape:
            return (
                "shape_mismatch",
                f"{name} = nn.LayerNorm({list(norm_shape)}) got input {_shape(x)}: its last dimensions differ",
                f"{name} receives {_shape(x)} from {source}: change normalized_shape to {x.shape[-1]}",
                f"(*, {', '.join(map(str, norm_shape))})",
            )
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and x.dim() >= 2 and x.shape[1] != module.num_features:
        return (
            "shape_mismatch",
            f"{name} ({type(module).__name__}) expects {module.num_features} features/channels but got {x.shape[1]}",
            f"{name} receives {x.shape[1]} channels from {source}: change num_features to {x.shape[1]}",
            f"(N, {module.num_features}, ...)",
        )
    if isinstance(module, nn.RNNBase) and x.dim() >= 1 and x.shape[-1] != module.input_size:
        return (
            "shape_mismatch",
            f"{name} ({type(module).__name__}) expects input_size {module.input_size} but got {x.shape[-1]} features",
            f"{name} receives {x.shape[-1]} features from {source}: change input_size to {x.shape[-1]}",
            f"(*, {module.input_size})",
        )
    return None


def _classify(exc: BaseException) -> str:
    text = str(exc).lower()
    if any(w in text for w in _DTYPE_WORDS):
        return "dtype"
    if any(w in text for w in _SHAPE_WORDS):
        return "shape_mismatch"
    return "forward"


def diagnose(
    exc: BaseException,
    log: CallLog,
    partial: tuple[LayerRecord, ...] = (),
    user_files: tuple[str, ...] = (),
) -> ErrorRecord:
    """Explain a forward failure: the innermost module that was running, what it got and needed.

    When nnview's own code raised (a hook, the statistics), it says so instead: kind ``internal``.

    Args:
        exc: the exception forward raised; its traceback tells nnview's failures from the model's and
            gives the location (without one, the failure is the model's, at no known location).
        log: the module calls traced up to the failure; ``log.failing`` is the layer that raised.
        partial: the layer records of those calls, handed on in the error record.
        user_files: the model's source files, so the location points into them.
    """
    failing = log.failing_call
    own = internal_error(exc, failing, partial)
    if own is not None:
        return own
    location = user_location(exc, user_files)
    where = f" (at {location})" if location else ""
    if failing is None:
        return ErrorRecord(
            kind=_classify(exc),
            message=f"the forward pass failed before any layer ran: {describe_exception(exc)}{where}",
            hint="check the example input and the start of forward()",
            location=location,
            partial=partial,
        )
    module: Any = failing.module
    name = failing.name or type(module).__name__
    first = failing.inputs[0] if failing.inputs else None
    inputs = tuple(TensorSpec(tuple(t.shape), dtype_name(t.dtype)) for t in failing.inputs)
    found = _check_module(module, name, first, _producer(first, log) if first is not None else "")
    if found is not None:
        kind, message, hint, expected = found
    elif isinstance(exc, SystemExit):
        kind, expected = "forward", None
        message = f"{name} called sys.exit({exc.code!r}) during forward()"
        hint = f"remove the sys.exit call at {location}: nnview runs forward() to trace the model"
    else:
        kind = _classify(exc)
        label = f"{name} ({type(module).__name__})" if failing.name else name
        message = f"{label} failed: {describe_exception(exc)}"
        hint = f"look at {location} and the shapes {name} receives" if location else f"check the inputs {name} receives"
        expected = None
    return ErrorRecord(
        kind=kind,
        message=message + where if found is None else message,
        hint=hint,
        layer=failing.name,
        type=type(module).__name__,
        inputs=inputs,
        expected=expected,
        location=location,
        partial=partial,
    )
