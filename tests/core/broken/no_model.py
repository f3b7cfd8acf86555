"""Broken: no nn.Module subclass, no build_model(), no module-level model: kind no_model."""

import torch

WIDTH = 16


def helper(x):
    return torch.relu(x)
