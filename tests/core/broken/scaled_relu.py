"""Broken: fc2 = nn.Linear(6, 3) is fed fc1's 10 features through F.relu(...) * 0.5 (line 18).

The scaling is an ordinary tensor op, so the 10 features still come from fc1, not from the
model input; the hint must not tell the user to change the model input.
"""

import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 10)
        self.fc2 = nn.Linear(6, 3)  # wrong: should be nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)) * 0.5)
