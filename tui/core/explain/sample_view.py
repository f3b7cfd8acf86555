"""One sample's output of one layer, shaped for display: neuron values, channels, histogram, classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tui.core.explain.views import ClassProbabilities, class_probabilities
from tui.core.records import TraceResult

HISTOGRAM_BINS = 20
# Below this many values the per-value bars say it all: a histogram of 3 logits says nothing more.
HISTOGRAM_MIN_VALUES = 20


@dataclass(frozen=True)
class ChannelSummary:
    """One channel of a feature map: its mean, max and fraction of zeros."""

    channel: int
    mean: float
    max: float
    zero_frac: float


@dataclass(frozen=True)
class SampleView:
    """What layer ``index`` produced for sample ``sample``.

    Attributes:
        index: the layer call.
        sample: the sample within the batch.
        batch: the batch size.
        shape: the per-sample output shape.
        values: one value per neuron (the last dimension; first position of a sequence).
        activated: the same neurons after the activation applied next, when there is one.
        note: what ``values`` are, when that is not obvious ("position 0 of 16").
        channels: per-channel summaries for outputs shaped (channels, ...).
        histogram: (bin centre, count) over all of the sample's output values; none for fewer than
            ``HISTOGRAM_MIN_VALUES`` values (the bars show each one).
        classes: logits -> probabilities -> prediction, for the model's final output.
        missing: why there is nothing to show (outputs not kept, meta device), else "".
    """

    index: int
    sample: int
    batch: int
    shape: tuple[int, ...] = ()
    values: tuple[float, ...] = ()
    activated: tuple[float, ...] | None = None
    note: str = ""
    channels: tuple[ChannelSummary, ...] = ()
    histogram: tuple[tuple[float, int], ...] = ()
    classes: ClassProbabilities | None = None
    missing: str = ""


def final_layer(result: TraceResult) -> int | None:
    """The deepest layer whose output is the model's output (the one that made the logits)."""
    root = result.captured.get(0)
    if not root:
        return None
    found = [i for i, tensors in result.captured.items() if i and tensors and tensors[0] is root[0]]
    return max(found) if found else 0


def _histogram(values: torch.Tensor) -> tuple[tuple[float, int], ...]:
    finite = values[torch.isfinite(values)].double()
    if finite.numel() < HISTOGRAM_MIN_VALUES:
        return ()
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return ((low, int(finite.numel())),)
    counts = torch.histc(finite, bins=HISTOGRAM_BINS, min=low, max=high)
    width = (high - low) / HISTOGRAM_BINS
    return tuple((low + (i + 0.5) * width, int(c)) for i, c in enumerate(counts.tolist()))


def sample_view(result: TraceResult, index: int, sample: int) -> SampleView:
    """Shape layer ``index``'s output for sample ``sample`` (clamped to the batch) for display."""
    record = result.layers[index]
    batch = record.outputs[0].shape[0] if record.outputs and record.outputs[0].shape else 1
    sample = max(0, min(sample, batch - 1))
    outputs = result.captured.get(index)
    if result.device == "meta":
        return SampleView(index, sample, batch, missing="traced on the meta device: shapes only, no values")
    if not outputs:
        return SampleView(index, sample, batch, missing="output not kept (past the memory budget, or not a tensor)")
    out = outputs[0].detach()
    if out.dim() == 0:
        return SampleView(index, 0, 1, (), (float(out),), missing="")
    one = out[sample].float() if out.is_floating_point() else out[sample].double()
    shape = tuple(one.shape)
    vector = one.reshape(-1, shape[-1])[0] if one.dim() >= 1 else one.reshape(1)
    note = f"position 0 of {one.reshape(-1, shape[-1]).shape[0]}" if one.dim() >= 2 else ""
    activated = None
    if index in result.activated and one.dim() >= 1:
        after = result.activated[index][sample].float()
        activated = tuple(after.reshape(-1, shape[-1])[0].tolist())
    channels: tuple[ChannelSummary, ...] = ()
    if one.dim() >= 2 and record.type.startswith(("Conv", "BatchNorm", "MaxPool", "AvgPool", "AdaptiveAvgPool")):
        flat = one.reshape(shape[0], -1)
        channels = tuple(
            ChannelSummary(c, float(row.mean()), float(row.max()), float((row == 0).double().mean()))
            for c, row in enumerate(flat)
        )
        vector, note = flat.mean(dim=1), "channel means"
        activated = None
    classes = None
    if index == final_layer(result) and one.dim() == 1 and shape[0] >= 2 and record.activation is None:
        classes = class_probabilities(one)
    return SampleView(
        index=index,
        sample=sample,
        batch=batch,
        shape=shape,
        values=tuple(vector.tolist()),
        activated=activated,
        note=note,
        channels=channels,
        histogram=_histogram(one.reshape(-1)),
        classes=classes,
    )
