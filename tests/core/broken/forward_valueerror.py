"""Broken: the custom module blocks.1.gate raises ValueError("custom") in its forward (line 13)."""

import torch
from torch import nn


class Gate(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(width))

    def forward(self, x):
        raise ValueError("custom")


class Block(nn.Module):
    def __init__(self, gated):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.gate = Gate(8) if gated else nn.Identity()

    def forward(self, x):
        return self.gate(self.fc(x))


class GatedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(False), Block(True)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


example_input = torch.randn(3, 8)
