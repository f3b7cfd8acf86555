"""The seed's XOR network: 2 inputs -> hidden ReLU layer -> 1 sigmoid output.

The seed uses 2 hidden neurons; with only two ReLU units a bad start often leaves a unit dead
and XOR unsolved. The default here is 8 hidden units, which solves XOR from any seed we tried.
Build the seed's exact net with `XORNet(hidden=2)`.
"""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 8


class XORNet(nn.Module):
    """Linear(2, hidden) -> ReLU -> Linear(hidden, 1) -> Sigmoid."""

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.relu = nn.ReLU()
        self.output = nn.Linear(hidden, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.output(self.relu(self.hidden(x))))


# The four XOR points and their labels, as in the seed.
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

example_input = X
loss = nn.BCELoss()  # the output already went through a sigmoid


def optimizer(params: object) -> torch.optim.Optimizer:
    """Adam at 0.05: XOR's four points are learned in a few hundred full-batch steps."""
    return torch.optim.Adam(params, lr=0.05)  # type: ignore[arg-type]


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train and validate on the same four points: XOR has nothing else to generalise to."""
    return X, Y, X, Y


# Defaults for `nnview train` and the `t` key: full-batch steps until XOR is solved.
hyperparameters = {"epochs": 300, "batch_size": 4}
