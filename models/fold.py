"""The seed's "neural fold": one 2->2 layer, W = [[1, 0.5], [-0.5, 1]], b = 0, then ReLU.

A grid of 2-D points is sheared by W, then folded by the activation. On the seed's three points
(1, 0), (0, 1), (1, 1): z = [[1, -0.5], [0.5, 1], [1.5, 0.5]] and ReLU(z) = [[1, 0], [0.5, 1], [1.5, 0.5]].
Set ACTIVATION to "leaky_relu" or "sigmoid" to see the other foldings the seed compares.
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATION = "relu"
ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "sigmoid": nn.Sigmoid}


class FoldLayer(nn.Module):
    """A single dense layer with the seed's weights and a folding activation."""

    def __init__(self, activation: str = ACTIVATION) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.activation = ACTIVATIONS[activation]()
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([[1.0, 0.5], [-0.5, 1.0]]))
            self.linear.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(x))


# The seed's batch of three points.
example_input = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two Gaussian blobs in the plane, labelled 0 and 1: the layer's 2 outputs act as logits."""
    generator = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
    labels = torch.randint(0, 2, (400,), generator=generator)
    points = centres[labels] + 0.6 * torch.randn(400, 2, generator=generator)
    return points[:320], labels[:320], points[320:], labels[320:]
