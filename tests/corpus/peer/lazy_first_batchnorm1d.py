"""A LazyBatchNorm1d first."""

from torch import nn

model = nn.Sequential(nn.LazyBatchNorm1d(), nn.Linear(20, 3))
