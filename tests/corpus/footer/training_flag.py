"""A model whose own forward branches on self.training (noise only while training)."""

from __future__ import annotations

import torch
from torch import nn


class NoisyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            x = x + 0.1 * torch.randn_like(x)
        return self.fc(x)
