"""The example input of one forward pass, and the dtype names ``--input`` and the tables use.

Shared by loading (which decides the input) and tracing (which feeds it): tracing works on any
``nn.Module`` and an :class:`ExampleInput`, with no model file involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tui.core.records import ErrorRecord, NnviewError, TensorSpec

DTYPES: dict[str, torch.dtype] = {
    "float": torch.float32,
    "float32": torch.float32,
    "float64": torch.float64,
    "double": torch.float64,
    "half": torch.float16,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "long": torch.int64,
    "int64": torch.int64,
    "int": torch.int32,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


@dataclass(frozen=True)
class ExampleInput:
    """Arguments for one forward pass and where they came from.

    Attributes:
        args: positional arguments.
        kwargs: keyword arguments.
        inferred: whether nnview made them up from the first layer.
        origin: a phrase for people, e.g. ``"example_input in the file"``.
    """

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    inferred: bool = False
    origin: str = ""


_DTYPE_NAMES: dict[torch.dtype, str] = {}


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"`` (cached: the tracer asks for every tensor)."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model with neither)."""
    for param in model.parameters():
        return param.device
    for buffer in model.buffers():
        return buffer.device
    return torch.device("cpu")


def make_tensor(spec: TensorSpec, device: torch.device, id_limit: int, generator: torch.Generator) -> torch.Tensor:
    """A tensor of ``spec``'s shape: normal floats, or integers in ``[0, id_limit)``."""
    dtype = DTYPES[spec.dtype]
    if device.type == "meta":
        return torch.empty(spec.shape, dtype=dtype, device="meta")
    if dtype.is_floating_point:
        values = torch.randn(spec.shape, generator=generator).to(dtype)
    elif dtype == torch.bool:
        values = torch.randint(0, 2, spec.shape, generator=generator).bool()
    else:
        values = torch.randint(0, id_limit, spec.shape, generator=generator).to(dtype)
    return values.to(device)


def random_like(example: ExampleInput, generator: torch.Generator, draw: int) -> ExampleInput:
    """New random tensors with the shapes and dtypes of ``example`` (integer ids stay in their range)."""

    def fresh(value: Any) -> Any:
        if not isinstance(value, torch.Tensor):
            return value
        spec = TensorSpec(tuple(value.shape), dtype_name(value.dtype))
        if spec.dtype not in DTYPES:
            raise NnviewError(
                ErrorRecord(
                    kind="input",
                    message=f"cannot draw random {spec.dtype} inputs",
                    hint="use b only with float or integer inputs",
                )
            )
        limit = int(value.max()) + 1 if not value.is_floating_point() and value.numel() else 10
        return make_tensor(spec, value.device, max(limit, 2), generator)

    args = tuple(fresh(a) for a in example.args)
    kwargs = {k: fresh(v) for k, v in example.kwargs.items()}
    return ExampleInput(args, kwargs, example.inferred, f"random batch {draw}")
