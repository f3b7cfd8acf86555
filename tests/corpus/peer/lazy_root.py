"""The model is a LazyLinear itself."""

from torch import nn

model = nn.LazyLinear(3)
