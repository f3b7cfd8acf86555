"""The seeds' own numbers, reproduced exactly by nnview."""

from __future__ import annotations

import torch

from tests.conftest import MODELS
from tui.core.session import summarize


def test_simple_nn_matches_the_seed_table() -> None:
    result = summarize(str(MODELS / "simple.py"))
    rows = {rec.name: rec for rec in result.layers}
    assert [rec.name for rec in result.layers] == ["", "fc1", "fc2", "fc3"]
    expected = {
        "fc1": ([(4, 5)], (10, 5), [(4, 10)], "relu", 60, 200),
        "fc2": ([(4, 10)], (6, 10), [(4, 6)], "relu", 66, 240),
        "fc3": ([(4, 6)], (3, 6), [(4, 3)], None, 21, 72),
    }
    for name, (inputs, weight, outputs, activation, params, macs) in expected.items():
        rec = rows[name]
        assert [s.shape for s in rec.inputs] == inputs
        assert rec.weight == weight
        assert [s.shape for s in rec.outputs] == outputs
        assert rec.activation == activation
        assert rec.params == params
        assert rec.macs == macs
    assert result.totals.params == 147
    assert result.totals.macs == 512
    assert result.input_inferred
    assert [s.shape for s in result.inputs] == [(4, 5)]


def test_simple_nn_json_uses_the_documented_schema() -> None:
    data = summarize(str(MODELS / "simple.py")).to_json()
    fc2 = next(layer for layer in data["layers"] if layer["name"] == "fc2")
    assert fc2["inputs"] == [[4, 10]]
    assert fc2["weight"] == [6, 10]
    assert fc2["bias"] == [6]
    assert fc2["outputs"] == [[4, 6]]
    assert fc2["activation"] == "relu"
    assert fc2["parent"] == ""
    assert fc2["depth"] == 1
    assert set(fc2["stats"]) == {"mean", "std", "min", "max", "zero_frac", "nonfinite_frac"}
    assert data["totals"] == {
        "params": 147,
        "trainable": 147,
        "non_trainable": 0,
        "macs": 512,
        "param_bytes": 588,
        "activation_bytes": 4 * (4 * 10 + 4 * 6 + 4 * 3),
    }


def test_batch_flag_changes_the_inferred_batch() -> None:
    result = summarize(str(MODELS / "simple.py"), batch=7)
    assert [s.shape for s in result.layer("fc3").outputs] == [(7, 3)]


def test_fold_layer_reproduces_the_seed_numbers() -> None:
    result = summarize(str(MODELS / "fold.py"))
    linear = result.layer("linear")
    folded = result.layer("activation")
    z = result.captured[linear.index][0]
    y = result.captured[folded.index][0]
    assert torch.equal(z, torch.tensor([[1.0, -0.5], [0.5, 1.0], [1.5, 0.5]]))
    assert torch.equal(y, torch.tensor([[1.0, 0.0], [0.5, 1.0], [1.5, 0.5]]))
    assert linear.activation == "relu"
    assert linear.weight == (2, 2)


def test_fashion_mlp_counts_the_seed_parameters() -> None:
    result = summarize(str(MODELS / "fashion_mlp.py"))
    # 784*512+512 + 512*512+512 + 512*10+10
    assert result.totals.params == 669_706
    assert [s.shape for s in result.layer("flatten").outputs] == [(4, 784)]
    assert [rec.activation for rec in result.layers if rec.type == "Linear"] == ["relu", "relu", None]


def test_tiny_gpt_counts_the_tied_head_once() -> None:
    result = summarize(str(MODELS / "tiny_gpt.py"))
    head = result.layer("head")
    assert head.params == 64 * 32  # the head owns the tied tensor...
    assert result.totals.params == 28_032  # ...but the model counts it once
    assert result.layer("blocks.0.fc").activation == "gelu"


def test_digits_cnn_shapes() -> None:
    result = summarize(str(MODELS / "digits_cnn.py"))
    assert [s.shape for s in result.layer("features").outputs] == [(4, 16, 4, 4)]
    assert result.layer("features.0").activation == "relu"
    assert result.totals.params == 80 + 1168 + 2570


def test_xor_net_sees_module_activations() -> None:
    result = summarize(str(MODELS / "xor.py"))
    assert result.layer("hidden").activation == "relu"
    assert result.layer("output").activation == "sigmoid"
    assert result.totals.params == 2 * 8 + 8 + 8 + 1
