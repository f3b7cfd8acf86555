"""Broken: embed = nn.Embedding(10, 4) is fed ids up to 12 (ids must be < 10)."""

import torch
from torch import nn


class TokenNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, ids):
        return self.head(self.embed(ids))


example_input = torch.tensor([[1, 2, 3, 10], [0, 4, 12, 5]])
