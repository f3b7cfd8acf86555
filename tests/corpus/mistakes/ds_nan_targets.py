"""dataset(): a regression target that is NaN in y_val row 5 (model with one output)."""

from __future__ import annotations

import torch
from torch import nn

model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))


def dataset() -> tuple[torch.Tensor, ...]:
    x = torch.linspace(-1, 1, 16).reshape(8, 2)
    y = x.sum(dim=1)
    bad = y.clone()
    bad[5] = float("nan")
    return x, y, x, bad
