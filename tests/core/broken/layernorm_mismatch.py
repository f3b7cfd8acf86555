"""Broken: norm = nn.LayerNorm(64) normalizes fc's 32 features."""

from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 32)
        self.norm = nn.LayerNorm(64)  # wrong: should be nn.LayerNorm(32)

    def forward(self, x):
        return self.norm(self.fc(x))
