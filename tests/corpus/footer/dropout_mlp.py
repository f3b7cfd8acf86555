"""Linear 5->10, ReLU, Dropout(0.5), Linear 10->3: dropout is off in eval mode."""

from __future__ import annotations

from torch import nn

model = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Dropout(0.5), nn.Linear(10, 3))
