"""torchinfo's NumpyModel: forward returns a NumPy array."""

from torch import nn


class NumpyModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(5, 3)

    def forward(self, x):
        return self.lin(x).cpu().detach().numpy()
