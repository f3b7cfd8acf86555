"""Broken: imports a package that is not installed (line 5); kind load, hint says pip install."""

import torch

import nnview_no_such_package_xyz  # noqa: F401
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
