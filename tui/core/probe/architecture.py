"""The architecture a probe records on its first step: the same layer records ``nnview summary`` makes."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.records import NnviewError
from tui.core.trace.tracing import trace_model


class FirstInput:
    """Keeps the arguments of the model's first forward call (a hook removed after that call)."""

    def __init__(self, model: nn.Module) -> None:
        self.args: tuple[Any, ...] | None = None
        self.kwargs: dict[str, Any] = {}
        self._handle = model.register_forward_pre_hook(self._keep, with_kwargs=True)

    def _keep(self, _module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not torch.is_grad_enabled():  # a validation pass (Lightning's sanity check) is not a training batch
            return
        self.args, self.kwargs = args, dict(kwargs)
        self.remove()

    def remove(self) -> None:
        """Stop watching (also when the first call never comes)."""
        self._handle.remove()


def architecture(model: nn.Module, first: FirstInput) -> dict[str, Any]:
    """The ``nnview summary --json`` object of ``model`` on its first batch (traced in eval mode, no grad).

    When the trace cannot run (no forward was seen, or forward fails outside training), the rows come
    from ``named_modules()`` alone, with the reason under ``"error"``.
    """
    if first.args is None:
        return module_rows(model, "the model was not called before the first probe.step()")
    try:
        with torch.no_grad():
            result = trace_model(model, ExampleInput(first.args, first.kwargs), budget_bytes=0, stats=False)
    except NnviewError as exc:
        return module_rows(model, exc.record.message)
    finally:
        first.args, first.kwargs = None, {}  # the batch is the user's: keep no reference to it
    return result.to_json()


def module_rows(model: nn.Module, reason: str) -> dict[str, Any]:
    """Names, types and parameter counts from ``named_modules()``: the table without shapes."""
    layers = []
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        layers.append(
            {
                "name": name,
                "type": type(module).__name__,
                "depth": name.count(".") + 1 if name else 0,
                "params": own,
                "params_total": sum(p.numel() for p in module.parameters()),
                "is_leaf": not any(True for _ in module.children()),
            }
        )
    total = sum(p.numel() for p in model.parameters())
    return {"model": type(model).__name__, "layers": layers, "totals": {"params": total}, "error": reason}
