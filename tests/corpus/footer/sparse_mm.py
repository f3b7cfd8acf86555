"""A Linear 8->8 (3 x 8 x 8 = 192 MACs) followed by torch.sparse.mm, which has no MAC formula."""

from __future__ import annotations

import torch
from torch import nn


class SparseHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.weight = nn.Parameter(torch.randn(8, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(self.fc(x).to_sparse(), self.weight)


example_input = torch.randn(3, 8)
