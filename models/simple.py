"""The seed's SimpleNN: 5 features -> 10 -> 6 -> 3 classes, ReLU after the two hidden layers.

Open it with `nnview models/simple.py` or `nnview summary models/simple.py`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SimpleNN(nn.Module):
    """Linear 5->10, ReLU, Linear 10->6, ReLU, Linear 6->3 (raw logits)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(5, 10)  # first hidden layer: 10 neurons, each sees all 5 features
        self.fc2 = nn.Linear(10, 6)  # second hidden layer: 6 neurons
        self.fc3 = nn.Linear(6, 3)  # output layer: one logit per class

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)  # logits; CrossEntropyLoss applies softmax itself


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The seed's data: make_classification(1000 samples, 5 features, 3 classes), 80/20 split."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=1000, n_features=5, n_classes=3, n_informative=3, random_state=42)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=42)
    return (
        torch.tensor(X_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.long),
        torch.tensor(X_val, dtype=torch.float32),
        torch.tensor(y_val, dtype=torch.long),
    )


# The seed's training setup: Adam at 0.01, mini-batches of 32, 100 epochs.
hyperparameters = {"epochs": 100, "batch_size": 32, "lr": 0.01}
