"""The floating dtype a model computes in, and feeding it data in that dtype.

Data sets, CSV files and inferred inputs are float32; a model made with ``.double()``, ``.half()``
or ``.to(torch.bfloat16)`` needs its inputs in its own dtype. Integer ids and labels never change.
"""

from __future__ import annotations

import torch
from torch import nn


def model_float_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of the model's first floating-point parameter (then buffer); ``None`` if it has none.

    A mixed model (a float64 head on a float32 body, say) is fed what its first layer holds, which
    is the layer the input meets first in the usual ``__init__`` order.
    """
    for param in model.parameters():
        if param.is_floating_point():
            return param.dtype
    for buffer in model.buffers():
        if buffer.is_floating_point():
            return buffer.dtype
    return None


def as_model_input(x: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """``x`` in ``dtype`` when both are floating point; integer and boolean tensors as they are."""
    if dtype is None or not x.is_floating_point() or x.dtype == dtype:
        return x
    return x.to(dtype)
