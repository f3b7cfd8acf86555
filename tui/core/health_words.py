"""The plain-language warning for a layer's health numbers: one rule for nnview's own training and for a
watched run (``nnview watch``). Torch-free, so the viewer loads it without torch."""

from __future__ import annotations

import math

DEAD_WARNING = 0.5  # share of dead ReLU units from which a layer is flagged
SATURATED_WARNING = 0.5  # share of saturated sigmoid/tanh outputs from which a layer is flagged
EXPLODING_GRADIENT = 1e3  # a layer's gradient norm above this is "exploding"
LARGE_UPDATE = 0.1  # a step moving the weights by more than this share of their norm is too big


def health_hint(dead: float | None, saturated: float | None, grad: float | None, update: float | None) -> str:
    """The warning for one layer's numbers ("" when nothing is wrong); the first that applies."""
    if dead is not None and dead >= DEAD_WARNING:
        return (
            f"{dead:.0%} of ReLU units are dead (0 for every sample): they no longer learn — "
            "lower the lr or try LeakyReLU"
        )
    if saturated is not None and saturated >= SATURATED_WARNING:
        return f"{saturated:.0%} of outputs are saturated: gradients vanish there — rescale inputs or use ReLU"
    if grad is not None and not math.isfinite(grad):
        return "gradient is not finite"
    if grad is not None and grad > EXPLODING_GRADIENT:
        return "exploding gradient — lower the learning rate or clip gradients"
    if update is not None and update > LARGE_UPDATE:
        return "updates are large next to the weights — lower the learning rate"
    return ""
