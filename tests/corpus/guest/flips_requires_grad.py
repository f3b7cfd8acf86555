"""forward freezes the first layer and unfreezes the (frozen) second one."""

from torch import nn


class Flipper(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 4)  # 24 parameters
        self.fc2 = nn.Linear(4, 3)  # 15 parameters, frozen
        self.fc2.requires_grad_(False)

    def forward(self, x):
        self.fc1.weight.requires_grad_(False)
        self.fc1.bias.requires_grad_(False)
        self.fc2.requires_grad_(True)
        return self.fc2(self.fc1(x))
