"""example_input = (1,): forward gets an int where it needs a tensor."""

from torch import nn

model = nn.Linear(3, 2)
example_input = (1,)
