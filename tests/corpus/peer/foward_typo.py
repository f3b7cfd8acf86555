"""forward misspelt as foward."""

from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def foward(self, x):
        return self.fc(x)
