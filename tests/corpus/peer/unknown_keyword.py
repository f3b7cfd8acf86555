"""example_input = {"y": ...} for forward(x)."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


example_input = {"y": torch.randn(4, 3)}
