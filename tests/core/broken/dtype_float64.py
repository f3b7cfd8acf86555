"""Broken: example_input is float64 but fc = nn.Linear(5, 3) has float32 weights."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc(x)


example_input = torch.randn(4, 5, dtype=torch.float64)
