"""Convolutions for people: a layer's output channel by channel, and one Conv2d output redone by hand.

Everything here reads a :class:`TraceResult` (and the model, for the kernels); nothing re-runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tui.core.explain.views import _module, _unavailable, check_kept
from tui.core.records import TraceResult, shape_text

MAX_SIDE = 48  # larger maps are averaged down to at most this many cells a side

Grid = tuple[tuple[float, ...], ...]
Planes = tuple[Grid, ...]  # (input channel, row, column)


@dataclass(frozen=True)
class FeatureMap:
    """One 2-D map and the range of its finite values (for shading)."""

    values: Grid
    low: float
    high: float


@dataclass(frozen=True)
class FeatureMaps:
    """What layer ``index`` produced for one sample, channel by channel, with the sample's input image.

    Attributes:
        layer: the layer's label.
        sample: the sample within the batch.
        batch: the batch size.
        shape: the per-sample output shape (C, H, W).
        activated: whether the maps are the output after the activation that follows (``relu(conv(x))``).
        activation: the activation that follows the layer, if one was recorded.
        channels: one map per output channel.
        low: the smallest finite value over all channels (one scale to compare channels by).
        high: the largest.
        step: each cell shown is the mean of ``step`` x ``step`` values (maps wider than ``MAX_SIDE``); 1 when whole.
        image: the sample's input image, one map per colour channel (grey or RGB); empty when the input is
            not a 1- or 3-channel image.
        image_source: the layer whose recorded input ``image`` is (the model's input as that layer saw it).
    """

    layer: str
    sample: int
    batch: int
    shape: tuple[int, int, int]
    activated: bool
    activation: str | None
    channels: tuple[FeatureMap, ...]
    low: float
    high: float
    step: int
    image: tuple[FeatureMap, ...] = ()
    image_source: str = ""


def _range(values: torch.Tensor) -> tuple[float, float]:
    finite = values[torch.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.numel() else (0.0, 0.0)


def _map(values: torch.Tensor) -> FeatureMap:
    rows: list[list[float]] = values.tolist()
    return FeatureMap(tuple(tuple(row) for row in rows), *_range(values))


def _shrunk(maps: torch.Tensor, max_side: int) -> tuple[torch.Tensor, int]:
    """(C, H, W) averaged over step x step cells so that no side exceeds ``max_side``."""
    step = max(1, math.ceil(max(maps.shape[-2:]) / max_side))
    if step == 1:
        return maps, 1
    return F.avg_pool2d(maps.unsqueeze(0), step, ceil_mode=True).squeeze(0), step


def input_image(result: TraceResult, sample: int, max_side: int = MAX_SIDE) -> tuple[tuple[FeatureMap, ...], str]:
    """The sample's input image (one map per colour channel) and the layer whose recorded input it is.

    The trace keeps the inputs of layers with weights; the first one that received a tensor shaped like
    the model's (N, 1 or 3, H, W) input shows the image. Empty when there is none.
    """
    shape = result.inputs[0].shape if result.inputs else ()
    if len(shape) != 4 or shape[1] not in (1, 3):
        return (), ""
    for index in sorted(result.captured_inputs):
        tensors = result.captured_inputs[index]
        if tensors and tuple(tensors[0].shape) == shape:
            image, _ = _shrunk(tensors[0][sample].detach().double(), max_side)
            return tuple(_map(plane) for plane in image), result.layers[index].label
    return (), ""


def feature_maps(
    result: TraceResult, index: int, sample: int, activated: bool = False, max_side: int = MAX_SIDE
) -> FeatureMaps:
    """Layer ``index``'s output for ``sample`` (clamped to the batch), one 2-D map per channel.

    ``activated``: the output after the activation that follows the layer, when one was recorded.

    Raises:
        NnviewError: when the output is not (N, C, H, W), or its values were not kept.
    """
    record = result.layers[index]
    shape = record.outputs[0].shape if record.outputs else ()
    if len(shape) != 4:
        raise _unavailable(
            f"{record.label} outputs {shape_text(shape)}: not feature maps (N, C, H, W)",
            "select a Conv2d layer, or a layer after one (ReLU, pooling) with a 4-D output",
        )
    outputs = result.captured.get(index)
    if result.device == "meta" or not outputs:
        raise _unavailable(
            f"the output of {record.label} was not kept"
            + (" (traced on the meta device: shapes only)" if result.device == "meta" else " (past the memory budget)"),
            "trace without --meta" if result.device == "meta" else "raise --budget-mb or trace a smaller batch",
        )
    sample = max(0, min(sample, shape[0] - 1))
    after = activated and index in result.activated
    maps, step = _shrunk((result.activated[index] if after else outputs[0])[sample].detach().double(), max_side)
    image, source = input_image(result, sample, max_side)
    return FeatureMaps(
        layer=record.label,
        sample=sample,
        batch=shape[0],
        shape=(shape[1], shape[2], shape[3]),
        activated=after,
        activation=record.activation,
        channels=tuple(_map(plane) for plane in maps),
        low=_range(maps)[0],
        high=_range(maps)[1],
        step=step,
        image=image,
        image_source=source,
    )


@dataclass(frozen=True)
class ConvNeuronExplanation:
    """One output of a Conv2d on one sample: the kernel times the receptive field, plus the bias.

    Attributes:
        layer: the layer's qualified name.
        channel: the output channel (the kernel used).
        y: the output row.
        x: the output column.
        sample: which sample of the batch.
        out_shape: the per-sample output shape (C_out, H_out, W_out).
        in_shape: the per-sample input shape (C_in, H, W).
        in_channels: the input channels the kernel reads (all of them, or its group's).
        stride: the layer's (row, column) stride.
        dilation: the layer's (row, column) dilation: the patch takes every ``dilation``-th input cell.
        padding_mode: how the layer pads: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        origin: the input (row, column) of the patch's top-left cell; negative inside the padding.
        patch: the receptive field, (input channel, row, column), padding applied.
        inside: for each patch cell, whether it lies in the input (False: padding).
        kernel: the kernel's weights, shaped like the patch.
        products: kernel x patch, cell by cell.
        channel_sums: the sum of the products of each input channel.
        bias: b, or ``None`` for a layer without bias.
        z: the sum of all products plus the bias, computed here in float64.
        recorded_z: the value the layer produced at this position in the traced pass.
        activation: the activation applied next, if any.
        activated: the value after that activation, as the model computed it.
    """

    layer: str
    channel: int
    y: int
    x: int
    sample: int
    out_shape: tuple[int, int, int]
    in_shape: tuple[int, int, int]
    in_channels: tuple[int, ...]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding_mode: str
    origin: tuple[int, int]
    patch: Planes
    inside: tuple[tuple[tuple[bool, ...], ...], ...]
    kernel: Planes
    products: Planes
    channel_sums: tuple[float, ...]
    bias: float | None
    z: float
    recorded_z: float
    activation: str | None
    activated: float | None


def _planes(values: torch.Tensor) -> Planes:
    nested: list[list[list[float]]] = values.tolist()
    return tuple(tuple(tuple(row) for row in plane) for plane in nested)


def _padding(module: nn.Conv2d) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) zeros the layer adds around its input."""
    if isinstance(module.padding, str):
        if module.padding == "valid":
            return 0, 0, 0, 0
        total_h = module.dilation[0] * (module.kernel_size[0] - 1)
        total_w = module.dilation[1] * (module.kernel_size[1] - 1)
        return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
    return module.padding[0], module.padding[0], module.padding[1], module.padding[1]


def explain_conv_neuron(
    result: TraceResult, model: nn.Module, index: int, channel: int, y: int, x: int, sample: int
) -> ConvNeuronExplanation:
    """Redo output (``channel``, ``y``, ``x``) of Conv2d layer call ``index`` by hand, with the traced numbers.

    Raises:
        NnviewError: when the layer is not a Conv2d, its tensors were not kept (memory budget), or the
            position is outside the output.
    """
    record = result.layers[index]
    module = _module(model, record.name)
    if not isinstance(module, nn.Conv2d):
        raise _unavailable(
            f"{record.label} is a {record.type}; the conv neuron view explains Conv2d layers",
            "select a Conv2d layer (kernel × patch + b per output position)",
        )
    check_kept(result, index)
    inputs, outputs = result.captured_inputs[index][0], result.captured[index][0]
    if inputs.dim() != 4:
        raise _unavailable(
            f"{record.label} received {shape_text(tuple(inputs.shape))}, not a batch (N, C, H, W)",
            "the conv neuron view explains batched 2-D convolutions",
        )
    batch, c_out, h_out, w_out = outputs.shape
    if not (0 <= sample < batch and 0 <= channel < c_out and 0 <= y < h_out and 0 <= x < w_out):
        raise _unavailable(
            f"sample {sample}, channel {channel}, position ({y}, {x}) is outside {record.label}'s output "
            f"{shape_text(tuple(outputs.shape))}",
            "pick a position within the output",
        )
    (kh, kw), (sh, sw), (dh, dw) = module.kernel_size, module.stride, module.dilation
    top, bottom, left, right = _padding(module)
    image = inputs[sample].detach().double().unsqueeze(0)
    mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
    padded = F.pad(image, (left, right, top, bottom), mode=mode)[0]
    inside = F.pad(torch.ones_like(image[:, :1]), (left, right, top, bottom))[0, 0] > 0
    rows, cols = slice(y * sh, y * sh + dh * (kh - 1) + 1, dh), slice(x * sw, x * sw + dw * (kw - 1) + 1, dw)
    per_group = module.in_channels // module.groups
    first = channel // (module.out_channels // module.groups) * per_group
    patch = padded[first : first + per_group, rows, cols]
    weight: torch.Tensor = module.weight
    bias_param: torch.Tensor | None = module.bias
    kernel = weight.detach()[channel].to("cpu").double()
    products = kernel * patch
    bias = float(bias_param.detach()[channel]) if bias_param is not None else None
    activated = float(result.activated[index][sample, channel, y, x]) if index in result.activated else None
    mask = inside[rows, cols].tolist()
    return ConvNeuronExplanation(
        layer=record.name,
        channel=channel,
        y=y,
        x=x,
        sample=sample,
        out_shape=(c_out, h_out, w_out),
        in_shape=(inputs.shape[1], inputs.shape[2], inputs.shape[3]),
        in_channels=tuple(range(first, first + per_group)),
        stride=(sh, sw),
        dilation=(dh, dw),
        padding_mode=module.padding_mode,
        origin=(y * sh - top, x * sw - left),
        patch=_planes(patch),
        inside=tuple(tuple(tuple(row) for row in mask) for _ in range(per_group)),
        kernel=_planes(kernel),
        products=_planes(products),
        channel_sums=tuple(products.sum(dim=(1, 2)).tolist()),
        bias=bias,
        z=float(products.sum()) + (bias or 0.0),
        recorded_z=float(outputs[sample, channel, y, x]),
        activation=record.activation,
        activated=activated,
    )
