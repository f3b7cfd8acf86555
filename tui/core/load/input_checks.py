"""Checks on an example input before forward runs, and moving it to the model's device.

Each check answers a user mistake with an :class:`ErrorRecord` of kind ``input`` that says how to
give the right input, instead of letting forward fail somewhere that blames the model:

- a lazy first layer (``nn.LazyLinear``) has no input size to infer from;
- forward takes more (or fewer) inputs than were given;
- ``example_input`` is a dict whose keys are not parameter names.

Moving keeps what must stay on the CPU there: a ``PackedSequence``'s ``batch_sizes`` and the integer
``lengths`` tensor ``pack_padded_sequence`` needs.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.utils.rnn import PackedSequence
from torch.utils._pytree import tree_map

from tui.core.records import ErrorRecord, NnviewError

_LENGTHS = re.compile(r"len", re.IGNORECASE)  # lengths, lens, seq_len, input_lengths, text_lengths
_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}


def is_uninitialized_lazy(module: nn.Module) -> bool:
    """A lazy module (``LazyLinear``, ``LazyConv2d``...) that has not seen a batch yet."""
    return isinstance(module, LazyModuleMixin) and module.has_uninitialized_params()


def _example_shape(module: nn.Module, batch: int) -> str:
    """A plausible ``--input`` for a lazy layer, to show the form (its real size is unknowable)."""
    kind = type(module).__name__
    dims = len(module.kernel_size) if isinstance(module, nn.modules.conv._ConvNd) else 0
    if "Norm" in kind and kind[-2:] in ("2d", "3d"):
        dims = int(kind[-2])  # a BatchNorm1d normalises (N, C): no spatial dimension to show
    if dims == 0:
        return f"{batch}x20"
    return f"{batch}x3x" + "x".join(["32"] * dims)


def lazy_first_layer(name: str, module: nn.Module, batch: int) -> ErrorRecord:
    """The refusal for a lazy first layer: guessing would invent a zero-sized input and build on it."""
    label = f"{name} ({type(module).__name__})" if name else type(module).__name__
    return ErrorRecord(
        kind="input",
        message=f"cannot infer the input: the first layer, {label}, learns its input size from the first batch",
        hint=f"pass --input, e.g. --input {_example_shape(module, batch)}, or set example_input in the file",
        layer=name,
        type=type(module).__name__,
    )


def forward_parameters(model: nn.Module) -> list[inspect.Parameter] | None:
    """``forward``'s parameters (without ``self``); ``None`` when its signature cannot be read."""
    try:
        return list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return None


def positional_names(model: nn.Module) -> list[str]:
    """Names of forward's positional parameters, in order (empty when unknown)."""
    params = forward_parameters(model) or []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds]


def check_forward_arity(model: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], origin: str) -> None:
    """Refuse an input that cannot bind to ``forward``'s parameters, naming them and how to pass them.

    Raises:
        NnviewError: kind ``input``: "forward takes 2 inputs (image, tabular) but got 1 ...".
    """
    params = forward_parameters(model)
    if params is None or model._forward_pre_hooks:  # a pre-hook may supply or change the arguments
        return
    try:
        inspect.Signature(params).bind(*args, **kwargs)
        return
    except TypeError:
        pass
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    required = [p.name for p in positional if p.default is inspect.Parameter.empty and p.name not in kwargs]
    names = {p.name for p in params}
    unknown = [key for key in kwargs if key not in names]
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        listed = ", ".join(p.name for p in params) or "none"
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"forward has no parameter named {unknown[0]!r} (its parameters: {listed}), from {origin}",
                hint="name example_input's keys after forward's parameters, or pass a tuple of positional inputs",
            )
        )
    count = len(required)
    if len(args) < count:
        shown = ", ".join(required)
        noun = "input" if count == 1 else "inputs"
        got = f"got {len(args)}" + (f" ({origin})" if origin else "")
        placeholders = ", ".join(f"x{i + 1}" for i in range(count))
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"forward takes {count} {noun} ({shown}) but {got}",
                hint=f"pass --input {_TIMES.get(count, f'{count} times')}, once per input in that order, "
                f"or set example_input = ({placeholders}) in the file",
            )
        )
    capacity = len(positional)
    shown = ", ".join(p.name for p in positional) or "none"
    raise NnviewError(
        ErrorRecord(
            kind="input",
            message=f"forward takes {capacity} input{'s' if capacity != 1 else ''} ({shown}) "
            f"but got {len(args)} ({origin})",
            hint=f"give one input per parameter of forward({shown}): drop the extra --input, or change example_input",
        )
    )


def check_keywords(value: dict[Any, Any], origin: str) -> None:
    """A dict ``example_input`` is keyword arguments: every key must be a parameter name.

    Raises:
        NnviewError: kind ``input`` for a key such as ``0``.
    """
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"{origin} is a dict with the key {bad[0]!r}: a dict gives forward keyword arguments, "
                "so its keys must be forward's parameter names",
                hint="set example_input = torch.randn(4, 5) for one input, a tuple for several, "
                "or a dict like {'x': torch.randn(4, 5)}",
            )
        )


def is_lengths(name: str, value: Any) -> bool:
    """An integer 1-D tensor passed as a ``lengths``-like parameter: ``pack_padded_sequence`` wants it on the CPU."""
    return (
        isinstance(value, torch.Tensor)
        and value.dim() == 1
        and not value.is_floating_point()
        and not value.is_complex()
        and bool(_LENGTHS.search(name))
    )


def full_lengths(count: int, others: list[torch.Tensor]) -> torch.Tensor:
    """A ``lengths`` input nnview makes: every sequence full length, on the CPU.

    The length is the dimension of the first sequence input (among its first two) that is not the batch.
    """
    for tensor in others:
        if tensor.dim() >= 2:
            first, second = tensor.shape[0], tensor.shape[1]
            length = first if second == count else second
            return torch.full((count,), int(length), dtype=torch.int64)
    return torch.ones((count,), dtype=torch.int64)


def _meta_lengths(name: str) -> ErrorRecord:
    return ErrorRecord(
        kind="input",
        message=f"the {name!r} input is on the meta device, so it has no values, and pack_padded_sequence "
        "needs the real lengths on the CPU",
        hint="under --meta the file's top level makes meta tensors: define `def example_input():` returning the "
        "inputs (it runs outside --meta), or pass --input for each input (lengths are then full length)",
    )


def move_value(value: Any, device: torch.device, name: str = "") -> Any:
    """``value`` on ``device``, with a PackedSequence moved whole and ``lengths`` kept on the CPU."""

    def move(item: Any) -> Any:
        if isinstance(item, PackedSequence):
            # Moved whole, as PackedSequence.to does: batch_sizes must stay on the CPU, the rest moves.
            sorted_, unsorted = item.sorted_indices, item.unsorted_indices
            return PackedSequence(
                item.data.to(device),
                item.batch_sizes,
                None if sorted_ is None else sorted_.to(device),
                None if unsorted is None else unsorted.to(device),
            )
        if not isinstance(item, torch.Tensor):
            return item
        if is_lengths(name, item):
            if item.device.type == "meta":
                raise NnviewError(_meta_lengths(name))
            return item.cpu()  # pack_padded_sequence reads the values: they must stay on the CPU
        return item.to(device)

    return tree_map(move, value, is_leaf=lambda item: isinstance(item, PackedSequence))


def move_inputs(
    model: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], device: torch.device
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Every input on ``device``, named after forward's parameters so ``lengths`` can stay on the CPU."""
    names = positional_names(model)
    moved = tuple(move_value(arg, device, names[i] if i < len(names) else "") for i, arg in enumerate(args))
    return moved, {key: move_value(value, device, key) for key, value in kwargs.items()}


def kept_lengths(
    model: nn.Module,
    old: tuple[tuple[Any, ...], dict[str, Any]],
    new: tuple[tuple[Any, ...], dict[str, Any]],
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``new`` inputs with the ``lengths`` of ``old``: random lengths would not be valid for packing."""
    names = positional_names(model)
    args = tuple(
        before if i < len(names) and is_lengths(names[i], before) else after
        for i, (before, after) in enumerate(zip(old[0], new[0], strict=True))
    )
    kwargs = {key: old[1][key] if is_lengths(key, old[1][key]) else value for key, value in new[1].items()}
    return args, kwargs
