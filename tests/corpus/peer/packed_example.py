"""An LSTM fed a PackedSequence from example_input() (lengths 6, 4, 3: 13 time steps in all).

A function, so that under --meta it still makes real lengths (the top level runs on the meta device).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(5, 7)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return h


def example_input():
    return pack_padded_sequence(torch.randn(6, 3, 5), torch.tensor([6, 4, 3]))
