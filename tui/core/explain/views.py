"""What one neuron computed, what the logits mean, and how a 2-D layer folds the plane.

Everything here reads a :class:`TraceResult` (and the model, for weights); nothing re-runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tui.core.records import ErrorRecord, NnviewError, TraceResult
from tui.core.trace.activations import MODULE_ACTIVATIONS

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


@dataclass(frozen=True)
class NeuronExplanation:
    """One neuron of a Linear layer on one sample: z = w·x + b, then the activation.

    Attributes:
        layer: the layer's qualified name.
        neuron: which output unit (row of the weight matrix).
        sample: which sample of the batch.
        position: for inputs with extra dimensions (a sequence), which position; 0 otherwise.
        inputs: x, the values the layer received.
        weights: w, the neuron's weight row.
        products: w_i * x_i.
        bias: b, or ``None`` for a layer without bias.
        z: sum of the products plus the bias, computed here in float64.
        recorded_z: the value the layer produced in the traced pass.
        activation: the activation applied next, if any.
        activated: the neuron's value after that activation, as the model computed it.
    """

    layer: str
    neuron: int
    sample: int
    position: int
    inputs: tuple[float, ...]
    weights: tuple[float, ...]
    products: tuple[float, ...]
    bias: float | None
    z: float
    recorded_z: float
    activation: str | None
    activated: float | None


def _unavailable(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _module(model: nn.Module, name: str) -> nn.Module:
    module: nn.Module = dict(model.named_modules())[name]
    return module


def explain_neuron(
    result: TraceResult, model: nn.Module, index: int, neuron: int, sample: int, position: int = 0
) -> NeuronExplanation:
    """Redo neuron ``neuron`` of Linear layer call ``index`` by hand, with the traced numbers.

    Raises:
        NnviewError: when the layer is not a Linear, or its tensors were not kept (memory budget).
    """
    record = result.layers[index]
    module = _module(model, record.name)
    if not isinstance(module, nn.Linear):
        raise _unavailable(
            f"{record.label} is a {record.type}; the neuron view explains Linear layers",
            "select a Linear layer (w·x + b per neuron)",
        )
    if index not in result.captured_inputs or index not in result.captured:
        raise _unavailable(
            f"the tensors of {record.label} were not kept (past the memory budget)",
            "raise --budget-mb or trace a smaller batch",
        )
    x_all = result.captured_inputs[index][0]
    z_all = result.captured[index][0]
    x = x_all[sample].reshape(-1, module.in_features)[position].double()
    weights = module.weight.detach()[neuron].to("cpu").double()
    bias = float(module.bias.detach()[neuron]) if module.bias is not None else None
    products = weights * x
    z = float(products.sum()) + (bias or 0.0)
    recorded = float(z_all[sample].reshape(-1, module.out_features)[position][neuron])
    activated = None
    if index in result.activated:
        after = result.activated[index]
        activated = float(after[sample].reshape(-1, module.out_features)[position][neuron])
    return NeuronExplanation(
        layer=record.name,
        neuron=neuron,
        sample=sample,
        position=position,
        inputs=tuple(x.tolist()),
        weights=tuple(weights.tolist()),
        products=tuple(products.tolist()),
        bias=bias,
        z=z,
        recorded_z=recorded,
        activation=record.activation,
        activated=activated,
    )


@dataclass(frozen=True)
class ClassProbabilities:
    """Logits of one sample -> softmax probabilities -> the predicted class."""

    logits: tuple[float, ...]
    probabilities: tuple[float, ...]
    predicted: int


def class_probabilities(logits: torch.Tensor) -> ClassProbabilities:
    """Softmax over a 1-D vector of logits (computed in float64 so the probabilities sum to 1)."""
    values = logits.detach().reshape(-1).double()
    probabilities = F.softmax(values, dim=0)
    return ClassProbabilities(tuple(values.tolist()), tuple(probabilities.tolist()), int(probabilities.argmax()))


@dataclass(frozen=True)
class FoldView:
    """A 2->2 layer applied to a grid of points: before, after the linear step, after the activation.

    Attributes:
        grid: the input points.
        linear: W·p + b for each point.
        activated: the activation applied to ``linear`` (equal to it when there is none).
        activation: the activation's name.
        samples: the batch's own input points, with their linear and activated images.
    """

    grid: tuple[tuple[float, float], ...]
    linear: tuple[tuple[float, float], ...]
    activated: tuple[tuple[float, float], ...]
    activation: str | None
    samples: tuple[tuple[tuple[float, float], tuple[float, float], tuple[float, float]], ...]


def _pairs(tensor: torch.Tensor) -> tuple[tuple[float, float], ...]:
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


def fold_view(result: TraceResult, model: nn.Module, index: int, steps: int = 11, extent: float = 2.0) -> FoldView:
    """Apply the 2->2 layer ``index`` and its activation to a ``steps`` x ``steps`` grid on [-extent, extent]².

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
    samples: tuple[tuple[tuple[float, float], tuple[float, float], tuple[float, float]], ...] = ()
    if index in result.captured_inputs and index in result.captured:
        x = result.captured_inputs[index][0].reshape(-1, 2)
        z = result.captured[index][0].reshape(-1, 2)
        y = result.activated[index].reshape(-1, 2) if index in result.activated else z
        samples = tuple(zip(_pairs(x), _pairs(z), _pairs(y), strict=True))
    return FoldView(_pairs(grid), _pairs(linear), _pairs(folded), record.activation, samples)
