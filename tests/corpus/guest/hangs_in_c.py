"""forward never returns, blocked inside C (a lock no one releases), with SIGINT ignored first."""

import os
import signal
import threading

import torch
from torch import nn

signal.signal(signal.SIGINT, signal.SIG_IGN)
_never = threading.Lock()
_never.acquire()


class Blocked(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        if "NNVIEW_TEST_STARTED" in os.environ:  # tells the test that forward has begun
            open(os.environ["NNVIEW_TEST_STARTED"], "w").close()
        _never.acquire()  # line 23
        return self.fc(x)
