"""The first layer is a LazyLinear: there is no in_features to infer an input from."""

from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.LazyLinear(8)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.fc(x))
