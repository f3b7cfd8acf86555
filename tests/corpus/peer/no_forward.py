"""An nn.Module subclass that never defines forward."""

from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def describe(self) -> str:
        return "a net"
