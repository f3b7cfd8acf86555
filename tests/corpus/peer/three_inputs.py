"""forward(query, key, value, mask=None) given one tensor in example_input."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(8, 8)

    def forward(self, query, key, value, mask=None):
        return self.q(query) @ key.transpose(1, 2) @ value


example_input = (torch.randn(2, 5, 8),)
