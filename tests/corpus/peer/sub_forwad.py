"""The model's forward is fine; a block inside it spells its forward `forwad`."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forwad(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(3, 6)
        self.block = Block()

    def forward(self, x):
        return self.block(self.inp(x))


example_input = torch.randn(2, 3)


def build_model() -> Net:
    return Net()
