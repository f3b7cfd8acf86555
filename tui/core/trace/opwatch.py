"""A torch dispatch mode that sees every aten op of the traced forward pass.

It does three jobs the module hooks cannot:

* counts FLOPs with torch's own formulas (``torch.utils.flop_counter.flop_registry``) and the
  same decomposition rule as ``FlopCounterMode``, so MACs match the reference exactly for
  functional matmuls and attention too; recurrent kernels, matrix-vector products and
  ``nn.Bilinear`` count by nnview's formulas (rnn_flops.py, matmul_flops.py);
* names every op that did MACs no formula counted (``uncounted``), so a total is never silently
  short: it is then reported as a lower bound;
* names the elementwise activation applied to a layer's output, however it is written
  (``F.relu``, ``torch.relu``, ``x.relu()``, ``nn.ReLU``);
* protects captured outputs from later in-place ops by copying them just before the write;
* hands attention ops (a softmax, a fused sdpa kernel) to a callback, for the attention view.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import (
    TorchDispatchMode,
    _get_current_dispatch_mode_stack,
    _pop_mode_temporarily,
)
from torch.utils.flop_counter import conv_flop_count, flop_registry, sdpa_flop, sdpa_flop_count, shape_wrapper

from tui.core.trace.activations import OP_ACTIVATIONS
from tui.core.trace.attention_ops import is_attention_op
from tui.core.trace.matmul_flops import MATMUL_FORMULAS, looks_like_compute
from tui.core.trace.rnn_flops import RNN_FORMULAS

_PRIM_DEVICE = torch.ops.prim.device.default
aten = torch.ops.aten


def _native_mha_flop(
    query: Any, key: Any, value: Any, embed_dim: int, num_head: int, *args: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    """FLOPs of the fused multi-head attention kernel: in-projection, attention, out-projection."""
    batch, q_len = (query[0], query[1]) if len(query) == 3 else (1, query[0])
    kv_len = key[1] if len(key) == 3 else key[0]
    head = embed_dim // num_head
    projections = (
        2 * embed_dim * embed_dim * (batch * q_len + 2 * batch * kv_len) + 2 * batch * q_len * embed_dim * embed_dim
    )
    q, kv = (batch, num_head, q_len, head), (batch, num_head, kv_len, head)
    return int(projections) + int(sdpa_flop_count(q, kv, kv))  # type: ignore[no-untyped-call]


# torch's own formulas, plus kernels FlopCounterMode leaves at 0 on CPU: the CPU flash-attention
# kernel behind F.scaled_dot_product_attention, the fused nn.MultiheadAttention fast path, the
# recurrent kernels (rnn_flops.py) and matrix-vector products and nn.Bilinear (matmul_flops.py).
FLOP_FORMULAS: dict[Any, Any] = {
    **flop_registry,
    **RNN_FORMULAS,
    **MATMUL_FORMULAS,
    aten._scaled_dot_product_flash_attention_for_cpu: sdpa_flop,  # already shape-wrapped by torch
    aten._native_multi_head_attention: shape_wrapper(_native_mha_flop),  # type: ignore[no-untyped-call]
}


# Composite ops whose decompositions hold no matmul or convolution: splitting them (as
# FlopCounterMode does) finds 0 FLOPs either way, but runs them as slow unfused Python-dispatched
# pieces (eval-mode batch norm 3x slower). Everything else is split, so matmuls inside count.
NO_MATMUL_INSIDE = frozenset(
    {
        "native_batch_norm",
        "batch_norm",
        "layer_norm",
        "group_norm",
        "instance_norm",
        "rms_norm",
        "_fused_rms_norm",
        "dropout",
        "feature_dropout",
        "alpha_dropout",
    }
)


def _fast_flops(packet: Any, args: Any, out: Any) -> int | None:
    """Matmul and convolution FLOPs as torch's formulas give them, without their pytree walk.

    ``addmm_flop`` calls the shape-wrapped ``mm_flop`` and ``conv_flop`` walks its list arguments,
    so every Linear and Conv layer would pay a pytree flatten; tests/core/test_flop_formulas.py
    checks these agree with torch's registry.
    """
    if packet is aten.convolution or packet is aten._convolution:
        return int(conv_flop_count(args[0].shape, args[1].shape, out.shape, transposed=args[6]))
    if packet is aten.mm:
        a, b = args[0].shape, args[1].shape
        return int(2 * a[0] * a[1] * b[1])
    if packet is aten.addmm:
        a, b = args[1].shape, args[2].shape
        return int(2 * a[0] * a[1] * b[1])
    if packet is aten.bmm:
        a, b = args[0].shape, args[1].shape
        return int(2 * a[0] * a[1] * a[2] * b[2])
    if packet is aten.baddbmm:
        a, b = args[1].shape, args[2].shape
        return int(2 * a[0] * a[1] * a[2] * b[2])
    return None


_SPARSE_LAYOUTS = frozenset({torch.sparse_coo, torch.sparse_csr, torch.sparse_csc, torch.sparse_bsr, torch.sparse_bsc})


def _has_sparse(args: Any) -> bool:
    """Whether a tensor argument is sparse (COO, CSR, CSC, BSR, BSC)."""
    return any(isinstance(a, torch.Tensor) and a.layout in _SPARSE_LAYOUTS for a in args)


def _count(formula: Any, args: Any, kwargs: Any, out: Any) -> int:
    """Apply a shape-wrapped formula; flat argument lists skip the wrapper's pytree walk."""
    raw = getattr(formula, "__wrapped__", None)
    if raw is None or kwargs or not isinstance(out, torch.Tensor) or any(isinstance(a, (list, tuple)) for a in args):
        return int(formula(*args, **kwargs, out_val=out))
    shapes = [a.shape if isinstance(a, torch.Tensor) else a for a in args]
    return int(raw(*shapes, out_shape=out.shape))


class OpWatcher(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Dispatch mode that reports FLOPs, activations and in-place writes to callbacks.

    Args:
        on_flops: called with the FLOP count of each matmul/conv/attention op.
        on_activation: called with (input tensor, output tensor, canonical name).
        on_write: called with each tensor an in-place op is about to modify.
        on_attention: called with (op, args, kwargs, output) of each softmax and fused attention kernel.
    """

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps __torch_dispatch__ in dynamo.disable by default, which imports torch._dynamo
        # (1.3 s) on first use and adds a wrapper to every op. nnview never compiles inside a trace.
        return False

    def __init__(
        self,
        on_flops: Callable[[int], None],
        on_activation: Callable[[torch.Tensor, Any, str], None],
        on_write: Callable[[torch.Tensor], None],
        on_attention: Callable[[Any, Any, Any, Any], None] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.on_flops = on_flops
        self.on_activation = on_activation
        self.on_write = on_write
        self.on_attention = on_attention
        self.paused = False
        self.uncounted: set[str] = set()
        self._ops: dict[Any, _OpFacts] = {}

    @contextlib.contextmanager
    def suspended(self) -> Iterator[None]:
        """Run nnview's own tensor work (statistics) unwatched.

        Popping the mode off the stack costs one push and pop; merely flagging it would still send
        every op through Python. The flag is the fallback when the model pushed a mode of its own.
        """
        stack = _get_current_dispatch_mode_stack()
        if stack and stack[-1] is self:
            with _pop_mode_temporarily():
                yield
            return
        self.paused = True
        try:
            yield
        finally:
            self.paused = False

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if self.paused:
            return func(*args, **kwargs)
        facts = self._ops.get(func)
        if facts is None:
            facts = self._ops[func] = _OpFacts(func)
        if facts.decomposes:
            # The same rule as FlopCounterMode: composite ops are split so their matmuls count.
            with self:
                decomposed = func.decompose(*args, **kwargs)
            if decomposed is not NotImplemented:
                return decomposed
        if facts.formula is not None:
            out = func(*args, **kwargs)
            if facts.attention and self.on_attention is not None:
                self.on_attention(func, args, kwargs, out)
            if _has_sparse(args):
                # The formulas assume dense operands: a sparse matmul's real MACs depend on its
                # non-zeros, so it is named rather than counted as if it were dense.
                self.uncounted.add(f"{facts.label} (sparse)")
                return out
            try:
                flops = None if kwargs or not isinstance(out, torch.Tensor) else _fast_flops(facts.packet, args, out)
                self.on_flops(_count(facts.formula, args, kwargs, out) if flops is None else flops)
            except Exception:  # noqa: BLE001 - a formula that cannot read these args must not fail the user's model
                self.uncounted.add(facts.label)
            return out
        if facts.uncounted:
            self.uncounted.add(facts.label)  # it multiplies matrices, but no formula knows how many
        if facts.mutable:
            for arg in args:
                if isinstance(arg, torch.Tensor):
                    self.on_write(arg)
        out = func(*args, **kwargs)
        if facts.attention and self.on_attention is not None:
            self.on_attention(func, args, kwargs, out)
        if facts.activation is not None and args and isinstance(args[0], torch.Tensor):
            self.on_activation(args[0], out, facts.activation)
        return out


class _OpFacts:
    """What the watcher needs to know about one aten overload, worked out once per trace."""

    __slots__ = ("activation", "attention", "decomposes", "formula", "label", "mutable", "packet", "uncounted")

    def __init__(self, func: Any) -> None:
        self.packet = packet = func._overloadpacket
        self.decomposes = (
            func is not _PRIM_DEVICE and packet.__name__ not in NO_MATMUL_INSIDE and bool(func._can_decompose())
        )
        self.formula = FLOP_FORMULAS.get(packet)
        self.label = str(packet)
        # Ops without a formula that still do MACs (quantized.linear_dynamic, aten._sparse_addmm):
        # the total is then a lower bound, and the report names them.
        self.uncounted = self.formula is None and looks_like_compute(self.label)
        self.mutable = bool(func._schema.is_mutable)
        self.activation = OP_ACTIVATIONS.get(packet.__name__)
        self.attention = is_attention_op(packet.__name__)
