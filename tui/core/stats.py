"""Keeping layer outputs within a memory budget, and the statistics nnview shows for them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from tui.core.inputs import DTYPES
from tui.core.records import LayerRecord, OutputStats, Totals


def primary_output(outputs: Sequence[torch.Tensor]) -> torch.Tensor | None:
    """The tensor statistics describe: the first floating-point output, else the first output."""
    for tensor in outputs:
        if tensor.is_floating_point():
            return tensor
    return outputs[0] if outputs else None


def output_stats(tensor: torch.Tensor) -> OutputStats | None:
    """Mean, population std, min and max of the finite values, plus zero and non-finite fractions.

    ``None`` for tensors with no values to describe (meta, empty or complex tensors).
    """
    return describe_tensors([tensor])[0]


def describe_tensors(tensors: Sequence[torch.Tensor]) -> list[OutputStats | None]:
    """:func:`output_stats` for many tensors at once.

    Small tensors of one shape and dtype are stacked and reduced together, so a 5,000-layer model
    costs a few reductions rather than 25,000; large ones are reduced one by one, where a stacked
    copy would cost more than it saves. Each costs five fast reductions (min, max, sum, norm, zero
    count): ``std_mean`` and ``isfinite`` are many times slower on CPU, so they run only when
    min/max show non-finite values or when the one-pass variance would lose precision.
    """
    results: list[OutputStats | None] = [None] * len(tensors)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, tensor in enumerate(tensors):
        if tensor.device.type == "meta" or not tensor.numel() or tensor.is_complex():
            continue
        if tensor.numel() > STACK_BELOW:
            results[i] = _finish_row(_reduce_one(tensor), tensor)
        else:
            groups.setdefault((tuple(tensor.shape), tensor.dtype, tensor.device), []).append(i)
    for members in groups.values():
        per_chunk = max(1, _STACK_BYTES // max(1, tensors[members[0]].numel() * 4))
        for start in range(0, len(members), per_chunk):
            chunk = members[start : start + per_chunk]
            for i, row in zip(chunk, _reduce_rows([tensors[i] for i in chunk]), strict=True):
                results[i] = _finish_row(row, tensors[i])
    return results


STACK_BELOW = 32_768  # values; measured: stacking wins for many tiny tensors, loses for big ones
_STACK_BYTES = 64 * 1024 * 1024


def _reduce_one(tensor: torch.Tensor) -> list[float]:
    """[min, max, sum, norm, nonzero count] of one tensor, without copying it.

    Measured on CPU for a 262k-value ReLU output: aminmax 30 µs, sum 23 µs, norm 38 µs, and
    ``sign().abs_().sum()`` 60 µs against 265 µs for ``(t == 0).sum()`` (a bool sum is slow).
    """
    values = tensor.detach()
    if not values.is_floating_point():
        values = values.float()
    low, high = torch.aminmax(values)
    exact = torch.float32 if values.numel() < 2**24 else torch.float64  # counts stay exact
    row = torch.stack(
        [
            low.float(),
            high.float(),
            values.sum(dtype=torch.float32),
            torch.linalg.vector_norm(values, dtype=torch.float32),
            values.sign().abs_().sum(dtype=exact).float(),
        ]
    )
    result: list[float] = row.tolist()
    return result


def _reduce_rows(tensors: list[torch.Tensor]) -> list[list[float]]:
    """[min, max, sum, norm, nonzero count] of each small tensor, computed over a stack of them."""
    values = (tensors[0] if len(tensors) == 1 else torch.stack(tensors)).detach().reshape(len(tensors), -1)
    if not values.is_floating_point():
        values = values.float()
    # Measured on CPU: amin + amax beat aminmax(dim) 10x, and sign().abs().sum() beats count_nonzero(dim) 2x.
    low, high = values.amin(dim=1), values.amax(dim=1)
    total = values.sum(dim=1, dtype=torch.float32)
    norm = torch.linalg.vector_norm(values, dim=1, dtype=torch.float32)
    nonzero = values.sign().abs().sum(dim=1, dtype=torch.float32)
    rows: list[list[float]] = torch.stack([low.float(), high.float(), total, norm, nonzero.float()], 1).tolist()
    return rows


def _finish_row(row: list[float], tensor: torch.Tensor) -> OutputStats:
    """Statistics from one row of sums, falling back to exact slow paths where needed."""
    low, high, total, norm, nonzero = row
    count = tensor.numel()
    zeros = (count - nonzero) / count
    values = tensor.detach() if tensor.is_floating_point() else tensor.detach().float()
    if not (math.isfinite(low) and math.isfinite(high)):
        return _stats_with_nonfinite(values)
    mean = total / count
    variance = norm * norm / count - mean * mean
    if variance <= 1e-3 * mean * mean:  # cancellation would eat the digits: do it exactly
        std_t, mean_t = torch.std_mean(values.double(), correction=0)
        mean, variance = float(mean_t), float(std_t) ** 2
    return OutputStats(mean, math.sqrt(max(variance, 0.0)), low, high, zeros, 0.0)


def _stats_with_nonfinite(values: torch.Tensor) -> OutputStats:
    """The slow path: statistics of the finite values only, and the non-finite fraction."""
    count = values.numel()
    zeros = int((values == 0).sum()) / count
    finite = torch.isfinite(values)
    n_finite = int(finite.sum())
    if n_finite == 0:
        nan = float("nan")
        return OutputStats(nan, nan, nan, nan, zeros, 1.0)
    good = values[finite].double()
    std, mean = torch.std_mean(good, correction=0)
    low, high = torch.aminmax(good)
    return OutputStats(float(mean), float(std), float(low), float(high), zeros, 1.0 - n_finite / count)


def totals_for(model: nn.Module, records: Sequence[LayerRecord]) -> Totals:
    """Whole-model totals; tied parameters counted once, activations summed over leaf layers."""
    params = list(model.parameters())  # parameters() yields each shared tensor once
    activation_bytes = sum(
        _numel(spec.shape) * DTYPES[spec.dtype].itemsize
        for rec in records
        if rec.is_leaf and rec.index != 0
        for spec in rec.outputs
        if spec.dtype in DTYPES
    )
    return Totals(
        params=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        macs=records[0].macs if records else 0,
        activation_bytes=activation_bytes,
    )


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count
