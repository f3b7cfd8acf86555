"""The calls a trace saw, frozen into :class:`LayerRecord`s: inclusive MACs, parameter counts, statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.nn.parameter import is_lazy

from tui.core.records import LayerRecord
from tui.core.trace.calls import ModuleCall
from tui.core.trace.capture import OUTPUT, CaptureStore
from tui.core.trace.param_counts import ParameterCounts, param_numel
from tui.core.trace.scripted import type_name
from tui.core.trace.tensors_in import spec_of


def _shape_of(tensor: Any) -> tuple[int, ...] | None:
    """A weight's shape; ``None`` for no tensor or a lazy one that has no shape yet."""
    return tuple(tensor.shape) if isinstance(tensor, torch.Tensor) and not is_lazy(tensor) else None


def layer_records(calls: Sequence[ModuleCall], store: CaptureStore) -> list[LayerRecord]:
    """Turn the calls a trace saw into records: inclusive MACs, parameter counts, statistics.

    ``calls[i].index`` must be ``i``, a parent before its children (as :class:`CallLog` holds them).
    """
    flops = [c.flops for c in calls]
    depths = [0] * len(calls)
    for call in calls:
        if call.parent_index >= 0:
            depths[call.index] = depths[call.parent_index] + 1
    for call in reversed(calls):
        if call.parent_index >= 0:
            flops[call.parent_index] += flops[call.index]
    counts = ParameterCounts()
    owners: dict[int, int] = {}
    for module in {id(c.module): c.module for c in calls}.values():
        for param in {id(p): p for p in module._parameters.values() if p is not None}.values():
            owners[id(param)] = owners.get(id(param), 0) + 1
    records = []
    for call in calls:
        module = call.module
        params, total, trainable = counts.of(module)
        own = {id(p): p for p in module._parameters.values() if p is not None}.values()
        shared = sum(param_numel(p) for p in own if owners[id(p)] > 1)
        weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
        records.append(
            LayerRecord(
                index=call.index,
                name=call.name,
                type=type_name(module),
                depth=depths[call.index],
                parent=calls[call.parent_index].name if call.parent_index >= 0 else None,
                parent_index=call.parent_index,
                call=call.call,
                inputs=tuple(spec_of(t) for t in call.inputs),
                outputs=tuple(spec_of(t) for t in call.outputs),
                weight=_shape_of(weight),
                bias=_shape_of(bias),
                params=params,
                shared=shared,
                params_total=total,
                trainable=trainable,
                macs=flops[call.index] // 2,
                activation=call.activation,
                stats=store.stats_for(call.index),
                activated_stats=store.activated_stats_for(call.index) if call.activation else None,
                captured=(OUTPUT, call.index) in store.kept,
                is_leaf=call.is_leaf,
                output_type=call.output_type,
            )
        )
    return records
