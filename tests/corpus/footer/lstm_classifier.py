"""A 2-layer LSTM over (4, 16, 32) sequences, batch first, and a Linear head on the last step.

MACs by hand: 64 tokens (4 x 16); layer 0: 4*64*(32+64) = 24,576; layer 1: 4*64*(64+64) = 32,768;
64 x 57,344 = 3,670,016; head: 4 x 64 x 10 = 2,560; total 3,672,576 (CPU and --meta alike).
"""

from __future__ import annotations

import torch
from torch import nn


class LSTMClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True)
        self.head = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


example_input = torch.randn(4, 16, 32)
