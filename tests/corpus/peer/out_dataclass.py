"""forward returns a dataclass with two tensors and a float."""

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Out:
    logits: torch.Tensor
    hidden: torch.Tensor
    temperature: float = 1.0


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(5, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = self.enc(x)
        return Out(self.head(h), h)
