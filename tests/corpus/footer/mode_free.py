"""Layers that look mode-dependent but are not: no running statistics, dropout with p=0."""

from __future__ import annotations

from torch import nn

model = nn.Sequential(
    nn.Linear(5, 10), nn.BatchNorm1d(10, track_running_stats=False), nn.Dropout(0.0), nn.Linear(10, 3)
)
