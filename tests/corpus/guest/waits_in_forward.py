"""forward blocks until the test sets ``release`` (a stuck forward the test can end)."""

import threading

from torch import nn

release = threading.Event()


class Waits(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        release.wait()  # line 16
        return self.fc(x)
