"""A dynamically quantised MLP: its Linear layers run quantized::linear_dynamic, which has no MAC formula."""

from __future__ import annotations

import warnings

import torch
from torch import nn


def build_model() -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's migration notice
        float_model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
        return torch.ao.quantization.quantize_dynamic(float_model, {nn.Linear}, dtype=torch.qint8)


example_input = torch.randn(3, 8)
