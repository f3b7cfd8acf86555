"""The seed's FashionMNIST network: Flatten, then 784 -> 512 -> 512 -> 10 with ReLU between.

The seed ends with a ReLU after the last Linear; that clips negative logits to zero, which
hurts CrossEntropyLoss, so this version stops at the logits.

FashionMNIST cannot be downloaded at run time here, so `dataset()` stands in scikit-learn's
handwritten digits (real 8x8 images, 10 classes) upscaled to 1x28x28.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NeuralNetwork(nn.Module):
    """Flatten 1x28x28 -> Linear 784->512, ReLU, Linear 512->512, ReLU, Linear 512->10."""

    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_relu_stack(self.flatten(x))


example_input = torch.rand(4, 1, 28, 28)


def dataset() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """scikit-learn's digits, upscaled to 28x28 and scaled to [0, 1]; 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    labels = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_val, y_train, y_val = train_test_split(images, labels, test_size=0.2, random_state=0)
    return x_train, y_train, x_val, y_val
