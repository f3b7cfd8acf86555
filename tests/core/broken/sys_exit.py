"""Broken: script code prints, then calls sys.exit(3) at import time (line 18)."""

import sys

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


print("parsing arguments...")
sys.exit(3)
