"""Formulas for the matrix products torch's flop counter leaves out, and the rule for the rest.

``torch.utils.flop_counter`` counts ``mm``/``addmm``/``bmm``/``baddbmm``, convolutions and attention.
A matrix-vector product (``W @ v`` with a 1-D ``v`` runs ``aten.mv``), a dot product and
``nn.Bilinear`` (``aten._trilinear``) run kernels of their own; these count them with the same
convention (one MAC per multiply-accumulate of the product; bias adds are not MACs).

Any other op that multiplies matrices or convolves and has no formula (a dynamically quantised
Linear's ``quantized.linear_dynamic``, ``torch.sparse.mm``'s ``aten._sparse_addmm``) is named by
:func:`looks_like_compute`, so the total is reported as a lower bound instead of silently short.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch

aten = torch.ops.aten


def mv_flop(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
    """``aten.mv(mat, vec)`` and ``aten.addmv(self, mat, vec)``: one MAC per matrix element."""
    mat = args[-2]
    return 2 * int(mat.numel())


def dot_flop(a: torch.Tensor, b: torch.Tensor, *args: Any, out_val: Any = None, **kwargs: Any) -> int:
    """``aten.dot``/``aten.vdot``: one MAC per element pair."""
    return 2 * int(a.numel())


def addr_flop(
    bias: torch.Tensor, u: torch.Tensor, v: torch.Tensor, *args: Any, out_val: Any = None, **kwargs: Any
) -> int:
    """``aten.addr`` (outer product): a ``(n, 1) @ (1, m)`` matmul, n x m MACs."""
    return 2 * int(u.numel()) * int(v.numel())


def trilinear_flop(
    i1: torch.Tensor,
    i2: torch.Tensor,
    i3: torch.Tensor,
    expand1: Any,
    expand2: Any,
    expand3: Any,
    *args: Any,
    out_val: Any = None,
    **kwargs: Any,
) -> int:
    """``aten._trilinear`` (``nn.Bilinear``): one MAC per point of the joint index space.

    Each input is unsqueezed at its ``expand`` dims to a common rank; the product is summed over the
    joint space, whose size is the product of the largest extent per dim. For ``nn.Bilinear`` that
    is ``batch x out x in1 x in2``.
    """
    shapes = []
    for tensor, expand in ((i1, expand1), (i2, expand2), (i3, expand3)):
        shape = list(tensor.shape)
        for dim in sorted(expand):
            shape.insert(dim, 1)
        shapes.append(shape)
    return 2 * int(math.prod(max(sizes) for sizes in zip(*shapes, strict=True)))


MATMUL_FORMULAS: dict[Any, Any] = {
    aten.mv: mv_flop,
    aten.addmv: mv_flop,
    aten.dot: dot_flop,
    aten.vdot: dot_flop,
    aten.addr: addr_flop,
    aten._trilinear: trilinear_flop,
}

# One word of an op's name (split on "_") that says it multiplies matrices, convolves or runs a
# recurrent or attention layer. Whole words, so upsample_bilinear2d, mvlgamma and
# _convert_indices_from_coo_to_csr (no multiply-accumulates) are not taken for matmuls.
_COMPUTE_WORD = re.compile(
    r"(q?conv(olution)?(_?transpose)?\d*d?|\w*mm|matmul|q?linear|bilinear|trilinear|einsum|tensordot|gemm|gemv"
    r"|v?dot|mv|addmv|addr|ger|outer|baddbmm|rnn|lstm|gru|attention|sdpa|transformer|cdist)"
)


def looks_like_compute(op_name: str) -> bool:
    """Whether an op named ``op_name`` (``"aten._sparse_addmm"``, ``"quantized.linear_dynamic"``) does MACs.

    Args:
        op_name: the op's name, with or without its namespace.

    Returns:
        True when a word of the name names a matmul, convolution, recurrent or attention op.
    """
    words = op_name.rsplit(".", 1)[-1].split("_")
    return any(_COMPUTE_WORD.fullmatch(word) for word in words if word)
