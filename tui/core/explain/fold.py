"""How a 2 -> 2 layer folds the plane: W and b, the batch's points p -> z = W·p + b -> σ(z), and a grid.

Everything here reads a :class:`TraceResult` (and the model, for W and b); nothing re-runs it. The batch's
z and σ(z) are the values the traced pass recorded; the grid is computed here with the same W, b and σ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from tui.core.records import ErrorRecord, NnviewError, TraceResult
from tui.core.trace.activations import MODULE_ACTIVATIONS

Point = tuple[float, float]

ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": F.leaky_relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "elu": F.elu,
    "selu": F.selu,
    "celu": F.celu,
    "mish": F.mish,
    "softplus": F.softplus,
    "hardtanh": F.hardtanh,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
    "log_sigmoid": F.logsigmoid,
    "softsign": F.softsign,
    "tanhshrink": F.tanhshrink,
    "softmax": lambda z: F.softmax(z, dim=-1),
    "log_softmax": lambda z: F.log_softmax(z, dim=-1),
}


class FoldPoint(NamedTuple):
    """One of the batch's points through the layer, as the traced pass recorded it.

    Attributes:
        point: p, the 2 values the layer received.
        z: W·p + b, the layer's recorded output.
        activated: σ(z), the recorded output of the activation that follows; ``None`` when no activation
            follows the layer or its output was not kept.
    """

    point: Point
    z: Point
    activated: Point | None


@dataclass(frozen=True)
class FoldView:
    """A 2->2 layer with its numbers, its batch's points, and a grid of points before and after the fold.

    Attributes:
        weight: W, as its two rows: z₁ = W[0]·p + b₁, z₂ = W[1]·p + b₂.
        bias: b, or ``None`` for a layer without bias (then z = W·p).
        activation: the activation's name, ``None`` when none follows the layer.
        samples: the batch's own points (every row of every sample), p -> z -> σ(z).
        largest_difference: max |W·p + b - z| over ``samples``, W·p + b computed here in float64 against
            the recorded z (``None`` without samples): the check that the numbers shown are the layer's.
        grid: the input points of a square grid.
        linear: W·p + b for each grid point.
        activated: σ applied to ``linear`` (equal to it when there is no activation).
    """

    weight: tuple[Point, Point]
    bias: Point | None
    activation: str | None
    samples: tuple[FoldPoint, ...]
    largest_difference: float | None
    grid: tuple[Point, ...]
    linear: tuple[Point, ...]
    activated: tuple[Point, ...]


def _unavailable(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _module(model: nn.Module, name: str) -> nn.Module:
    module: nn.Module = dict(model.named_modules())[name]
    return module


def _pairs(tensor: torch.Tensor) -> tuple[Point, ...]:
    return tuple((float(a), float(b)) for a, b in tensor.tolist())


def activation_after(result: TraceResult, model: nn.Module, index: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function the model applies after layer ``index``: the activation module itself when there
    is one (so LeakyReLU keeps its slope), else the functional form, else the identity."""
    record = result.layers[index]
    if record.activation is None:
        return lambda z: z
    for later in result.layers[index + 1 :]:
        if later.parent == record.parent and later.name:
            module = _module(model, later.name)
            if type(module) in MODULE_ACTIVATIONS and later.inputs and later.inputs[0] == record.outputs[0]:
                return module
            break
    return ACTIVATION_FUNCTIONS.get(record.activation, lambda z: z)


def is_foldable(result: TraceResult, model: nn.Module, index: int) -> bool:
    """Whether layer ``index`` maps 2 features to 2 (the fold view's case)."""
    record = result.layers[index]
    if not record.name:
        return False
    module = _module(model, record.name)
    return isinstance(module, nn.Linear) and module.in_features == 2 and module.out_features == 2


def _batch_points(
    result: TraceResult, index: int, weight: torch.Tensor, bias: torch.Tensor
) -> tuple[tuple[FoldPoint, ...], float | None]:
    """The recorded p, z and σ(z) of the batch, and how far W·p + b recomputed here is from z."""
    if index not in result.captured_inputs or index not in result.captured:
        return (), None
    x = result.captured_inputs[index][0].detach().to("cpu").reshape(-1, 2).double()
    z = result.captured[index][0].detach().to("cpu").reshape(-1, 2).double()
    kept = result.layers[index].activation is not None and index in result.activated
    y = _pairs(result.activated[index].detach().to("cpu").reshape(-1, 2)) if kept else (None,) * len(z)
    difference = float((x @ weight.T + bias - z).abs().max()) if len(z) else None
    return tuple(FoldPoint(p, q, a) for p, q, a in zip(_pairs(x), _pairs(z), y, strict=True)), difference


def fold_view(result: TraceResult, model: nn.Module, index: int, steps: int = 9, extent: float = 2.0) -> FoldView:
    """W, b and the batch's points of the 2->2 layer ``index``, and a ``steps`` x ``steps`` grid on
    [-extent, extent]² through the layer and its activation.

    Raises:
        NnviewError: when the layer is not a 2->2 Linear.
    """
    record = result.layers[index]
    if not is_foldable(result, model, index):
        raise _unavailable(
            f"{record.label} is not a 2 -> 2 Linear layer", "the fold view shows layers with 2 inputs and 2 outputs"
        )
    module = _module(model, record.name)
    assert isinstance(module, nn.Linear)  # is_foldable checked it
    activation = activation_after(result, model, index)
    axis = torch.linspace(-extent, extent, steps, dtype=torch.float64)
    weight_param: torch.Tensor = module.weight
    bias_param: torch.Tensor | None = module.bias
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        weight = weight_param.detach().to("cpu").double()
        bias = bias_param.detach().to("cpu").double() if bias_param is not None else torch.zeros(2).double()
        linear = grid @ weight.T + bias
        folded = activation(linear)
    samples, difference = _batch_points(result, index, weight, bias)
    rows = _pairs(weight)
    return FoldView(
        weight=(rows[0], rows[1]),
        bias=_pairs(bias.reshape(1, 2))[0] if bias_param is not None else None,
        activation=record.activation,
        samples=samples,
        largest_difference=difference,
        grid=_pairs(grid),
        linear=_pairs(linear),
        activated=_pairs(folded),
    )
