"""What a probe is given: the model (unwrapped from DDP) and the numbers of a step (kept on their device)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def unwrapped(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel / DataParallel and ``torch.compile`` (whose names would carry a
    ``module.`` or ``_orig_mod.`` prefix)."""
    parallel = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    while True:
        if isinstance(model, parallel):
            model = model.module
        elif isinstance(inner := getattr(model, "_orig_mod", None), nn.Module):  # torch.compile's OptimizedModule
            model = inner
        else:
            return model


def detached(value: Any, what: str) -> Any:
    """A number or a detached 0-d tensor; anything else is refused with the argument's name."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.detach()  # read (and made 0-d) with the next sample: no copy to the host now
    raise TypeError(f"probe.step(): {what} must be a number or a one-element tensor, got {type(value).__name__}")


def check_every(every: object, who: str = "Probe") -> None:
    """Refuse a sampling interval that is not a whole number of steps ≥ 1 (``None`` adapts it)."""
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(f"{who}(every=...): a whole number of steps ≥ 1, or None to adapt; got {every!r}")
