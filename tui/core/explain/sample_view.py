"""One sample's output of one layer, shaped for display: neuron values, channels, histogram, classes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from tui.core.explain.views import ClassProbabilities, class_probabilities, one_output_class
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
        values: one value per neuron (the last dimension; at ``position`` of a sequence).
        activated: the same neurons after the activation applied next, when there is one.
        note: what ``values`` are, when that is not obvious ("position 0 of 16").
        position: which position of a sequence output (N, T, C) ``values`` and ``classes`` are at.
        positions: how many positions there are (T); 0 for an output that is not a sequence.
        channels: per-channel summaries for outputs shaped (channels, ...).
        histogram: (bin centre, count) over all of the sample's output values; none for fewer than
            ``HISTOGRAM_MIN_VALUES`` values (the bars show each one).
        classes: logits -> probabilities -> prediction (and the true class, when known), for the model's
            final output: softmax over several outputs, a threshold on one.
        missing: why there is nothing to show (outputs not kept, meta device), else "".
    """

    index: int
    sample: int
    batch: int
    shape: tuple[int, ...] = ()
    values: tuple[float, ...] = ()
    activated: tuple[float, ...] | None = None
    note: str = ""
    position: int = 0
    positions: int = 0
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


def sample_view(
    result: TraceResult,
    index: int,
    sample: int,
    position: int = 0,
    *,
    labels: torch.Tensor | None = None,
    names: object = None,
) -> SampleView:
    """Shape layer ``index``'s output for sample ``sample`` (clamped to the batch) for display.

    Args:
        result: the trace.
        index: the layer call.
        sample: the sample within the batch (clamped to it).
        position: the position of a sequence output (clamped to it; ignored for other outputs).
        labels: the batch's labels (one row per sample), when it came from the data: the final layer
            then says the sample's true class.
        names: the file's ``classes`` as it wrote it; a list of strings, one per class, names them
            (anything else is ignored, with a note saying why).
    """
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
    rows = one.reshape(-1, shape[-1]) if one.dim() >= 1 else one.reshape(1, 1)
    positions = rows.shape[0] if one.dim() >= 2 else 0
    position = max(0, min(position, positions - 1)) if positions else 0
    vector = rows[position]
    note = f"position {position} of {positions}" if positions else ""
    activated = None
    if index in result.activated and one.dim() >= 1:
        after = result.activated[index][sample].float()
        activated = tuple(after.reshape(-1, shape[-1])[position].tolist())
    channels: tuple[ChannelSummary, ...] = ()
    if one.dim() >= 2 and record.type.startswith(("Conv", "BatchNorm", "MaxPool", "AvgPool", "AdaptiveAvgPool")):
        flat = one.reshape(shape[0], -1)
        channels = tuple(
            ChannelSummary(c, float(row.mean()), float(row.max()), float((row == 0).double().mean()))
            for c, row in enumerate(flat)
        )
        vector, note, activated, positions, position = flat.mean(dim=1), "channel means", None, 0, 0
    classes = None
    if index == final_layer(result) and record.activation is None and not channels and one.dim() <= 2:
        label = _label(labels, batch, sample, position, positions)
        classes = _prediction(out, vector, labels if label is not None else None, label, names)
    return SampleView(
        index=index,
        sample=sample,
        batch=batch,
        shape=shape,
        values=tuple(vector.tolist()),
        activated=activated,
        note=note,
        position=position,
        positions=positions,
        channels=channels,
        histogram=_histogram(one.reshape(-1)),
        classes=classes,
    )


def _label(labels: torch.Tensor | None, batch: int, sample: int, position: int, positions: int) -> torch.Tensor | None:
    """The sample's label (at ``position`` when there is one per position), if the labels fit the batch."""
    if labels is None or labels.dim() == 0 or labels.shape[0] != batch:
        return None
    row = labels[sample]
    return row[position] if positions and row.dim() >= 1 and row.shape[0] == positions else row


def _prediction(
    out: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor | None, label: torch.Tensor | None, names: object
) -> ClassProbabilities | None:
    """Softmax over several outputs, or one output read as a binary class; with names and the truth.

    One output is read as a class when it looks like one: the whole batch's outputs are in [0, 1]
    (a probability, threshold 0.5, as the decision boundary decides), or else a logit (threshold 0)
    when the batch's labels are all 0 or 1 or the file names two classes. A one-output model whose
    labels are other numbers is a regression: no classes.
    """
    if logits.numel() >= 2:
        classes = class_probabilities(logits)
    else:
        probability = bool(((out >= 0) & (out <= 1)).all())
        binary = labels is not None and bool(((labels == 0) | (labels == 1)).all())
        two_names = isinstance(names, (list, tuple)) and len(names) == 2
        if not (probability or binary or two_names) or (labels is not None and not binary):
            return None
        classes = one_output_class(float(logits.reshape(-1)[0]), probability)
    count = len(classes.probabilities)
    class_names, names_note = _names(names, count)
    truth, truth_note = _truth(label, count)
    note = "; ".join(n for n in (names_note, truth_note) if n)
    return replace(classes, names=class_names, truth=truth, note=note)


def _names(names: object, count: int) -> tuple[tuple[str, ...], str]:
    """The file's ``classes`` as one name per class, or () and why not."""
    if names is None:
        return (), ""
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        return (), f"classes ignored: a list of strings names the classes, not {type(names).__name__} {names!r:.40}"
    if len(names) != count:
        return (), f"classes ignored: it names {len(names)} classes, the output has {count}"
    return tuple(names), ""


def _truth(label: torch.Tensor | None, count: int) -> tuple[int | None, str]:
    """The true class of a label (a class id, or a one-hot row of ``count`` values), or None and why not."""
    if label is None:
        return None, ""
    values = label.reshape(-1).double()
    if values.numel() == count > 1 and bool(((values == 0) | (values == 1)).all()) and float(values.sum()) == 1:
        return int(values.argmax()), ""
    if values.numel() != 1:
        return None, f"a label of {values.numel()} values is not a class id"
    value = float(values[0])
    if not value.is_integer():
        return None, f"label {value:g} is not a class id"
    if not 0 <= value < count:
        return None, f"label {value:g} is not one of the classes 0..{count - 1}"
    return int(value), ""
