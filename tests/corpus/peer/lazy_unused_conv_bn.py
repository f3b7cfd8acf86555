"""A used Conv2d beside a LazyConv2d and a LazyBatchNorm2d that never run (class only: --meta builds it)."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.lazy_conv = nn.LazyConv2d(8, 3)
        self.lazy_bn = nn.LazyBatchNorm2d()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


example_input = torch.randn(2, 3, 8, 8)
