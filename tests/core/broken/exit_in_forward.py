"""Broken: forward() calls sys.exit(3) (line 21) after fc has run.

nnview must turn this into an error record (exit code 2 from the CLI), not let the
SystemExit end the nnview process silently with the model's exit code.
"""

import sys

import torch
from torch import nn


class Quitter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        h = self.fc(x)
        if h.shape[-1] == 2:
            sys.exit(3)
        return h


example_input = torch.randn(3, 4)
