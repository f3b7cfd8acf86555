"""forward returns a ModelOutput-like dict subclass (not a registered pytree)."""

from torch import nn


class ModelOutput(dict):
    pass


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        logits = self.fc(x)
        return ModelOutput(logits=logits, probs=logits.softmax(-1))
