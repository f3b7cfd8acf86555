"""Keeping the tensors a trace saw — layer outputs, inputs, activated outputs, attention — within a budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from tui.core.records import OutputStats
from tui.core.trace.attention_ops import AttentionCapture
from tui.core.trace.stats import describe_tensors, output_stats, primary_output

OUTPUT, INPUT, ACTIVATED, ATTENTION = "output", "input", "activated", "attention"
Slot = tuple[str, int]  # (what, layer index)


class CaptureStore:
    """Holds tensors for display until the budget is spent; output statistics either way.

    Statistics are kept for each layer's output and, where an activation follows it
    (``relu(fc1(x))``), for the activated output too: past the budget they are taken at once,
    while the tensor still exists, so a summary keeping no tensors still has them.

    A kept tensor is the model's own object, not a copy; if a later in-place op (``relu_``) is
    about to overwrite it, :meth:`before_write` swaps in a copy first, so every slot shows the
    values it had when it was kept. A tensor kept in several slots (a layer's output is the next
    layer's input) counts once against the budget.
    """

    def __init__(self, budget_bytes: int, describe: bool = True) -> None:
        self.budget = budget_bytes
        self.describe = describe
        self.used = 0
        self.attention_used = 0
        self.attention: dict[int, AttentionCapture] = {}
        self.exceeded = False
        self.kept: dict[Slot, tuple[torch.Tensor, ...]] = {}
        self.versions: dict[Slot, tuple[int, ...]] = {}
        self.holders: dict[int, list[Slot]] = {}
        self.stats: dict[int, OutputStats | None] = {}
        self.activated_stats: dict[int, OutputStats | None] = {}
        self._described: tuple[torch.Tensor | None, int, OutputStats | None] = (None, 0, None)

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
        self._hold(slot, tensors)
        return True

    def _hold(self, slot: Slot, tensors: Sequence[torch.Tensor]) -> None:
        self.kept[slot] = tuple(tensors)
        self.versions[slot] = tuple(t._version for t in tensors)
        for tensor in tensors:
            self.holders.setdefault(id(tensor), []).append(slot)

    def keep_attention(self, index: int, found: AttentionCapture) -> None:
        """Note the attention call ``index`` computed and keep its tensors, if they fit their own allowance.

        The first attention a call computes is the one kept; its tensors are kept only here, not in ``found``.
        """
        if index in self.attention:
            return
        self.attention[index] = replace(found, tensors=())
        tensors = found.tensors
        if not tensors or any(t.device.type == "meta" for t in tensors):
            return
        size = sum(t.numel() * t.element_size() for t in {id(t): t for t in tensors}.values())
        if self.attention_used + size <= self.budget // 4:
            self.attention_used += size
            self._hold((ATTENTION, index), tensors)

    def attention_found(self) -> dict[int, AttentionCapture]:
        """Call index -> the attention it computed, with its tensors when they were kept (after :meth:`finish`)."""
        return {i: replace(found, tensors=self.kept.get((ATTENTION, i), ())) for i, found in self.attention.items()}

    def keep_output(self, index: int, outputs: Sequence[torch.Tensor]) -> None:
        """Keep a layer's outputs; past the budget, describe them now, while they still exist."""
        if self.keep((OUTPUT, index), outputs) or not self.describe:
            return
        primary = primary_output(outputs) if outputs and outputs[0].device.type != "meta" else None
        self.stats[index] = None if primary is None else self._describe_now(primary)

    def keep_activated(self, index: int, activated: torch.Tensor, in_place: bool = False) -> None:
        """Keep layer ``index``'s output after its activation; the first activation applied wins.

        ``in_place``: called from inside an in-place op (``relu_``) whose version bump is still to
        come, so the slot expects one more write than it sees now.
        """
        if index in self.activated_stats or (ACTIVATED, index) in self.kept:
            return
        if self.keep((ACTIVATED, index), [activated]):
            if in_place:
                self.versions[(ACTIVATED, index)] = (activated._version + 1,)
            return
        if not self.describe:
            return
        meta = activated.device.type == "meta"
        # Never reused: an in-place relu_ returns the tensor just described raw, and inside the op
        # (where the watcher calls this) its version counter has not been bumped yet.
        self.activated_stats[index] = None if meta else self._describe_now(activated, reuse=False)

    def _describe_now(self, tensor: torch.Tensor, reuse: bool = True) -> OutputStats | None:
        """Statistics of ``tensor`` as it is now; the same unchanged tensor is described once.

        A container returns its last child's tensor, and an activation module's output is also the
        activated output of the layer before it. The version check catches ``relu_`` in between.
        """
        last, version, stats = self._described
        if not reuse or last is not tensor or version != tensor._version:
            stats = output_stats(tensor)
            self._described = (tensor, tensor._version, stats)
        return stats

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
                elif slot[0] == ACTIVATED:
                    self.activated_stats[slot[1]] = None
            else:
                self.kept[slot] = tuple(t if t.device.type == "cpu" else t.to("cpu") for t in tensors)
        # One batch for outputs and activated outputs alike: nn.ReLU's output is both, described once.
        primaries = {
            slot: primary_output(tensors) for slot, tensors in self.kept.items() if slot[0] in (OUTPUT, ACTIVATED)
        }
        distinct = list({id(t): t for t in primaries.values() if t is not None}.values())
        described = dict(zip((id(t) for t in distinct), describe_tensors(distinct), strict=True))
        for (what, index), primary in primaries.items():
            found = described[id(primary)] if primary is not None else None
            (self.stats if what == OUTPUT else self.activated_stats)[index] = found
        self.holders.clear()
        self._described = (None, 0, None)

    def stats_for(self, index: int) -> OutputStats | None:
        """The statistics of call ``index``'s primary output."""
        return self.stats.get(index)

    def activated_stats_for(self, index: int) -> OutputStats | None:
        """The statistics of call ``index``'s output after the activation applied to it, if any."""
        return self.activated_stats.get(index)

    def slots(self, what: str) -> dict[int, tuple[torch.Tensor, ...]]:
        """Layer index -> kept tensors of one kind (``OUTPUT``, ``INPUT``, ``ACTIVATED`` or ``ATTENTION``)."""
        return {index: tensors for (kind, index), tensors in self.kept.items() if kind == what}
