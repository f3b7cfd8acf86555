"""Broken: a missing colon after the class statement (line 9) is a SyntaxError."""

import torch
from torch import nn

# nnview must report kind "syntax" at line 9 without running anything.


class Net(nn.Module)
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
