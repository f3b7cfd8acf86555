"""A policy head that returns torch.distributions.Normal(loc, scale)."""

import torch
from torch import nn


class Policy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mu = nn.Linear(5, 3)
        self.log_std = nn.Linear(5, 3)

    def forward(self, x):
        return torch.distributions.Normal(self.mu(x), self.log_std(x).exp())
