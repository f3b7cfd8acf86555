"""forward(image, tabular): the inferred input is one tensor."""

from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.tab = nn.Linear(6, 4)

    def forward(self, image, tabular):
        return self.conv(image).mean((2, 3)) + self.tab(tabular)
