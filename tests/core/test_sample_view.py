"""The detail panel's data: one sample's neurons, channels, histogram and class probabilities."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import MODELS
from tui.core.explain.sample_view import HISTOGRAM_BINS, _histogram, final_layer, sample_view
from tui.core.session import summarize


def test_simple_nn_sample_shows_each_neuron_and_its_relu() -> None:
    result = summarize(str(MODELS / "simple.py"))
    fc1 = result.layer("fc1")
    view = sample_view(result, fc1.index, 2)
    out = result.captured[fc1.index][0][2]
    assert view.values == pytest.approx(out.tolist())
    assert view.activated == pytest.approx(torch.relu(out).tolist())
    assert (view.shape, view.batch, view.classes) == ((10,), 4, None)
    assert view.histogram == ()  # 10 values: the bars show each one, a histogram would say nothing more


def test_a_histogram_only_where_there_are_enough_values() -> None:
    result = summarize(str(MODELS / "tiny_gpt.py"))
    head = result.layer("head")  # 64 logits at each of 16 positions: the histogram counts all of them
    view = sample_view(result, head.index, 0)
    assert sum(count for _, count in view.histogram) == 16 * 64 and len(view.histogram) == HISTOGRAM_BINS


def test_final_layer_shows_softmax_probabilities_summing_to_one() -> None:
    result = summarize(str(MODELS / "simple.py"))
    fc3 = result.layer("fc3")
    assert final_layer(result) == fc3.index
    for sample in range(4):
        view = sample_view(result, fc3.index, sample)
        assert view.classes is not None
        assert math.fsum(view.classes.probabilities) == pytest.approx(1.0, abs=1e-12)
        logits = result.captured[fc3.index][0][sample]
        assert view.classes.predicted == int(logits.argmax())
        assert view.classes.probabilities == pytest.approx(torch.softmax(logits.double(), 0).tolist())


def test_conv_layers_show_channel_summaries() -> None:
    result = summarize(str(MODELS / "digits_cnn.py"))
    conv = result.layer("features.3")
    view = sample_view(result, conv.index, 1)
    maps = result.captured[conv.index][0][1]
    assert len(view.channels) == 16
    assert view.channels[5].mean == pytest.approx(float(maps[5].mean()))
    assert view.channels[5].max == pytest.approx(float(maps[5].max()))
    assert view.note == "channel means"


def test_sample_index_is_clamped_to_the_batch_and_meta_has_no_values() -> None:
    result = summarize(str(MODELS / "simple.py"))
    assert sample_view(result, 1, 99).sample == 3
    meta = summarize(str(MODELS / "simple.py"), meta=True)
    assert "meta" in sample_view(meta, 1, 0).missing


def test_sequence_outputs_show_the_first_position() -> None:
    result = summarize(str(MODELS / "tiny_gpt.py"))
    head = result.layer("head")
    view = sample_view(result, head.index, 0)
    assert view.shape == (16, 64)
    assert view.note == "position 0 of 16"
    assert view.values == pytest.approx(result.captured[head.index][0][0, 0].tolist())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_the_histogram_counts_every_finite_value_in_any_floating_dtype(dtype: torch.dtype) -> None:
    values = torch.linspace(-1, 1, 60).to(dtype)
    values[0] = float("nan")
    bins = _histogram(values)
    assert len(bins) == HISTOGRAM_BINS and sum(count for _, count in bins) == 59
