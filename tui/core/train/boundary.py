"""The decision boundary of a classifier over the input plane, as TF Playground draws it."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tui.core.dtypes import as_model_input, model_float_dtype
from tui.core.load.datasets import TrainingData


@dataclass(frozen=True)
class DecisionBoundary:
    """The predicted class at every point of a grid over the data, plus the data's own points.

    Attributes:
        points: (x, y, predicted class) for each grid point.
        samples: (x, y, true class) for each validation sample.
        accuracy: the fraction of validation samples on the right side of the boundary.
    """

    points: tuple[tuple[float, float, int], ...]
    samples: tuple[tuple[float, float, int], ...]
    accuracy: float


def has_plane_inputs(data: TrainingData) -> bool:
    """Whether the data is 2-D points with class labels (the case a boundary can be drawn for)."""
    return data.features == (2,) and data.classes is not None


def _classes(output: torch.Tensor) -> torch.Tensor:
    """Class ids from logits (argmax) or from one sigmoid/logit column (threshold)."""
    if output.dim() == 2 and output.shape[1] > 1:
        return output.argmax(dim=1)
    flat = output.reshape(-1)
    threshold = 0.5 if bool(((flat >= 0) & (flat <= 1)).all()) else 0.0
    return (flat > threshold).long()


def decision_boundary(model: nn.Module, data: TrainingData, steps: int = 40, margin: float = 0.1) -> DecisionBoundary:
    """Evaluate ``model`` on a ``steps`` x ``steps`` grid covering the data (plus a margin).

    The model's train/eval mode is restored afterwards; no gradients are kept.
    """
    points = torch.cat([data.x_train, data.x_val]).float()
    low, high = points.min(dim=0).values, points.max(dim=0).values
    pad = (high - low) * margin
    xs = torch.linspace(float(low[0] - pad[0]), float(high[0] + pad[0]), steps)
    ys = torch.linspace(float(low[1] - pad[1]), float(high[1] + pad[1]), steps)
    grid = torch.cartesian_prod(xs, ys)
    device = next(iter(model.parameters()), torch.empty(0)).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            dtype = model_float_dtype(model)  # a float64 or half model gets its own dtype
            predicted = _classes(model(as_model_input(grid.to(device), dtype))).cpu()
            val_predicted = _classes(model(as_model_input(data.x_val.float().to(device), dtype))).cpu()
    finally:
        model.train(was_training)
    truth = data.y_val.reshape(-1).long()
    accuracy = float((val_predicted == truth).double().mean())
    grid_points = tuple(
        (float(x), float(y), int(c)) for (x, y), c in zip(grid.tolist(), predicted.tolist(), strict=True)
    )
    samples = tuple((float(x), float(y), int(c)) for (x, y), c in zip(data.x_val.tolist(), truth.tolist(), strict=True))
    return DecisionBoundary(grid_points, samples, accuracy)
