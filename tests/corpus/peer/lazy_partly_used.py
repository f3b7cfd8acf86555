"""One lazy layer that forward materialises, one that it never reaches, and a raw UninitializedParameter."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.LazyLinear(5), nn.ReLU())
        self.spare = nn.LazyLinear(2)
        self.scale = nn.UninitializedParameter()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


example_input = torch.randn(4, 6)
