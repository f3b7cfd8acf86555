"""Recognising attention among the aten ops of a traced pass: a softmax over scores, or a fused attention kernel.

The trace keeps, for each module call whose own forward computes attention, what the attention view needs:
the probabilities themselves when the model runs a softmax over the last dimension of a 3-D or 4-D scores
tensor (``F.softmax(q @ k.T / √d, dim=-1)``), or the query, key and mask of a
``F.scaled_dot_product_attention`` call, whose fused kernel never materialises the probabilities (the
view recomputes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

SOFTMAX = "softmax"
SDPA = "scaled_dot_product_attention"
_SOFTMAX_OPS = frozenset({"_softmax", "_safe_softmax"})  # _safe_softmax: sdpa's unfused (math) path


def is_attention_op(name: str) -> bool:
    """Whether the aten op packet ``name`` may compute attention: a softmax, or a fused sdpa kernel."""
    return name in _SOFTMAX_OPS or (name.startswith("_scaled_dot_product") and "backward" not in name)


@dataclass(frozen=True)
class AttentionCapture:
    """How one module call computed attention weights, and the tensors the trace kept to show them.

    Attributes:
        op: ``SOFTMAX`` (the probabilities were computed) or ``SDPA`` (a fused kernel: recompute them).
        kernel: the aten op that ran: ``"aten._softmax"``, ``"aten._scaled_dot_product_flash_attention_for_cpu"``.
        shape: the probabilities' shape: the softmax output's, or (..., query length, key length) for sdpa.
        causal: sdpa's ``is_causal`` (a softmax's mask is in its scores already).
        scale: sdpa's ``scale``; ``None``: 1/√(head width), torch's default.
        dropout: sdpa's ``dropout_p`` (the traced pass runs in eval mode; a module that passes it anyway
            dropped weights the recomputed map still shows).
        tensors: ``(probabilities,)`` for a softmax, ``(query, key)`` or ``(query, key, mask)`` for sdpa;
            empty when they did not fit the memory budget.
    """

    op: str
    kernel: str
    shape: tuple[int, ...]
    causal: bool = False
    scale: float | None = None
    dropout: float = 0.0
    tensors: tuple[torch.Tensor, ...] = ()


def read_attention(func: Any, args: Any, kwargs: Any, out: Any) -> AttentionCapture | None:
    """The attention an op computed, its tensors included; ``None`` for a softmax that is not over scores.

    A softmax counts when it runs over the last dimension of a 3-D (batch x heads, queries, keys) or 4-D
    (batch, heads, queries, keys) floating-point tensor; the 2-D softmax of a classifier does not.
    """
    values = dict(zip((a.name for a in func._schema.arguments), args, strict=False))
    values.update(kwargs or {})
    kernel = str(func._overloadpacket)
    if func._overloadpacket.__name__ in _SOFTMAX_OPS:
        probabilities = out[0] if isinstance(out, (tuple, list)) else out
        dim = values.get("dim")
        if not isinstance(probabilities, torch.Tensor) or probabilities.dim() not in (3, 4):
            return None
        if not probabilities.is_floating_point() or dim not in (-1, probabilities.dim() - 1):
            return None
        return AttentionCapture(SOFTMAX, kernel, tuple(probabilities.shape), tensors=(probabilities,))
    query, key = values.get("query"), values.get("key")
    if not isinstance(query, torch.Tensor) or not isinstance(key, torch.Tensor) or query.dim() not in (3, 4):
        return None
    mask = values.get("attn_mask", values.get("attn_bias"))
    scale = values.get("scale")
    return AttentionCapture(
        SDPA,
        kernel,
        (*query.shape[:-1], key.shape[-2]),
        causal=bool(values.get("is_causal", False)),
        scale=float(scale) if scale is not None else None,
        dropout=float(values.get("dropout_p", 0.0) or 0.0),
        tensors=(query, key) if not isinstance(mask, torch.Tensor) else (query, key, mask),
    )
