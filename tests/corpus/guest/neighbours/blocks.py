"""The block model.py imports: its forward fails on purpose at line 16."""

from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)
        self.broken = True

    def forward(self, x):
        if not self.broken:
            return self.fc(x)
        y = self.fc(x)
        raise ValueError("blocks.py is broken on purpose")  # line 16
