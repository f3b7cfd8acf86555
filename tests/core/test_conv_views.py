"""The feature-map view and the conv neuron view: a Conv2d output redone by hand equals the traced one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tui.core.example_input import ExampleInput
from tui.core.explain.conv import explain_conv_neuron, feature_maps
from tui.core.load.inputs import resolve_inputs
from tui.core.load.model_file import load_model
from tui.core.records import NnviewError, TraceResult
from tui.core.trace.tracing import trace_model

# 1 input channel, 4x4: the values 0..15 row by row.
RAMP = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
KERNEL = [[1.0, 2.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 3.0]]  # not symmetric: a transposed patch would show


def tiny() -> tuple[nn.Module, TraceResult]:
    """Conv2d(1, 1, 3, padding=1) with KERNEL and bias -20, then ReLU, traced on RAMP."""
    conv = nn.Conv2d(1, 1, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[KERNEL]]))
        conv.bias.fill_(-20.0)
    model = nn.Sequential(conv, nn.ReLU())
    return model, trace_model(model, ExampleInput((RAMP,)))


def digits(budget_bytes: int = 256 * 2**20) -> tuple[nn.Module, TraceResult]:
    loaded = load_model(str(MODELS / "digits_cnn.py"))
    return loaded.model, trace_model(loaded.model, resolve_inputs(loaded, [], 4), budget_bytes=budget_bytes)


def test_the_centre_of_the_tiny_conv_is_kernel_times_patch_plus_bias() -> None:
    model, result = tiny()
    got = explain_conv_neuron(result, model, result.layer("0").index, 0, 1, 1, 0)
    assert got.patch == (((0.0, 1.0, 2.0), (4.0, 5.0, 6.0), (8.0, 9.0, 10.0)),)
    assert got.kernel == (tuple(tuple(row) for row in KERNEL),)
    assert got.products == (((0.0, 2.0, 0.0), (0.0, -5.0, 0.0), (0.0, 0.0, 30.0)),)
    assert got.channel_sums == (27.0,)
    assert (got.bias, got.z, got.recorded_z) == (-20.0, 7.0, 7.0)
    assert (got.activation, got.activated) == ("relu", 7.0)
    assert got.origin == (0, 0) and got.in_channels == (0,)
    assert got.inside == (((True,) * 3,) * 3,)
    assert (got.out_shape, got.in_shape, got.stride, got.dilation) == ((1, 4, 4), (1, 4, 4), (1, 1), (1, 1))


def test_a_corner_reads_the_padding_as_zeros() -> None:
    model, result = tiny()
    index = result.layer("0").index
    top_left = explain_conv_neuron(result, model, index, 0, 0, 0, 0)
    assert top_left.origin == (-1, -1)
    assert top_left.patch == (((0.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 4.0, 5.0)),)
    assert top_left.inside == (((False, False, False), (False, True, True), (False, True, True)),)
    assert (top_left.z, top_left.recorded_z, top_left.activated) == (-5.0, -5.0, 0.0)  # 5 x 3 - 20; ReLU: 0
    bottom_right = explain_conv_neuron(result, model, index, 0, 3, 3, 0)
    assert bottom_right.patch == (((10.0, 11.0, 0.0), (14.0, 15.0, 0.0), (0.0, 0.0, 0.0)),)
    assert bottom_right.z == bottom_right.recorded_z == -3.0  # 10 + 22 - 15 - 20


def test_feature_maps_of_the_tiny_conv_before_and_after_relu() -> None:
    _model, result = tiny()
    index = result.layer("0").index
    raw = feature_maps(result, index, 0)
    # By hand: in[y-1][x-1] + 2 in[y-1][x] - in[y][x] + 3 in[y+1][x+1] - 20, with in[r][c] = 4r + c (0 outside).
    by_hand = ((-5, -3, -1, -23), (3, 7, 12, -19), (19, 27, 32, -11), (-16, -7, -5, -3))
    assert raw.channels[0].values == by_hand
    assert (raw.shape, raw.batch, raw.step, raw.activated, raw.activation) == ((1, 4, 4), 1, 1, False, "relu")
    assert (raw.low, raw.high) == (raw.channels[0].low, raw.channels[0].high) == (-23.0, 32.0)
    after = feature_maps(result, index, 0, activated=True)
    assert after.activated and (after.low, after.high) == (0.0, 32.0)
    assert after.channels[0].values[0][0] == 0.0 and after.channels[0].values[1][1] == 7.0
    assert after.image_source == "0"
    assert after.image[0].values == tuple(tuple(row) for row in RAMP[0, 0].tolist())
    assert (after.image[0].low, after.image[0].high) == (0.0, 15.0)


def test_large_maps_are_averaged_down() -> None:
    _model, result = tiny()
    shrunk = feature_maps(result, result.layer("0").index, 0, max_side=2)
    assert shrunk.step == 2
    assert shrunk.image[0].values == ((2.5, 4.5), (10.5, 12.5))  # means of the 2x2 blocks of 0..15


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # the asymmetric case
@pytest.mark.parametrize(
    "conv",
    [
        dict(stride=2, padding=1),
        dict(dilation=2, padding=2),
        dict(padding="same", kernel_size=(2, 4)),
        dict(padding=1, padding_mode="reflect"),
        dict(padding=1, padding_mode="circular", bias=False),
        dict(groups=2, padding=1),
    ],
    ids=["stride", "dilation", "same", "reflect", "circular-no-bias", "groups"],
)
def test_every_position_matches_torch_for_stride_dilation_padding_and_groups(conv: dict[str, object]) -> None:
    torch.manual_seed(0)
    layer = nn.Conv2d(4, 6, **{"kernel_size": 3, **conv})  # type: ignore[arg-type]
    model = nn.Sequential(layer)
    result = trace_model(model, ExampleInput((torch.randn(2, 4, 7, 6),)))
    index = result.layer("0").index
    batch, channels, height, width = result.captured[index][0].shape
    worst = 0.0
    for sample in range(batch):
        for channel in range(channels):
            for y in range(height):
                for x in range(width):
                    got = explain_conv_neuron(result, model, index, channel, y, x, sample)
                    worst = max(worst, abs(got.z - got.recorded_z))
                    assert got.z == pytest.approx(sum(got.channel_sums) + (got.bias or 0.0), abs=1e-12)
    assert worst < 1e-5
    groups = layer.groups
    got = explain_conv_neuron(result, model, index, channels - 1, 0, 0, 0)
    assert got.in_channels == tuple(range(4 - 4 // groups, 4))  # the last group reads the last inputs


def test_every_position_of_both_digits_convs_equals_the_recorded_output() -> None:
    model, result = digits()
    for name, shape in (("features.0", (8, 8, 8)), ("features.3", (16, 4, 4))):
        index = result.layer(name).index
        for sample in range(4):
            for channel in range(shape[0]):
                for y in range(shape[1]):
                    for x in range(shape[2]):
                        got = explain_conv_neuron(result, model, index, channel, y, x, sample)
                        assert got.z == pytest.approx(got.recorded_z, abs=1e-5)
                        assert got.activated == pytest.approx(max(got.recorded_z, 0.0), abs=1e-7)
        assert len(got.patch) == (1 if name == "features.0" else 8)
    maps = feature_maps(result, result.layer("features.2").index, 3)  # MaxPool: feature maps too
    assert (maps.shape, maps.sample, len(maps.channels), maps.activation) == ((8, 4, 4), 3, 8, None)
    assert maps.image_source == "features.0" and len(maps.image) == 1


def test_conv_neuron_view_refuses_what_it_cannot_explain() -> None:
    model, result = digits()
    with pytest.raises(NnviewError) as linear:
        explain_conv_neuron(result, model, result.layer("classifier").index, 0, 0, 0, 0)
    assert "classifier is a Linear" in linear.value.record.message
    assert "Conv2d" in linear.value.record.hint
    with pytest.raises(NnviewError) as outside:
        explain_conv_neuron(result, model, result.layer("features.3").index, 0, 4, 0, 0)
    assert "outside features.3's output (4, 16, 4, 4)" in outside.value.record.message
    one_d = nn.Sequential(nn.Conv1d(2, 3, 3))
    traced_1d = trace_model(one_d, ExampleInput((torch.randn(1, 2, 5),)))
    with pytest.raises(NnviewError) as conv1d:
        explain_conv_neuron(traced_1d, one_d, 1, 0, 0, 0, 0)
    assert "is a Conv1d" in conv1d.value.record.message


def test_both_views_refuse_tensors_past_the_memory_budget() -> None:
    model, result = digits(budget_bytes=0)
    index = result.layer("features.0").index
    with pytest.raises(NnviewError) as neuron:
        explain_conv_neuron(result, model, index, 0, 0, 0, 0)
    with pytest.raises(NnviewError) as maps:
        feature_maps(result, index, 0)
    assert "were not kept" in neuron.value.record.message and "was not kept" in maps.value.record.message
    assert "--budget-mb" in neuron.value.record.hint and "--budget-mb" in maps.value.record.hint


def test_feature_maps_refuse_outputs_that_are_not_n_c_h_w() -> None:
    _model, result = digits()
    with pytest.raises(NnviewError) as flat:
        feature_maps(result, result.layer("flatten").index, 0)
    assert flat.value.record.message == "flatten outputs (4, 256): not feature maps (N, C, H, W)"
    assert "Conv2d" in flat.value.record.hint


def test_a_colour_image_comes_as_three_planes() -> None:
    model = nn.Sequential(nn.Conv2d(3, 2, 3))
    image = torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(1))
    maps = feature_maps(trace_model(model, ExampleInput((image,))), 1, 0)
    assert len(maps.image) == 3
    assert [plane.values for plane in maps.image] == [tuple(tuple(r) for r in p.double().tolist()) for p in image[0]]
    assert maps.shape == (2, 3, 3)
