"""A package module: it imports its sibling relatively, so it only runs as pkg.sub.model."""

from torch import nn

from .layers import head


class PackagedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = head()

    def forward(self, x):
        return self.head(x)
