"""Broken: fc2 = nn.Linear(6, 3) is fed fc1's 10 features through F.relu (line 18)."""

import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 10)
        self.fc2 = nn.Linear(6, 3)  # wrong: should be nn.Linear(10, 3)

    def forward(self, x):
        # fc1 has already run when fc2 fails; the 10 features pass through F.relu,
        # so nnview must still name fc1 as the producer.
        h = self.fc1(x)
        h = F.relu(h)
        return self.fc2(h)
