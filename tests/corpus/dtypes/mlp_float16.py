"""The seed's SimpleNN in float16: ReLU folded into fc1 and fc2, inputs inferred, float32 data.

Every weight is float16 (built with .to(torch.float16)); dataset() returns float32 features and integer
labels, as data sets and CSV files do, so nnview must feed the model float16 itself.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DTYPE = torch.float16


class SimpleNN(nn.Module):
    """Linear 5->10, ReLU, Linear 10->6, ReLU, Linear 6->3."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(5, 10)
        self.fc2 = nn.Linear(10, 6)
        self.fc3 = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def build_model() -> nn.Module:
    return SimpleNN().to(DTYPE)


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """64 training and 16 validation samples of 5 float32 features; 3 classes."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(80, 5, generator=generator)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    return x[:64], y[:64], x[64:], y[64:]


hyperparameters = {"epochs": 1, "batch_size": 16, "lr": 0.01}
