"""Second opinions on a diagnosed forward failure, where the first one would point the wrong way.

:func:`tui.core.trace.diagnosis.diagnose` explains a failure from the failing layer alone. Some failures
need what only the whole trace knows:

- the input was guessed from the first layer, so the guess, not the model, is what does not fit;
- the layer worked on its first call and failed on a later one with another shape (a shared
  layer), so changing its ``in_features`` would break the call that worked;
- the module has no ``forward()`` at all (or a misspelt ``def foward``);
- the example input handed forward something that is not a tensor.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import replace

from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.guest.usercode import describe_exception
from tui.core.records import ErrorRecord, shape_arg, shape_text
from tui.core.trace.calls import CallLog, ModuleCall

_KEEP = ("internal",)  # nnview's own failures are not the user's to fix


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _label(call: ModuleCall) -> str:
    kind = type(call.module).__name__
    return f"{call.name} ({kind})" if call.name else kind


def missing_forward(module: nn.Module) -> tuple[str, str] | None:
    """(message, hint) when ``module``'s class defines no ``forward``; ``None`` when it does."""
    cls = type(module)
    if getattr(cls, "forward", None) is not nn.Module.forward:
        return None
    own = [name for name, value in vars(cls).items() if inspect.isfunction(value) and name != "__init__"]
    close = difflib.get_close_matches("forward", own, n=1, cutoff=0.6)
    if close:
        return (
            f"{cls.__name__} has no forward() method (did you mean `{close[0]}`→`forward`?)",
            f"rename `def {close[0]}` to `def forward` in {cls.__name__}: calling a module runs its forward()",
        )
    return (
        f"{cls.__name__} has no forward() method",
        f"define `def forward(self, x):` in {cls.__name__}: calling a module runs its forward(), "
        "and nnview traces one call",
    )


def _first_call(failing: ModuleCall, log: CallLog) -> ModuleCall | None:
    return next((c for c in log.calls if c.module is failing.module and c.call == 0), None)


def _own_layer(module: nn.Module, got: int) -> str:
    """A layer of its own for the call that failed, e.g. ``nn.Linear(4, 8)``."""
    if isinstance(module, nn.Linear):
        return f"nn.Linear({got}, {module.out_features})"
    if isinstance(module, nn.modules.conv._ConvNd):
        return f"nn.{type(module).__name__}({got}, {module.out_channels}, {module.kernel_size[0]})"
    return f"a second {type(module).__name__}"


def _repeat_call(record: ErrorRecord, failing: ModuleCall, log: CallLog) -> ErrorRecord:
    """A layer that worked on call 1 and failed on call N with another shape is shared, not misbuilt."""
    first = _first_call(failing, log)
    if first is None or not first.inputs or not failing.inputs:
        return record
    before, now = tuple(first.inputs[0].shape), tuple(failing.inputs[0].shape)
    if before == now:
        return record
    module = failing.module
    got = now[1] if isinstance(module, nn.modules.conv._ConvNd) and len(now) > 1 else now[-1] if now else 0
    message = (
        f"{_label(failing)} worked on call 1 with input {shape_text(before)} and failed on call {failing.call + 1} "
        f"with input {shape_text(now)}"
    )
    hint = (
        f"{failing.name or 'the layer'} is one layer reused on differently shaped tensors, so changing its size "
        f"would break call 1: give call {failing.call + 1} a layer of its own (e.g. {_own_layer(module, got)}), "
        f"or reshape its input to match {shape_text(before)}"
    )
    return replace(record, kind="shape_mismatch", message=message, hint=hint)


def _non_tensor_input(
    record: ErrorRecord, exc: BaseException, log: CallLog, example: ExampleInput
) -> ErrorRecord | None:
    """Forward got a non-tensor from ``example_input`` where a tensor was needed: the input is wrong."""
    if example.origin == "--input" or not isinstance(exc, TypeError) or "Tensor" not in str(exc):
        return None
    failing = log.failing_call
    if failing is not None and (failing.inputs or log.depth(failing) > 1):
        return None
    values = list(example.args) + list(example.kwargs.values())
    odd = next((v for v in values if not hasattr(v, "shape")), None)
    if odd is None:
        return None
    return replace(
        record,
        kind="input",
        message=f"{example.origin} gives forward {_a(type(odd).__name__)} ({odd!r:.40}) where it needs a tensor: "
        f"{describe_exception(exc)}",
        hint="set example_input to tensors, e.g. example_input = torch.randn(4, 3) "
        "(a tuple of tensors for several inputs, a dict of them for keywords)",
    )


def _blame_guess(record: ErrorRecord, example: ExampleInput) -> ErrorRecord:
    """The guessed input did not fit: say it was guessed and how to give the real one."""
    if not example.inferred or not example.args or not hasattr(example.args[0], "shape"):
        return record
    shape = tuple(example.args[0].shape)
    guess = shape_arg(shape)
    source = example.origin.removeprefix("inferred from ")
    finished = [rec for rec in record.partial if rec.outputs and rec.index != 0 and rec.is_leaf]
    if not finished:  # the guess did not get past the layer it was made for: the guess is wrong
        return replace(
            record,
            kind="input",
            message=f"the guessed input {shape_text(shape)} does not fit the model: {record.message}",
            hint=f"the input was guessed from {source}, not given: pass --input with the shape forward() "
            f"expects (the guess was --input {guess}) or set example_input in the file",
        )
    # Past the first layer, a guess of (batch, features) fitted exactly: the model is what is wrong. A
    # guess with a made-up size (a conv's 32x32, a sequence of 16 ids or steps) may be the culprit still.
    made_up = len(shape) > 2 or not example.args[0].is_floating_point()
    if record.kind != "shape_mismatch" or not made_up:
        return record
    return replace(
        record,
        hint=f"{record.hint}; or, if forward() needs another input than the {shape_text(shape)} guessed from "
        f"{source}, pass --input or set example_input in the file",
    )


def refine(record: ErrorRecord, exc: BaseException, log: CallLog, example: ExampleInput) -> ErrorRecord:
    """``record`` corrected where the trace as a whole tells a better story (see the module docstring).

    Args:
        record: what :func:`~tui.core.trace.diagnosis.diagnose` made of the failure.
        exc: the exception forward raised.
        log: the trace so far: every call with its inputs, and the one that was running.
        example: the input forward was given, and whether it was guessed.
    """
    if record.kind in _KEEP:
        return record
    failing = log.failing_call
    if failing is not None and isinstance(exc, NotImplementedError):
        missing = missing_forward(failing.module)
        if missing is not None:
            message, hint = missing
            return replace(record, kind="forward", message=message, hint=hint, expected=None, location=None)
    odd = _non_tensor_input(record, exc, log, example)
    if odd is not None:
        return odd
    if failing is not None and failing.call > 0:
        record = _repeat_call(record, failing, log)
    return _blame_guess(record, example)
