"""The constructor never returns."""

import time

from torch import nn


class Forever(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            time.sleep(0.05)  # line 12
