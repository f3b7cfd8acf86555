"""Broken: embed = nn.Embedding(100, 8) is fed float values instead of integer token ids."""

import torch
from torch import nn


class TokenNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, ids):
        return self.head(self.embed(ids))


example_input = torch.randn(2, 7)
