"""Attention for people: for each position of a sequence, how much it looks at every position, head by head.

The trace keeps, for each module call whose own forward computes attention, either the probabilities of
its softmax over scores or the query, key and mask of its ``F.scaled_dot_product_attention`` call
(:mod:`tui.core.trace.attention_ops`); this module turns either into one queries x keys matrix per head
for one sample. Nothing re-runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from tui.core.explain.views import _module, _unavailable
from tui.core.records import TraceResult, shape_text
from tui.core.trace.attention_ops import SDPA, AttentionCapture

Grid = tuple[tuple[float, ...], ...]
HEAD_ATTRIBUTES = ("num_heads", "n_head", "n_heads", "heads", "nhead")  # how modules name their head count


@dataclass(frozen=True)
class AttentionMap:
    """The attention weights one layer computed for one sample.

    Attributes:
        layer: the selected layer's label.
        source: the label of the call whose forward computed the weights: the layer itself, or the one
            attention layer inside it (``blocks.0`` -> ``blocks.0.attn``).
        how: how the weights were found, for people: ``"softmax over (4, 4, 16, 16)"``, or for
            ``F.scaled_dot_product_attention`` ``"recomputed from q, k of sdpa: softmax(q·kᵀ × 1/√d + mask)"``
            (``is_causal`` shows in ``causal``).
        sample: the sample shown (clamped to the batch).
        batch: the batch size.
        weights: (heads, queries, keys) in float64: row ``q`` of head ``h`` is how much query position ``q``
            takes from each key position; every row sums to 1 (a fully masked row is NaN, as torch has it).
        tokens: the model's input token ids, one per key position, when its input was a (batch, keys)
            integer tensor (tiny_gpt's ids); empty otherwise.
        causal: the map is square and every weight above the diagonal is exactly 0.
        dropout: the ``dropout_p`` an sdpa call was given (the map shows the weights before dropout).
    """

    layer: str
    source: str
    how: str
    sample: int
    batch: int
    weights: torch.Tensor
    tokens: tuple[int, ...]
    causal: bool
    dropout: float = 0.0

    @property
    def heads(self) -> int:
        """How many heads."""
        return int(self.weights.shape[0])

    @property
    def queries(self) -> int:
        """How many query positions (rows)."""
        return int(self.weights.shape[1])

    @property
    def keys(self) -> int:
        """How many key positions (columns)."""
        return int(self.weights.shape[2])

    def grid(self, head: int, rows: range | None = None, columns: range | None = None) -> Grid:
        """Head ``head``'s weights, or the part of them in ``rows`` x ``columns``."""
        rows = rows if rows is not None else range(self.queries)
        columns = columns if columns is not None else range(self.keys)
        part = self.weights[head, rows.start : rows.stop, columns.start : columns.stop]
        values: list[list[float]] = part.tolist()
        return tuple(tuple(row) for row in values)

    def row(self, head: int, query: int) -> tuple[float, ...]:
        """How much query position ``query`` of head ``head`` takes from each key position."""
        values: list[float] = self.weights[head, query].tolist()
        return tuple(values)


def top_keys(row: Sequence[float], count: int) -> tuple[tuple[int, float], ...]:
    """The ``count`` key positions with the largest weights, largest first (the earlier position on a tie)."""
    order = sorted(range(len(row)), key=lambda j: (-row[j] if math.isfinite(row[j]) else math.inf, j))
    return tuple((j, row[j]) for j in order[:count])


def attention_sources(result: TraceResult, index: int) -> tuple[int, ...]:
    """The calls whose attention layer ``index`` shows: its own, or else every one inside it."""
    if index in result.attention:
        return (index,)

    def inside(i: int) -> bool:
        while i > index:
            i = result.layers[i].parent_index
        return i == index

    return tuple(i for i in sorted(result.attention) if i > index and inside(i))


def _source(result: TraceResult, index: int) -> int:
    record = result.layers[index]
    sources = attention_sources(result, index)
    if not sources:
        raise _unavailable(
            f"{record.label} is a {record.type}: no softmax over scores and no scaled_dot_product_attention ran in it",
            "select an attention layer: one whose forward runs softmax(q·kᵀ) or F.scaled_dot_product_attention",
        )
    if len(sources) > 1:
        names = ", ".join(result.layers[i].label for i in sources[:4]) + (", …" if len(sources) > 4 else "")
        raise _unavailable(f"{record.label} holds {len(sources)} attention layers: {names}", "select one of them")
    return sources[0]


def _heads(module: nn.Module, rows: int) -> int:
    """How many heads the first dimension of a 3-D (batch x heads, queries, keys) map holds."""
    for name in HEAD_ATTRIBUTES:
        value = getattr(module, name, None)
        if isinstance(value, int) and value > 0 and rows % value == 0:
            return value
    return 1


def _per_sample(tensor: torch.Tensor, heads: int) -> torch.Tensor:
    """A (batch, heads, ...) view of a 3-D (batch x heads, ...) tensor; a 4-D tensor as it is."""
    return tensor if tensor.dim() == 4 else tensor.reshape(tensor.shape[0] // heads, heads, *tensor.shape[1:])


def recompute(found: AttentionCapture, sample: int, heads: int = 1) -> torch.Tensor:
    """softmax(q·kᵀ × scale + mask) of one sample of an sdpa call, as torch defines it: (heads, queries, keys).

    The causal mask keeps key positions up to the query's (top-left aligned); fewer key than query heads
    (grouped-query attention) are repeated as ``enable_gqa`` does; ``heads`` splits a 3-D call's first dimension.
    """
    query, key = found.tensors[0], found.tensors[1]
    q = _per_sample(query, heads)[sample].double()
    k = _per_sample(key, heads)[sample].double()
    if k.shape[0] != q.shape[0]:
        k = k.repeat_interleave(q.shape[0] // k.shape[0], dim=0)
    scale = found.scale if found.scale is not None else 1 / math.sqrt(q.shape[-1])
    scores = q @ k.transpose(-2, -1) * scale
    if len(found.tensors) > 2:
        full = (*query.shape[:-1], key.shape[-2])
        mask = _per_sample(torch.broadcast_to(found.tensors[2], full), heads)[sample]
        scores = scores.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else scores + mask.double()
    if found.causal:
        allowed = torch.ones(scores.shape[-2:], dtype=torch.bool).tril()
        scores = scores.masked_fill(~allowed, -math.inf)
    return torch.softmax(scores, dim=-1)


def _tokens(result: TraceResult, batch: int, length: int, sample: int) -> tuple[int, ...]:
    """The model's input ids for ``sample``, from the first layer that received a (batch, length) integer tensor."""
    for index in sorted(result.captured_inputs):
        tensors = result.captured_inputs[index]
        ids = tensors[0] if tensors else None
        if isinstance(ids, torch.Tensor) and tuple(ids.shape) == (batch, length):
            if not ids.is_floating_point() and not ids.is_complex() and ids.dtype != torch.bool:
                values: list[int] = ids[sample].tolist()
                return tuple(values)
    return ()


def attention_map(result: TraceResult, model: nn.Module, index: int, sample: int) -> AttentionMap:
    """The attention weights of layer call ``index`` (or of the one attention layer inside it) for ``sample``.

    ``model`` is read for the head count of a 3-D map (``num_heads``, ``n_head``, …); hold the model lock.

    Raises:
        NnviewError: when no attention ran in the layer, several did, or its tensors were not kept.
    """
    record = result.layers[index]
    source = _source(result, index)
    found: AttentionCapture = result.attention[source]
    label = result.layers[source].label
    if not found.tensors:
        meta = result.device == "meta"
        raise _unavailable(
            f"the attention of {label} was not kept"
            + (" (traced on the meta device: shapes only)" if meta else " (past a quarter of the memory budget)"),
            "trace without --meta" if meta else "raise --budget-mb or trace a smaller batch",
        )
    rows = found.shape[0]
    heads = _heads(_module(model, result.layers[source].name), rows) if len(found.shape) == 3 else found.shape[1]
    batch = rows // heads if len(found.shape) == 3 else rows
    sample = max(0, min(sample, batch - 1))
    if found.op == SDPA:
        weights = recompute(found, sample, heads)
        scale = f"{found.scale:.4g}" if found.scale is not None else "1/√d"
        mask = " + mask" if len(found.tensors) > 2 else ""
        how = f"recomputed from q, k of sdpa: softmax(q·kᵀ × {scale}{mask})"
    else:
        weights = _per_sample(found.tensors[0], heads)[sample].double()
        how = f"softmax over {shape_text(found.shape)}"
    square = weights.shape[-1] == weights.shape[-2]
    return AttentionMap(
        layer=record.label,
        source=label,
        how=how,
        sample=sample,
        batch=batch,
        weights=weights,
        tokens=_tokens(result, batch, weights.shape[-1], sample),
        causal=square and bool((weights.triu(1) == 0).all()),
        dropout=found.dropout,
    )
