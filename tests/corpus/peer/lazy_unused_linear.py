"""A LazyLinear head that forward never calls: its parameters stay uninitialised."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(20, 8)
        self.head = nn.LazyLinear(3)  # never used

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


example_input = torch.randn(4, 20)
