"""One Conv2d(3, 3, 1) used twice: on 3 channels, then on 4 (a channel concatenated)."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mix = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        y = self.mix(x)
        return self.mix(torch.cat([y, x[:, :1]], dim=1))


example_input = torch.randn(2, 3, 8, 8)
