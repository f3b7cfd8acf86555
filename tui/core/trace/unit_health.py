"""Dead and saturated units of an activated output, as tensors (no host copy: the caller syncs once)."""

from __future__ import annotations

import torch

DEAD_KINDS = ("relu", "relu6")  # activations whose zeros mean a unit that no longer learns
SATURATING_KINDS = ("sigmoid", "tanh")


def dead_unit_fraction(activated: torch.Tensor, is_conv: bool) -> torch.Tensor:
    """Fraction of units (features, or channels for a conv) that are 0 for every sample of the batch."""
    if activated.dim() == 0:
        return (activated == 0).double()
    if is_conv and activated.dim() >= 3:
        per_unit = activated.transpose(0, 1).reshape(activated.shape[1], -1)
    else:
        per_unit = activated.reshape(-1, activated.shape[-1]).T
    return (per_unit == 0).all(dim=1).double().mean()


def saturated_fraction(activated: torch.Tensor, kind: str) -> torch.Tensor:
    """Fraction of values in a sigmoid's or tanh's flat tails (within 0.01 of its limits)."""
    if kind == "sigmoid":
        return ((activated < 0.01) | (activated > 0.99)).double().mean()
    return (activated.abs() > 0.99).double().mean()


def activation_health(
    activated: torch.Tensor, activation: str, is_conv: bool
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """``(dead fraction, saturated fraction)`` of ``activated``, each ``None`` where the activation has none."""
    if activation in DEAD_KINDS:
        return dead_unit_fraction(activated, is_conv), None
    if activation in SATURATING_KINDS:
        return None, saturated_fraction(activated, activation)
    return None, None
