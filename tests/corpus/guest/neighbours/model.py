"""A model whose block lives in blocks.py beside it."""

from blocks import Block
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x)
