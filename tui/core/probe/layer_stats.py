"""Per-layer numbers on a sampled step, kept on the device until one host copy reads them all.

The forward hooks are on only for a sampled step's forward pass (no cost on the other steps). For each
leaf module: its output's mean, std and zero fraction after the activation applied next, dead and
saturated unit fractions; after backward, its own parameters' gradient norm; and after the optimizer
step, how far its weights moved (sampled elements of big tensors, so the copy stays small).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tui.core.trace.activations import module_activation
from tui.core.trace.unit_health import activation_health

# Activations the probe can apply to a layer's output, by the architecture's canonical names.
APPLY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "relu6": F.relu6,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": F.gelu,
    "silu": F.silu,
    "elu": F.elu,
    "softplus": F.softplus,
    "mish": F.mish,
    "hardswish": F.hardswish,
    "hardsigmoid": F.hardsigmoid,
}
SNAPSHOT_ELEMENTS = 65_536  # per parameter: bigger tensors are sampled at a fixed stride for the update ratio
FIELDS = ("mean", "std", "zero_frac", "dead_frac", "saturated_frac", "grad_norm", "update_ratio")

Values = dict[tuple[str, str], torch.Tensor]  # (layer, field) -> a 0-d tensor on the layer's device


def leaf_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules with no children, and those that own weights of their own beside their children
    (MultiheadAttention's ``in_proj_weight``), in registration order; the model itself when it is one."""
    layers = [
        (name, module)
        for name, module in model.named_modules()
        if not any(True for _ in module.children()) or any(True for _ in module.parameters(recurse=False))
    ]
    return layers or [("", model)]


def first_float(output: Any) -> torch.Tensor | None:
    """The first floating-point tensor in a module's output (tensors, tuples, lists, dicts)."""
    if isinstance(output, torch.Tensor):
        return output if output.is_floating_point() and output.numel() else None
    items: Iterable[Any] = output.values() if isinstance(output, dict) else output
    if isinstance(output, (tuple, list, dict)):
        for item in items:
            found = first_float(item)
            if found is not None:
                return found
    return None


class LayerSampler:
    """Hooks, gradient norms and weight snapshots for the leaf layers of ``model``."""

    def __init__(self, model: nn.Module) -> None:
        self.layers = leaf_layers(model)
        self.types = {name: type(module).__name__ for name, module in self.layers}
        # layer -> the activation applied next, from the architecture; ``None`` until it is known (the first
        # sample): that pass's outputs are kept, unread, and described once it is (:meth:`describe_kept`).
        self.activations: dict[str, str] | None = None
        self._kept: list[tuple[str, torch.Tensor, str | None, bool]] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self.values: Values = {}
        self._before: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    @property
    def armed(self) -> bool:
        """Whether the next forward pass is recorded."""
        return bool(self._handles)

    def arm(self) -> None:
        """Record the next forward pass's outputs."""
        if self._handles:
            return
        for name, module in self.layers:
            self._handles.append(module.register_forward_hook(self._hook(name, module)))

    def disarm(self) -> None:
        """Stop recording outputs."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name: str, module: nn.Module) -> Callable[[nn.Module, Any, Any], None]:
        own = module_activation(module)
        is_conv = isinstance(module, nn.modules.conv._ConvNd)

        def record(_module: nn.Module, _args: Any, output: Any) -> None:
            if (name, "mean") in self.values or not torch.is_grad_enabled():
                return  # called again in the same pass (the first call counts), or an evaluation under no_grad
            tensor = first_float(output)
            if tensor is None:
                return
            if self.activations is None:
                self._kept.append((name, tensor.detach(), own, is_conv))
                self.values[(name, "mean")] = tensor  # a place holder: marks the first call as seen
                return
            with torch.no_grad():
                self._describe(name, tensor.detach(), own, is_conv)

        return record

    def describe_kept(self, activations: dict[str, str]) -> None:
        """The activations are known now: describe the outputs kept from the first sampled pass."""
        self.activations = activations
        kept, self._kept = self._kept, []
        with torch.no_grad():
            for name, tensor, own, is_conv in kept:
                self._describe(name, tensor, own, is_conv)

    def _describe(self, name: str, tensor: torch.Tensor, own: str | None, is_conv: bool) -> None:
        values = tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor
        kind = own
        after = (self.activations or {}).get(name)
        if kind is None and after in APPLY:
            kind = after
            values = APPLY[kind](values)
        self.values[(name, "mean")] = values.mean()
        if values.numel() > 1:
            self.values[(name, "std")] = values.std()
        self.values[(name, "zero_frac")] = (values == 0).float().mean()
        if kind is not None:
            dead, saturated = activation_health(values, kind, is_conv)
            if dead is not None:
                self.values[(name, "dead_frac")] = dead
            if saturated is not None:
                self.values[(name, "saturated_frac")] = saturated

    def gradients(self, scale: float = 1.0) -> torch.Tensor | None:
        """Each layer's own gradient norm into :attr:`values`; returns the whole model's (``None``: no grads)."""
        squares: list[torch.Tensor] = []
        with torch.no_grad():
            for name, module in self.layers:
                norms = [p.grad.detach().float().norm() for p in module.parameters(recurse=False) if p.grad is not None]
                if not norms:
                    continue
                norm = torch.linalg.vector_norm(torch.stack(norms)) if len(norms) > 1 else norms[0]
                if scale != 1.0:
                    norm = norm / scale
                self.values[(name, "grad_norm")] = norm
                squares.append((norm.float() ** 2).to(squares[0].device if squares else norm.device))
        return torch.stack(squares).sum().sqrt() if squares else None

    def snapshot(self) -> None:
        """Keep (a sample of) every layer's weights, to measure the optimizer step that follows."""
        self._before.clear()
        with torch.no_grad():
            for name, module in self.layers:
                kept: list[tuple[torch.Tensor, torch.Tensor]] = [
                    (p, _sample(p.detach()).clone()) for p in module.parameters(recurse=False) if p.numel()
                ]
                if kept:
                    self._before[name] = kept

    def updates(self) -> None:
        """Each layer's ``||w - w_before|| / ||w_before||`` since :meth:`snapshot` into :attr:`values`."""
        with torch.no_grad():
            for name, kept in self._before.items():
                change = torch.stack([(_sample(p.detach()) - old).float().norm() for p, old in kept])
                size = torch.stack([old.float().norm() for _, old in kept])
                total = torch.linalg.vector_norm(size)
                self.values[(name, "update_ratio")] = torch.linalg.vector_norm(change) / total.clamp_min(1e-30)
        self._before.clear()

    def take(self) -> Values:
        """The values gathered since the last take."""
        values, self.values = self.values, {}
        return values


def _sample(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor itself when small, else every k-th element (the same elements every time)."""
    flat = tensor.reshape(-1)
    if flat.numel() <= SNAPSHOT_ELEMENTS:
        return flat
    stride = -(-flat.numel() // SNAPSHOT_ELEMENTS)
    return flat[::stride]


def read_all(tensors: list[torch.Tensor]) -> list[float]:
    """The values of one-element tensors, with one host copy per device (the one synchronisation of a sample).

    Stacked a device and dtype at a time, as they are: a thousand steps' losses cost one stack, not
    three small ops each.
    """
    if not tensors:
        return []
    groups: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault((t.device, t.dtype), []).append(i)
    out = [0.0] * len(tensors)
    for (device, _), indexes in groups.items():
        dtype = torch.float32 if device.type == "mps" else torch.float64
        parts = [tensors[i] if tensors[i].dim() == 0 else tensors[i].reshape(()) for i in indexes]
        for i, value in zip(indexes, torch.stack(parts).to(dtype).tolist(), strict=True):
            out[i] = value
    return out
