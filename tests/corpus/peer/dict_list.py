"""example_input = {"input": [1.0, 2.0, 3.0]}: a list where a tensor is needed."""

from torch import nn

model = nn.Linear(3, 2)
example_input = {"input": [1.0, 2.0, 3.0]}
