"""A mixed model: fc1 holds float64 weights, fc2 float32; forward casts between them.

The input must be float64 (the first floating parameter's dtype); the output is float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8).double()
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)).float())


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=generator)
    y = (x.sum(dim=1) > 0).long()
    return x[:32], y[:32], x[32:], y[32:]
