"""hyperparameters = {"optimizer": "sgdd"}"""

from __future__ import annotations

import torch
from torch import nn

model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
Y = torch.tensor([0, 1, 2, 1, 0, 2, 1, 0])


def dataset() -> tuple[torch.Tensor, ...]:
    """Eight samples of three classes, used for training and validation alike."""
    x = torch.linspace(-1, 1, 16).reshape(8, 2)
    return x, Y, x, Y


hyperparameters = {"optimizer": "sgdd"}
