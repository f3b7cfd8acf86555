"""Frozen dataclasses for what a traced forward pass found: layers, tensors, statistics, totals.

The core makes these; the CLI, the report and the TUI only read them (through :mod:`tui.core.records`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape in prose as Python writes the tuple: ``(4, 10)``, ``(4,)``, ``()``.

    The one spelling for messages and footers; tables use the tight ``(4,10)`` (``tui.text.compact_shape``)
    and command lines the ``--input`` syntax (:func:`shape_arg`).
    """
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_arg(shape: tuple[int, ...]) -> str:
    """A shape as ``--input`` takes it: ``4x5``."""
    return "x".join(str(d) for d in shape)


@dataclass(frozen=True)
class TensorSpec:
    """The shape and dtype of one tensor, e.g. ``(4, 5)`` and ``"float32"``."""

    shape: tuple[int, ...]
    dtype: str

    def shape_text(self) -> str:
        """The shape as the README writes it: ``(4, 10)`` (see :func:`shape_text`)."""
        return shape_text(self.shape)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"shape": [...], "dtype": "float32"}``."""
        return {"shape": list(self.shape), "dtype": self.dtype}


@dataclass(frozen=True)
class OutputStats:
    """Statistics of a layer's primary output over the whole batch."""

    mean: float
    std: float
    min: float
    max: float
    zero_frac: float
    nonfinite_frac: float

    def to_json(self) -> dict[str, float | None]:
        """A JSON-ready dict; NaN and infinities become ``null`` (JSON has no such numbers)."""
        return {k: (v if math.isfinite(v) else None) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class LayerRecord:
    """One module call seen during the traced forward pass, in execution order.

    Attributes:
        index: position in execution order (the root model is 0).
        name: qualified name as in ``named_modules()``; ``""`` for the root model.
        type: the module's class name, e.g. ``"Linear"``.
        depth: nesting depth at call time; the root is 0.
        parent: qualified name of the module that called this one, ``None`` for the root.
        parent_index: the index of that call, -1 for the root.
        call: how many times this module had been called before (0 for the first call).
        inputs: every tensor among the positional and keyword arguments.
        outputs: every tensor in the output, tuples, lists and dicts walked in full.
        weight: shape of the module's ``weight`` tensor, if it has one.
        bias: shape of the module's ``bias`` tensor, if it has one.
        params: parameters the module owns directly (not its children's).
        shared: how many of ``params`` another module also owns (tied weights).
        params_total: distinct parameters in the module's subtree.
        trainable: distinct parameters in the subtree with ``requires_grad``.
        macs: multiply-accumulates of this call including its children (FLOPs / 2).
        activation: canonical name of the elementwise activation applied next to the output.
        stats: statistics of the first floating-point output, ``None`` on the meta device.
        activated_stats: the same statistics after ``activation`` (``relu(fc1(x))``: the zeros
            ReLU made show here), ``None`` when no activation follows or on the meta device.
        captured: whether the output tensors were kept for display (memory budget).
        is_leaf: whether the module has no child modules.
        output_type: the output's type when it is not tensors in tuples/lists/dicts, e.g.
            ``"Normal"`` or ``"ndarray(4,3)"``; ``outputs`` then holds the tensors found inside it.
        scripted: a submodule of a TorchScript module, listed from ``named_modules()``: its
            compiled forward runs no hooks, so it has weights but no inputs, outputs or MACs.
    """

    index: int
    name: str
    type: str
    depth: int
    parent: str | None
    parent_index: int
    call: int
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    weight: tuple[int, ...] | None
    bias: tuple[int, ...] | None
    params: int
    shared: int
    params_total: int
    trainable: int
    macs: int
    activation: str | None
    stats: OutputStats | None
    captured: bool
    is_leaf: bool
    output_type: str | None = None
    scripted: bool = False
    activated_stats: OutputStats | None = None

    @property
    def table_stats(self) -> OutputStats | None:
        """The statistics the layer table shows: after the activation when one follows."""
        return self.activated_stats if self.activation is not None else self.stats

    @property
    def label(self) -> str:
        """The name a person reads: the qualified name, or the class name for the root."""
        base = self.name or self.type
        return f"{base} (call {self.call + 1})" if self.call else base

    def to_json(self) -> dict[str, Any]:
        """The layer as the ``--json`` schema writes it."""
        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "parent": self.parent,
            "call": self.call,
            "inputs": [list(t.shape) for t in self.inputs],
            "outputs": [list(t.shape) for t in self.outputs],
            "weight": list(self.weight) if self.weight is not None else None,
            "bias": list(self.bias) if self.bias is not None else None,
            "params": self.params,
            "shared_params": self.shared,
            "params_total": self.params_total,
            "trainable": self.trainable,
            "macs": self.macs,
            "activation": self.activation,
            "stats": self.stats.to_json() if self.stats is not None else None,
            "activated_stats": self.activated_stats.to_json() if self.activated_stats is not None else None,
            "output_type": self.output_type,
            "scripted": self.scripted,
        }


@dataclass(frozen=True)
class Totals:
    """Whole-model figures; shared (tied) parameters are counted once."""

    params: int
    trainable: int
    param_bytes: int
    macs: int
    activation_bytes: int

    @property
    def non_trainable(self) -> int:
        """Parameters with ``requires_grad=False``."""
        return self.params - self.trainable

    def to_json(self) -> dict[str, int]:
        """A JSON-ready dict."""
        return {
            "params": self.params,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "macs": self.macs,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
        }


@dataclass(frozen=True)
class ModeDependentLayer:
    """A layer that computes differently in train and eval mode, and what eval mode did to it.

    Attributes:
        name: the module's qualified name (``"features.1"``).
        type: its class name (``"BatchNorm2d"``).
        in_eval: what the eval-mode trace means for it (``"uses running statistics"``, ``"is off"``).
    """

    name: str
    type: str
    in_eval: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"name", "type", "in_eval"}``."""
        return {"name": self.name, "type": self.type, "in_eval": self.in_eval}


@dataclass(frozen=True)
class TraceResult:
    """Everything one traced forward pass found.

    Attributes:
        model_name: the model's class name (or the name it was picked by).
        source: where it came from: a file path or ``pkg.module:attr``.
        inputs: the example inputs that were fed.
        input_inferred: whether nnview made the inputs from the first layer.
        input_origin: where the inputs came from, for people ("inferred from fc1 = Linear(...)").
        device: the device the pass ran on, e.g. ``"cpu"`` or ``"meta"``.
        layers: one record per module call, in execution order; the root first.
        totals: whole-model figures.
        captured: layer index -> output tensors (detached, on CPU), for layers within the budget.
        captured_inputs: layer index -> the inputs of leaf layers with a weight, as they saw them.
        activated: layer index -> the output after the activation applied next (``relu(fc1(x))``).
        attention: layer index -> the attention its own forward computed, a softmax over scores or an sdpa
            call (:class:`tui.core.trace.attention_ops.AttentionCapture`), for the attention view.
        budget_bytes: the memory budget the captured tensors were kept within.
        budget_exceeded: whether some layers kept statistics only.
        macs_uncounted: ops that did multiply-accumulates no formula counted (no formula, a formula
            that failed, a sparse operand), so MACs are a lower bound; empty when they are exact.
        mode_dependent: layers that ran and behave differently in train mode (the trace is in eval).
        uninitialized_params: lazy parameters forward never initialised (counted as 0).
        notes: sentences the summary adds under the table (e.g. why a TorchScript model has no call rows).
    """

    model_name: str
    source: str
    inputs: tuple[TensorSpec, ...]
    input_inferred: bool
    input_origin: str
    device: str
    layers: tuple[LayerRecord, ...]
    totals: Totals
    captured: dict[int, tuple[Any, ...]] = field(default_factory=dict, compare=False, repr=False)
    captured_inputs: dict[int, tuple[Any, ...]] = field(default_factory=dict, compare=False, repr=False)
    activated: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)
    attention: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)
    budget_bytes: int = 0
    budget_exceeded: bool = False
    macs_uncounted: tuple[str, ...] = ()
    mode_dependent: tuple[ModeDependentLayer, ...] = ()
    uninitialized_params: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def layer(self, name: str, call: int = 0) -> LayerRecord:
        """The record of module ``name``'s ``call``-th call; ``KeyError`` if it never ran."""
        for rec in self.layers:
            if rec.name == name and rec.call == call:
                return rec
        raise KeyError(f"no traced call {call} of layer {name!r}")

    def to_json(self) -> dict[str, Any]:
        """The ``nnview summary --json`` object."""
        return {
            "model": self.model_name,
            "source": self.source,
            "device": self.device,
            "input_inferred": self.input_inferred,
            "input_origin": self.input_origin,
            "inputs": [t.to_json() for t in self.inputs],
            "layers": [rec.to_json() for rec in self.layers],
            "totals": self.totals.to_json(),
            "macs_uncounted": list(self.macs_uncounted),
            "uninitialized_params": list(self.uninitialized_params),
            "notes": list(self.notes),
            "macs_exact": not self.macs_uncounted,
            "traced_mode": "eval",
            "mode_dependent_layers": [layer.to_json() for layer in self.mode_dependent],
        }
