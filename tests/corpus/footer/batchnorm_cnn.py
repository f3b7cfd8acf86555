"""Conv 1->4, BatchNorm2d, ReLU, global pool, Linear 4->3: batch norm depends on train/eval mode."""

from __future__ import annotations

import torch
from torch import nn


class BatchNormCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.head(x.mean(dim=(2, 3)))


example_input = torch.randn(2, 1, 8, 8)
