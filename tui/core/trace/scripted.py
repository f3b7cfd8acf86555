"""TorchScript modules: list the submodules their compiled forward hides from the hooks.

A ``torch.jit.script``-ed module runs compiled code: the global module hooks fire for the outer
call only, so a trace sees one row. Its submodules still exist (``named_modules()``), with their
parameters, so they are listed under that row, marked ``scripted``: weights and parameter counts,
but no inputs, outputs or MACs of their own (the outer row's MACs do include their work, since the
dispatch mode sees every aten op the compiled code runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from tui.core.records import LayerRecord
from tui.core.trace.param_counts import ParameterCounts

T = TypeVar("T")


def is_scripted(module: nn.Module) -> bool:
    """Whether ``module`` is a TorchScript module (its forward is compiled code)."""
    return isinstance(module, torch.jit.ScriptModule)


def type_name(module: nn.Module) -> str:
    """The class name a person wrote: ``Linear`` for a scripted Linear, not ``RecursiveScriptModule``."""
    original = getattr(module, "original_name", None) if is_scripted(module) else None
    return original if isinstance(original, str) and original else type(module).__name__


def scripted_note(records: Sequence[LayerRecord]) -> str | None:
    """The footer sentence that says why a TorchScript module's rows have no shapes; ``None`` if none ran."""
    parents = {rec.parent_index for rec in records if rec.scripted}  # one pass: 5,000 rows must stay cheap
    outer = [rec for rec in records if not rec.scripted and rec.index in parents]
    if not outer:
        return None
    names = ", ".join(rec.label for rec in outer)
    return (
        f"TorchScript: {names} runs compiled code, so nnview sees only the outer call; the rows under it "
        "list its submodules and weights, without shapes or MACs of their own (its MACs include theirs). "
        "Trace the nn.Module itself (before torch.jit.script or trace) for every layer's shapes."
    )


def _weight_shape(module: nn.Module, attr: str) -> tuple[int, ...] | None:
    tensor = getattr(module, attr, None)
    return tuple(tensor.shape) if isinstance(tensor, torch.Tensor) and not is_lazy(tensor) else None


def _listed(owner: LayerRecord, module: nn.Module, counts: ParameterCounts, start: int) -> list[LayerRecord]:
    """Rows for every submodule of the scripted ``module`` (whose row is ``start - 1``), in tree order."""
    rows: list[LayerRecord] = []
    index_of: dict[str, int] = {"": start - 1}
    for path, sub in module.named_modules():
        if not path:
            continue
        parent_path = path.rpartition(".")[0]
        params, total, trainable = counts.of(sub)
        index = start + len(rows)
        index_of[path] = index
        full = f"{owner.name}.{path}" if owner.name else path
        parent_name = f"{owner.name}.{parent_path}" if owner.name and parent_path else (parent_path or owner.name)
        rows.append(
            LayerRecord(
                index=index,
                name=full,
                type=type_name(sub),
                depth=owner.depth + path.count(".") + 1,
                parent=parent_name,
                parent_index=index_of[parent_path],
                call=0,
                inputs=(),
                outputs=(),
                weight=_weight_shape(sub, "weight"),
                bias=_weight_shape(sub, "bias"),
                params=params,
                shared=0,
                params_total=total,
                trainable=trainable,
                macs=0,
                activation=None,
                stats=None,
                captured=False,
                is_leaf=not any(child is not None for child in sub._modules.values()),
                scripted=True,
            )
        )
    return rows


def list_scripted_submodules(
    records: Sequence[LayerRecord], modules: Sequence[nn.Module]
) -> tuple[list[LayerRecord], dict[int, int]]:
    """Insert rows for the submodules of every scripted module's first call, right under its row.

    Args:
        records: the traced rows, in execution order.
        modules: the module of each row (same order).

    Returns:
        The rows renumbered in order, and old index -> new index for the traced rows.
    """
    if not any(is_scripted(m) and any(True for _ in m.children()) for m in modules):
        return list(records), {rec.index: rec.index for rec in records}
    counts = ParameterCounts()
    remap: dict[int, int] = {}
    out: list[LayerRecord] = []
    for rec, module in zip(records, modules, strict=True):
        remap[rec.index] = len(out)
        out.append(rec)
        if is_scripted(module) and rec.call == 0:
            # Nothing inside compiled code reaches the hooks, so the next traced row is never a child.
            out.extend(_listed(rec, module, counts, len(out)))
    renumbered = [
        rec  # listed rows were numbered by their final position already
        if rec.scripted
        else replace(rec, index=remap[rec.index], parent_index=remap.get(rec.parent_index, rec.parent_index))
        for rec in out
    ]
    return renumbered, remap


def remap_keys(slots: Mapping[int, T], remap: Mapping[int, int]) -> dict[int, T]:
    """Captured tensors keyed by the renumbered row indices."""
    return {remap.get(index, index): value for index, value in slots.items()}
