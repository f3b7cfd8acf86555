"""Broken: the only model's constructor raises RuntimeError (line 10) while nnview builds it."""

from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        raise RuntimeError("constructor exploded")

    def forward(self, x):
        return self.fc(x)
