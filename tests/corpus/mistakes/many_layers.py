"""1500 Linear(2, 2) layers: a summary longer than a pipe's 64 KiB buffer, for `| head` tests."""

from __future__ import annotations

from torch import nn

model = nn.Sequential(*(nn.Linear(2, 2) for _ in range(1500)))
