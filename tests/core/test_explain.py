"""The neuron view, the softmax panel and the fold view redo the model's arithmetic exactly."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import MODELS
from tui.core.explain.fold import fold_view, is_foldable
from tui.core.explain.views import class_probabilities, explain_neuron
from tui.core.load.inputs import resolve_inputs
from tui.core.load.model_file import load_model
from tui.core.records import NnviewError
from tui.core.trace.tracing import trace_model


def traced(name: str) -> tuple[torch.nn.Module, object]:
    loaded = load_model(str(MODELS / name))
    example = resolve_inputs(loaded, [], 4)
    return loaded.model, trace_model(loaded.model, example)


@pytest.mark.parametrize("layer", ["fc1", "fc2", "fc3"])
def test_every_neuron_of_simple_nn_recomputes_its_recorded_output(layer: str) -> None:
    model, result = traced("simple.py")
    record = result.layer(layer)
    for sample in range(4):
        for neuron in range(record.outputs[0].shape[1]):
            got = explain_neuron(result, model, record.index, neuron, sample)
            assert got.z == pytest.approx(got.recorded_z, abs=1e-5)
            assert got.z == pytest.approx(sum(got.products) + got.bias, abs=1e-12)
            assert len(got.inputs) == record.weight[1]
            if layer == "fc3":
                assert (got.activation, got.activated) == (None, None)
            else:
                assert got.activation == "relu"
                assert got.activated == pytest.approx(max(got.recorded_z, 0.0), abs=1e-7)


def test_neuron_inputs_are_what_the_layer_received_after_the_previous_relu() -> None:
    model, result = traced("simple.py")
    fc2 = explain_neuron(result, model, result.layer("fc2").index, 0, 1)
    fc1_out = result.captured[result.layer("fc1").index][0][1]
    assert fc2.inputs == pytest.approx(torch.relu(fc1_out).tolist())


def test_neuron_view_refuses_layers_that_are_not_linear() -> None:
    model, result = traced("digits_cnn.py")
    with pytest.raises(NnviewError) as caught:
        explain_neuron(result, model, result.layer("features.0").index, 0, 0)
    assert "Conv2d" in caught.value.record.message
    assert "Linear" in caught.value.record.hint


def test_softmax_of_the_seed_logits() -> None:
    got = class_probabilities(torch.tensor([2.0, -1.0, 0.5]))
    assert got.predicted == 0
    assert math.fsum(got.probabilities) == pytest.approx(1.0, abs=1e-12)
    # The seed prints [0.71, 0.04, 0.25] as an illustration; the exact softmax is:
    assert got.probabilities == pytest.approx((0.785597, 0.039112, 0.175291), abs=1e-6)
    assert -math.log(got.probabilities[0]) == pytest.approx(0.241311, abs=1e-6)


def test_fold_view_maps_the_seed_points_and_folds_the_grid() -> None:
    model, result = traced("fold.py")
    index = result.layer("linear").index
    assert is_foldable(result, model, index)
    view = fold_view(result, model, index, steps=5, extent=1.0)
    assert [s[0] for s in view.samples] == [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    assert [s[1] for s in view.samples] == [(1.0, -0.5), (0.5, 1.0), (1.5, 0.5)]
    assert [s[2] for s in view.samples] == [(1.0, 0.0), (0.5, 1.0), (1.5, 0.5)]
    assert len(view.grid) == 25
    corner = view.grid.index((-1.0, 1.0))
    assert view.linear[corner] == (-0.5, 1.5)  # W @ (-1, 1) = (-1 + 0.5, 0.5 + 1)
    assert view.activated[corner] == (0.0, 1.5)
    assert all(a >= 0 and b >= 0 for a, b in view.activated)


def test_fold_view_uses_the_activation_module_itself(tmp_path) -> None:
    source = (MODELS / "fold.py").read_text().replace('ACTIVATION = "relu"', 'ACTIVATION = "leaky_relu"')
    path = tmp_path / "leaky.py"
    path.write_text(source)
    loaded = load_model(str(path))
    result = trace_model(loaded.model, resolve_inputs(loaded, [], 4))
    view = fold_view(result, loaded.model, result.layer("linear").index, steps=3, extent=1.0)
    corner = view.grid.index((-1.0, -1.0))
    assert view.linear[corner] == (-1.5, -0.5)
    assert view.activated[corner] == pytest.approx((-0.015, -0.005))  # LeakyReLU's 0.01 slope
    assert view.activation == "leaky_relu"


def test_layers_other_than_2_to_2_are_not_foldable() -> None:
    model, result = traced("simple.py")
    assert not is_foldable(result, model, result.layer("fc1").index)
    with pytest.raises(NnviewError):
        fold_view(result, model, result.layer("fc1").index)
