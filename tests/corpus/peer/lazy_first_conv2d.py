"""A LazyConv2d first, after a layer nnview cannot infer from (Dropout)."""

from torch import nn

model = nn.Sequential(nn.Dropout(0.1), nn.LazyConv2d(6, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
