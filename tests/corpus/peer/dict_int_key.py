"""example_input = {0: 1}: a dict is keyword arguments, and 0 is no parameter name."""

from torch import nn

model = nn.Linear(3, 2)
example_input = {0: 1}
