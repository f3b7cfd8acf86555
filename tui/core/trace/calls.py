"""What a trace recorded so far, as public records: the input of diagnosis, hints and the layer records.

The trace builds these from its hooks (:mod:`tui.core.trace.tracing`); a test or another library can
build them by hand and hand them to :func:`tui.core.trace.diagnosis.diagnose`::

    model = Net()
    x = torch.randn(4, 10)
    root = ModuleCall(0, "", model, inputs=(x,))
    fc1 = ModuleCall(1, "fc1", model.fc1, parent_index=0, inputs=(x,))
    record = diagnose(exc, CallLog((root, fc1), failing=1, model_inputs=(x,)))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass(frozen=True, slots=True)
class ModuleCall:
    """One module call, finished or still running when forward raised.

    Attributes:
        index: position in execution order (the root model is 0).
        name: qualified name as in ``named_modules()``; ``""`` for the root model.
        module: the module that was called.
        parent_index: the index of the call that called this one, -1 for the root.
        call: how many times this module had been called before (0 for the first call).
        inputs: every tensor among the positional and keyword arguments, in order.
        outputs: every tensor in the output; empty while the call is running (or if it failed).
        output_type: the output's type when it is not tensors in tuples/lists/dicts (see ``LayerRecord``).
        flops: floating-point operations the call ran itself, its children's not included.
        activation: canonical name of the elementwise activation applied next to the output.
    """

    index: int
    name: str
    module: nn.Module
    parent_index: int = -1
    call: int = 0
    inputs: tuple[torch.Tensor, ...] = ()
    outputs: tuple[torch.Tensor, ...] = ()
    output_type: str | None = None
    flops: int = 0
    activation: str | None = None

    @property
    def is_leaf(self) -> bool:
        """Whether the module has no child modules."""
        return not any(child is not None for child in self.module._modules.values())


@dataclass(frozen=True)
class CallLog:
    """Every module call a trace saw, in execution order, and where its tensors came from.

    Attributes:
        calls: the calls; ``calls[i].index == i`` and a parent comes before its children.
        failing: the index of the innermost call that had not returned when forward raised (the
            layer that failed); ``None`` when forward raised outside every module call.
        model_inputs: the tensors the model itself was called with.
        producers: ``id(tensor)`` -> the indices of the layers whose output the tensor is, passed
            on through activations (``relu(fc1(x))`` is still fc1's); ``None`` takes each call's
            ``outputs`` as its own (what a log built by hand needs). The trace's mapping holds the
            ids of tensors it keeps alive, so an id names one tensor.
    """

    calls: tuple[ModuleCall, ...]
    failing: int | None = None
    model_inputs: tuple[torch.Tensor, ...] = ()
    producers: Mapping[int, tuple[int, ...]] | None = field(default=None, repr=False)

    @property
    def failing_call(self) -> ModuleCall | None:
        """The call that was running when forward raised, if any."""
        return None if self.failing is None else self.calls[self.failing]

    def depth(self, call: ModuleCall) -> int:
        """How deep ``call`` is nested: 0 for the root, 1 for the modules the root calls."""
        depth = 0
        while call.parent_index >= 0:
            call = self.calls[call.parent_index]
            depth += 1
        return depth

    def produced_by(self, tensor: torch.Tensor) -> tuple[int, ...]:
        """The indices of the calls whose output ``tensor`` is (see ``producers``)."""
        if self.producers is not None:
            return self.producers.get(id(tensor), ())
        return tuple(c.index for c in self.calls if any(t is tensor for t in c.outputs))
