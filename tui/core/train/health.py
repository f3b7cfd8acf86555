"""Per-layer health during training: dead ReLUs, saturated sigmoids, gradient and update sizes.

Sampled at display rate (one traced forward on a batch), not every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tui.core.dtypes import as_model_input, model_float_dtype
from tui.core.example_input import ExampleInput
from tui.core.explain.sample_view import final_layer
from tui.core.health_words import health_hint
from tui.core.records import TraceResult
from tui.core.trace.tracing import trace_model
from tui.core.trace.unit_health import activation_health


@dataclass(frozen=True)
class LayerHealth:
    """How one weighted layer is doing.

    Attributes:
        layer: qualified name.
        type: class name.
        dead_frac: after a ReLU, the fraction of units that are 0 for every sample of the batch.
        saturated_frac: after a sigmoid or tanh, the fraction of values in the flat tails.
        grad_norm: the norm of the layer's own parameter gradients from the last backward pass.
        update_ratio: ||w - w_before|| / ||w_before|| since ``before`` was taken, per step.
        hint: a plain-language warning, or "".
    """

    layer: str
    type: str
    dead_frac: float | None
    saturated_frac: float | None
    grad_norm: float | None
    update_ratio: float | None
    hint: str


def weights_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter, to measure the next update against."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def _feeds_output(result: TraceResult, index: int, last: int | None) -> bool:
    """Whether layer ``index``'s activated output is the model's output (Linear -> Sigmoid module)."""
    root = result.captured.get(0)
    activated = result.activated.get(index)
    return root is not None and activated is not None and activated is root[0]


def layer_health(
    model: nn.Module, x: torch.Tensor, before: dict[str, torch.Tensor] | None = None, steps: int = 1
) -> list[LayerHealth]:
    """Health of every weighted leaf layer on batch ``x`` (the model's mode is left as it was).

    ``steps``: optimizer steps since ``before`` was taken; the update ratio is per step (a second of
    training holds hundreds of steps, and their sum says nothing about whether one step is too big).
    """
    x = as_model_input(x, model_float_dtype(model))  # float32 data, maybe a float64 model
    result = trace_model(model, ExampleInput((x,)), budget_bytes=1 << 30, stats=False)
    modules = dict(model.named_modules())
    last = final_layer(result)
    report = []
    for rec in result.layers:
        module = modules.get(rec.name)
        if module is None or not rec.is_leaf or rec.weight is None or rec.call:
            continue
        activated = result.activated.get(rec.index)
        dead = saturated = None
        if activated is not None and rec.activation is not None:
            is_conv = isinstance(module, nn.modules.conv._ConvNd)
            dead_t, saturated_t = activation_health(activated, rec.activation, is_conv)
            dead = float(dead_t) if dead_t is not None else None
            saturated = float(saturated_t) if saturated_t is not None else None
        grads = [p.grad for p in module.parameters(recurse=False) if p.grad is not None]
        grad = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))) if grads else None
        update = None
        if before is not None:
            pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
            for name, param in module.named_parameters(recurse=False):
                old = before.get(f"{rec.name}.{name}")
                if old is not None:
                    pairs.append((param.detach(), old))
            if pairs:
                change = sum(float((now - old).norm() ** 2) for now, old in pairs) ** 0.5
                size = sum(float(old.norm() ** 2) for _, old in pairs) ** 0.5
                update = change / size / max(1, steps) if size else None
        # A confident output sigmoid is the goal, not a vanishing gradient: warn only inside the net.
        warned = None if rec.index == last or _feeds_output(result, rec.index, last) else saturated
        hint = health_hint(dead, warned, grad, update)
        report.append(LayerHealth(rec.name, rec.type, dead, saturated, grad, update, hint))
    return report
