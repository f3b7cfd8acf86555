"""A small CNN for scikit-learn's real 8x8 handwritten digits (shipped with the package)."""

from __future__ import annotations

import torch
from torch import nn


class DigitsCNN(nn.Module):
    """Conv 1->8, ReLU, MaxPool -> Conv 8->16, ReLU -> Flatten -> Linear 256->10."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.features(x)))


example_input = torch.rand(4, 1, 8, 8)

# One name per output, in order: the explorer's class table shows them beside the class ids.
classes = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """load_digits(): 1,797 images scaled to [0, 1], split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_val, y_train, y_val = train_test_split(images, labels, test_size=0.2, random_state=0)
    return x_train, y_train, x_val, y_val
