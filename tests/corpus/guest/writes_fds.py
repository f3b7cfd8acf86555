"""Writes to file descriptors 1 and 2 directly, as C extensions and os.write do."""

import os

import torch
from torch import nn

os.write(1, b"GUEST-FD1-TOP\n")
os.write(2, b"GUEST-FD2-TOP\n")
print("GUEST-PRINT-TOP")


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)  # 5*3 + 3 = 18 parameters, 4*5*3 = 60 MACs on a (4, 5) batch

    def forward(self, x):
        os.write(1, b"GUEST-FD1-FORWARD\n")
        return self.fc(x)


example_input = torch.randn(4, 5)
