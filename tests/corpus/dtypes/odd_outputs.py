"""Outputs statistics cannot treat as floats: integer ids, a bool mask, complex values, an int32 copy.

fc's output is float32; the root returns (argmax int64, mask bool, complex64, int32).
"""

from __future__ import annotations

import torch
from torch import nn


class OddOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y = self.fc(x)
        return y.argmax(dim=-1), y > 0, torch.complex(y, -y), y.round().int()


example_input = torch.randn(4, 5)
