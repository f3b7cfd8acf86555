"""Parameter counts that survive lazy modules: an uninitialised parameter counts 0 and is named.

``nn.LazyLinear`` and friends hold an ``UninitializedParameter`` until their first forward; a lazy
layer that forward never calls keeps it, and ``numel()`` on it raises. Such a parameter has no
size yet, so it counts 0 and the summary names it instead of crashing.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.parameter import is_lazy


def param_numel(tensor: torch.Tensor) -> int:
    """Elements of a parameter or buffer; 0 for one that is still uninitialised (lazy)."""
    return 0 if is_lazy(tensor) else tensor.numel()


def param_bytes(tensor: torch.Tensor) -> int:
    """Bytes of a parameter or buffer; 0 for one that is still uninitialised (lazy)."""
    return 0 if is_lazy(tensor) else tensor.numel() * tensor.element_size()


def uninitialized_params(model: nn.Module) -> tuple[str, ...]:
    """Qualified names of the parameters that are still uninitialised (``("head.weight", ...)``)."""
    return tuple(name for name, param in model.named_parameters() if is_lazy(param))


class ParameterCounts:
    """Own, subtree and trainable parameter counts per module, each shared tensor counted once."""

    def __init__(self) -> None:
        self.subtree: dict[int, dict[int, torch.nn.Parameter]] = {}
        self.cache: dict[int, tuple[int, int, int]] = {}

    def _tensors(self, module: nn.Module) -> dict[int, torch.nn.Parameter]:
        found = self.subtree.get(id(module))
        if found is None:
            found = {id(p): p for p in module._parameters.values() if p is not None}
            for child in module._modules.values():
                if child is not None:
                    found.update(self._tensors(child))
            self.subtree[id(module)] = found
        return found

    def of(self, module: nn.Module) -> tuple[int, int, int]:
        """(own, subtree, trainable subtree) parameter counts of ``module``; lazy ones count 0."""
        known = self.cache.get(id(module))
        if known is None:
            own = {id(p): p for p in module._parameters.values() if p is not None}
            everything = self._tensors(module).values()
            known = (
                sum(param_numel(p) for p in own.values()),
                sum(param_numel(p) for p in everything),
                sum(param_numel(p) for p in everything if p.requires_grad),
            )
            self.cache[id(module)] = known
        return known


def packed_weight_note(model: nn.Module) -> str | None:
    """The footer sentence naming quantized modules whose weights are packed, so not counted; else ``None``.

    Quantized modules (``torch.ao.nn.quantized``, e.g. a ``quantize_dynamic``-ed Linear or LSTM) keep
    their weights in packed C++ objects, not ``nn.Parameter``s: parameter counts cannot see them.
    """
    packed = [
        f"{name or 'the model'} ({type(module).__name__})"
        for name, module in model.named_modules()
        if type(module).__module__.startswith(("torch.ao.nn.quantized", "torch.nn.quantized"))
        and (callable(getattr(module, "weight", None)) or hasattr(module, "_all_weight_values"))
    ]
    if not packed:
        return None
    return (
        f"Not counted: the packed (quantized) weights of {', '.join(packed)}; parameter counts see only "
        "nn.Parameters, and quantized modules keep their weights packed."
    )
