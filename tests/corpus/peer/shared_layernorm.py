"""One LayerNorm(8) applied to (2, 8), then to the first half of it (2, 4)."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        y = self.norm(self.fc(x))
        return self.norm(y[:, :4])


example_input = torch.randn(2, 8)
