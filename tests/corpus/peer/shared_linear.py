"""One Linear(8, 8) used twice: on (2, 8), then on a (2, 4) slice."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x):
        y = self.proj(x)
        return self.proj(y[:, :4])


example_input = torch.randn(2, 8)
