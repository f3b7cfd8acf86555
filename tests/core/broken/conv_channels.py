"""Broken: conv2 = nn.Conv2d(8, 32, 3) receives conv1's 16 channels (through F.relu)."""

import torch
import torch.nn.functional as F
from torch import nn


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3)
        self.conv2 = nn.Conv2d(8, 32, 3)  # wrong: should be nn.Conv2d(16, 32, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        return self.conv2(x)


example_input = torch.randn(2, 3, 12, 12)
