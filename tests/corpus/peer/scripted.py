"""A TorchScript model at module level: hooks fire for the outer call only."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.block = nn.Sequential(nn.Linear(16, 8), nn.ReLU())
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.block(torch.relu(self.fc1(x))))


model = torch.jit.script(Net())
example_input = torch.randn(4, 20)
