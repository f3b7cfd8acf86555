"""Keeping the tensors a trace saw — layer outputs, inputs, activated outputs — within a budget."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tui.core.records import OutputStats
from tui.core.stats import describe_tensors, output_stats, primary_output

OUTPUT, INPUT, ACTIVATED = "output", "input", "activated"
Slot = tuple[str, int]  # (what, layer index)


class CaptureStore:
    """Holds tensors for display until the budget is spent; output statistics either way.

    A kept tensor is the model's own object, not a copy; if a later in-place op (``relu_``) is
    about to overwrite it, :meth:`before_write` swaps in a copy first, so every slot shows the
    values it had when it was kept. A tensor kept in several slots (a layer's output is the next
    layer's input) counts once against the budget.
    """

    def __init__(self, budget_bytes: int, describe: bool = True) -> None:
        self.budget = budget_bytes
        self.describe = describe
        self.used = 0
        self.exceeded = False
        self.kept: dict[Slot, tuple[torch.Tensor, ...]] = {}
        self.versions: dict[Slot, tuple[int, ...]] = {}
        self.holders: dict[int, list[Slot]] = {}
        self.stats: dict[int, OutputStats | None] = {}
        self._described: tuple[torch.Tensor | None, OutputStats | None] = (None, None)

    def keep(self, slot: Slot, tensors: Sequence[torch.Tensor]) -> bool:
        """Keep ``tensors`` in ``slot`` if they fit the budget; return whether they were kept."""
        if not tensors or any(t.device.type == "meta" for t in tensors):
            return False
        new = {id(t): t for t in tensors if id(t) not in self.holders}
        size = sum(t.numel() * t.element_size() for t in new.values())
        if self.used + size > self.budget:
            self.exceeded = True
            return False
        self.used += size
        self.kept[slot] = tuple(tensors)
        self.versions[slot] = tuple(t._version for t in tensors)
        for tensor in tensors:
            self.holders.setdefault(id(tensor), []).append(slot)
        return True

    def keep_output(self, index: int, outputs: Sequence[torch.Tensor]) -> None:
        """Keep a layer's outputs; past the budget, describe them now, while they still exist."""
        if self.keep((OUTPUT, index), outputs) or not self.describe:
            return
        primary = primary_output(outputs) if outputs and outputs[0].device.type != "meta" else None
        if primary is None:
            self.stats[index] = None
            return
        last, stats = self._described
        if last is not primary:  # a container returns its last child's tensor: describe it once
            stats = output_stats(primary)
            self._described = (primary, stats)
        self.stats[index] = stats

    def before_write(self, tensor: torch.Tensor) -> None:
        """Called just before an in-place op writes ``tensor``: keep a copy of the old values."""
        slots = self.holders.pop(id(tensor), None)
        if not slots:
            return
        copy = tensor.clone()
        for slot in slots:
            tensors = tuple(copy if t is tensor else t for t in self.kept[slot])
            self.kept[slot] = tensors
            self.versions[slot] = tuple(t._version for t in tensors)

    def finish(self) -> None:
        """After the pass: drop slots changed in place through a view, move the rest to CPU, describe outputs."""
        for slot, tensors in list(self.kept.items()):
            if tuple(t._version for t in tensors) != self.versions[slot]:
                del self.kept[slot]
                if slot[0] == OUTPUT:
                    self.stats[slot[1]] = None
            else:
                self.kept[slot] = tuple(t if t.device.type == "cpu" else t.to("cpu") for t in tensors)
        primaries = {slot[1]: primary_output(tensors) for slot, tensors in self.kept.items() if slot[0] == OUTPUT}
        distinct = list({id(t): t for t in primaries.values() if t is not None}.values())
        described = dict(zip((id(t) for t in distinct), describe_tensors(distinct), strict=True))
        for index, primary in primaries.items():
            self.stats[index] = described[id(primary)] if primary is not None else None
        self.holders.clear()
        self._described = (None, None)

    def stats_for(self, index: int) -> OutputStats | None:
        """The statistics of call ``index``'s primary output."""
        return self.stats.get(index)

    def slots(self, what: str) -> dict[int, tuple[torch.Tensor, ...]]:
        """Layer index -> kept tensors of one kind (``OUTPUT``, ``INPUT`` or ``ACTIVATED``)."""
        return {index: tensors for (kind, index), tensors in self.kept.items() if kind == what}
