"""A batch-first GRU fed an unsorted PackedSequence (sorted_indices set; lengths 3, 6, 4, 2: 15 steps)."""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(5, 6, batch_first=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


example_input = pack_padded_sequence(
    torch.randn(4, 6, 5), torch.tensor([3, 6, 4, 2]), batch_first=True, enforce_sorted=False
)
