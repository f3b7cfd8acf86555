"""What one neuron computed and what the logits mean (the fold view is in :mod:`tui.core.explain.fold`).

Everything here reads a :class:`TraceResult` (and the model, for weights); nothing re-runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tui.core.records import ErrorRecord, NnviewError, TraceResult


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


def check_kept(result: TraceResult, index: int) -> None:
    """Refuse a view of layer call ``index`` whose input or output tensors were not kept (the memory budget)."""
    if index not in result.captured_inputs or index not in result.captured:
        raise _unavailable(
            f"the tensors of {result.layers[index].label} were not kept (past the memory budget)",
            "raise --budget-mb or trace a smaller batch",
        )


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
    check_kept(result, index)
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
    """One sample's output read as classes: logits -> probabilities -> the predicted class, and the truth.

    Attributes:
        logits: the output's values: one per class, or the one value of a one-output model.
        probabilities: one per class (they sum to 1): the softmax of the logits; for one output,
            (1 - p, p) with p the value itself (a probability) or its sigmoid (a logit).
        predicted: the most probable class (for one output, 1 when the value is above ``threshold``).
        threshold: for one output, 0.5 (the value is a probability) or 0.0 (a logit); ``None`` for a softmax.
        names: the file's class names, one per class; () when it gives none or unusable ones (see ``note``).
        truth: the sample's true class, when its label is known and is a class id.
        note: why the names or the truth are not shown, else "".
    """

    logits: tuple[float, ...]
    probabilities: tuple[float, ...]
    predicted: int
    threshold: float | None = None
    names: tuple[str, ...] = ()
    truth: int | None = None
    note: str = ""

    def name(self, index: int) -> str:
        """Class ``index`` as people read it: ``"2 two"`` with names, ``"2"`` without."""
        return f"{index} {self.names[index]}" if self.names else str(index)


def class_probabilities(logits: torch.Tensor) -> ClassProbabilities:
    """Softmax over a 1-D vector of logits (computed in float64 so the probabilities sum to 1)."""
    values = logits.detach().reshape(-1).double()
    probabilities = F.softmax(values, dim=0)
    return ClassProbabilities(tuple(values.tolist()), tuple(probabilities.tolist()), int(probabilities.argmax()))


def one_output_class(value: float, probability: bool) -> ClassProbabilities:
    """A one-output model's class: p > 0.5 for a probability, logit > 0 for a logit (p = sigmoid(logit)).

    The same rule as the decision boundary's (:func:`tui.core.train.boundary._classes`); the caller
    decides whether ``value`` is a probability.
    """
    threshold = 0.5 if probability else 0.0
    p = value if probability else float(torch.sigmoid(torch.tensor(value, dtype=torch.float64)))
    return ClassProbabilities((value,), (1.0 - p, p), int(value > threshold), threshold)
