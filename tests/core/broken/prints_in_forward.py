"""Broken: forward() prints to stdout, then out = nn.Linear(3, 2) gets 5 features from the input.

Printing inside forward must not reach nnview's own stdout (it would corrupt --json output).
"""

import torch
from torch import nn


class Chatty(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(3, 2)

    def forward(self, x):
        print("forward called with", tuple(x.shape))
        return self.out(x)


example_input = torch.randn(4, 5)
