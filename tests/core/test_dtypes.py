"""float64, float16 and bfloat16 models summarise and train; statistics handle every dtype (issue 7).

The corpus files in tests/corpus/dtypes/ are the seed's SimpleNN in each floating dtype (inputs
inferred, float32 data from ``dataset()``), a mixed float64/float32 model and a model returning
integer, boolean and complex outputs.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from tests.conftest import ROOT
from tests.trust import assert_user_error, run_all
from tui.core.dtypes import as_model_input, model_float_dtype
from tui.core.example_input import ExampleInput
from tui.core.load.datasets import load_training_data
from tui.core.load.model_file import load_model
from tui.core.session import summarize
from tui.core.trace.stats import describe_tensors, output_stats
from tui.core.trace.tracing import trace_model
from tui.core.train.loop import training_updates
from tui.core.train.run import TrainOptions, open_training
from tui.core.train.trainer import FLOAT16_ADAM_EPS, TrainConfig, Trainer

CORPUS = ROOT / "tests" / "corpus" / "dtypes"
FLOATS = {"float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16}

# 8 values every dtype holds exactly: sum 17, sum of squares 95.
VALUES = [[0.0, 1.0, 2.0, 3.0], [-1.0, 0.0, 4.0, 8.0]]
MEAN = 17 / 8  # 2.125
STD = math.sqrt(95 / 8 - MEAN**2)  # population variance 11.875 - 4.515625 = 7.359375


@pytest.mark.parametrize("dtype", [*FLOATS.values(), torch.float32])
def test_stats_of_every_floating_dtype_are_exact(dtype: torch.dtype) -> None:
    stats = output_stats(torch.tensor(VALUES, dtype=dtype))
    assert stats is not None
    assert (stats.mean, stats.min, stats.max, stats.zero_frac, stats.nonfinite_frac) == (MEAN, -1.0, 8.0, 0.25, 0.0)
    # float64 sums in float64; the others in float32 (about 7 digits).
    assert stats.std == pytest.approx(STD, rel=1e-12 if dtype == torch.float64 else 1e-6)


def test_float64_stats_keep_digits_float32_would_lose() -> None:
    # 1 + k*1e-12 for k = 0..7: in float32 all eight are 1.0 (std 0). Population std of 0..7 is sqrt(5.25).
    values = 1.0 + torch.arange(8, dtype=torch.float64) * 1e-12
    stats = output_stats(values)
    assert stats is not None
    assert stats.mean == pytest.approx(1.0 + 3.5e-12, abs=1e-15)
    assert stats.std == pytest.approx(math.sqrt(5.25) * 1e-12, rel=1e-3)
    assert stats.max == 1.0 + 7e-12  # min and max stay float64, not rounded through float32


@pytest.mark.parametrize("count", [10_000, 40_000])  # below and above STACK_BELOW (32,768): both reductions
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_sums_accumulate_in_float32(dtype: torch.dtype, count: int) -> None:
    # Summed in float16, 10,000 ones stop at 2,048 (the next float16 after 2048 is 2050): mean 0.2048.
    stats = describe_tensors([torch.ones(count, dtype=dtype), torch.ones(count, dtype=dtype) * 0.5])
    assert [(s.mean, s.std, s.zero_frac) for s in stats if s is not None] == [(1.0, 0.0, 0.0), (0.5, 0.0, 0.0)]


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")  # deprecated, still what users have
def test_integer_bool_quantized_complex_and_sparse_outputs() -> None:
    big = 2**40  # not exact in float32: integers are summed in float64
    ints = torch.tensor([big, big + 2], dtype=torch.int64)
    mask = torch.tensor([[True, False], [True, True]])
    quantized = torch.quantize_per_tensor(torch.tensor([0.0, 1.0, 2.0]), 0.5, 0, torch.quint8)
    complex_values = torch.tensor([1 + 1j, 2 - 1j])
    sparse = torch.eye(3).to_sparse()
    described = describe_tensors(
        [ints, mask, quantized, complex_values, sparse, torch.tensor([1, 0, 3], dtype=torch.int8)]
    )
    assert described[0] is not None and described[0].mean == big + 1 and described[0].std == 1.0
    assert described[1] is not None and (described[1].mean, described[1].zero_frac) == (0.75, 0.25)
    assert described[2] is not None and (described[2].mean, described[2].min, described[2].max) == (1.0, 0.0, 2.0)
    assert described[3] is None and described[4] is None  # no real values to describe: shown as "-"
    assert described[5] is not None and (described[5].mean, described[5].zero_frac) == (4 / 3, 1 / 3)


@pytest.mark.parametrize("budget", [0, 1 << 20])
def test_odd_outputs_model_traces_with_stats_of_the_first_output(budget: int) -> None:
    result = summarize(str(CORPUS / "odd_outputs.py"), budget_bytes=budget)
    root = result.layers[0]
    assert [spec.dtype for spec in root.outputs] == ["int64", "bool", "complex64", "int32"]
    # No floating output: the first one, argmax ids of 4 samples, is described as numbers.
    ids = summarize(str(CORPUS / "odd_outputs.py"), budget_bytes=1 << 20).captured[0][0]
    assert ids.dtype == torch.int64 and tuple(ids.shape) == (4,)
    assert root.stats is not None
    assert root.stats.mean == float(ids.double().mean()) and root.stats.zero_frac == float((ids == 0).double().mean())
    assert (root.stats.min, root.stats.max) == (float(ids.min()), float(ids.max()))
    # Activation memory counts every leaf output: fc's (4,3) float32 = 48 B (the root is not a leaf).
    assert result.totals.activation_bytes == 48


@pytest.mark.parametrize("name", sorted(FLOATS))
@pytest.mark.parametrize("budget", [0, 1 << 20])
def test_each_floating_model_summarises_with_exact_statistics(name: str, budget: int) -> None:
    dtype = FLOATS[name]
    result = summarize(str(CORPUS / f"mlp_{name}.py"), budget_bytes=budget)
    assert result.inputs[0].dtype == name  # inferred in the model's dtype, not float32
    assert [rec.outputs[0].dtype for rec in result.layers] == [name] * 4
    kept = summarize(str(CORPUS / f"mlp_{name}.py"), budget_bytes=1 << 20)  # same input: seeded
    for rec in result.layers:
        out = kept.captured[rec.index][0]
        assert out.dtype == dtype
        std, mean = torch.std_mean(out.double(), correction=0)
        assert rec.stats is not None
        assert rec.stats.mean == pytest.approx(float(mean), rel=1e-6, abs=1e-12)
        assert rec.stats.std == pytest.approx(float(std), rel=1e-6)
        assert rec.stats.zero_frac == float((out == 0).double().mean())
    # Activation memory: (4,10) + (4,6) + (4,3) values = 76, times the item size (8, 2, 2 bytes).
    assert result.totals.activation_bytes == 76 * dtype.itemsize


def test_mixed_model_is_fed_its_first_parameters_dtype() -> None:
    result = summarize(str(CORPUS / "mixed_float64_head.py"), budget_bytes=0)
    assert [spec.dtype for spec in result.inputs] == ["float64"]
    assert result.layer("fc1").outputs[0].dtype == "float64"
    assert result.layer("fc2").outputs[0].dtype == "float32"
    assert result.layer("fc1").activated_stats is not None  # F.relu(fc1(x)) in float64


def test_as_model_input_casts_floats_only() -> None:
    model = nn.Linear(2, 2).double()
    assert model_float_dtype(model) is torch.float64
    assert model_float_dtype(nn.Embedding(3, 2).half()) is torch.float16
    assert model_float_dtype(nn.ReLU()) is None  # no parameters: inputs stay as they are
    assert as_model_input(torch.zeros(2), torch.float64).dtype is torch.float64
    assert as_model_input(torch.zeros(2, dtype=torch.long), torch.float64).dtype is torch.long  # ids stay
    assert as_model_input(torch.zeros(2, dtype=torch.bool), torch.float16).dtype is torch.bool
    assert as_model_input(torch.zeros(2), None).dtype is torch.float32


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "bce"])
@pytest.mark.parametrize("name", sorted(FLOATS))
def test_each_floating_model_trains_one_epoch_with_every_loss(name: str, loss: str) -> None:
    loaded = load_model(str(CORPUS / f"mlp_{name}.py"))
    data = load_training_data(None, None, loaded.namespace)
    assert data.x_train.dtype == torch.float32  # the data stays float32: nnview casts each batch
    if loss != "cross_entropy":  # float targets (one-hot of the class, shape (N, 3)) for mse and bce
        one_hot = nn.functional.one_hot
        data = replace(data, y_train=one_hot(data.y_train, 3).float(), y_val=one_hot(data.y_val, 3).float())
        data = replace(data, classes=None)
    trainer = Trainer(loaded.model, data, TrainConfig(epochs=1, batch_size=16, loss=loss))
    epochs = [u.epoch_record for u in training_updates(trainer) if u.epoch_record is not None]
    assert trainer.step_count == 4  # 64 training samples in batches of 16
    assert len(epochs) == 1 and math.isfinite(epochs[0].train_loss) and math.isfinite(epochs[0].val_loss)
    assert all(p.dtype == FLOATS[name] for p in trainer.model.parameters())  # the model keeps its dtype


def test_float16_adam_gets_an_eps_float16_can_hold() -> None:
    # Adam's default eps 1e-8 rounds to 0 in float16: a dead unit's 0/0 made the loss NaN at step 2.
    session = open_training(TrainOptions(str(CORPUS / "mlp_float16.py"), config=TrainConfig(epochs=1)))
    assert session.trainer.optimizer.param_groups[0]["eps"] == FLOAT16_ADAM_EPS
    losses = [s.loss for u in training_updates(session.trainer) for s in u.steps]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    float64 = open_training(TrainOptions(str(CORPUS / "mlp_float64.py"), config=TrainConfig(epochs=1)))
    assert float64.trainer.optimizer.param_groups[0]["eps"] == 1e-8  # unchanged where it is representable


def test_trace_of_a_float64_model_with_float64_input_has_stats() -> None:
    # The bug of issue 7: vector_norm(float64, dtype=float32) raised and was blamed on the model.
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU()).double()
    result = trace_model(model, ExampleInput((torch.ones(4, 5, dtype=torch.float64),)), budget_bytes=0)
    assert all(rec.stats is not None for rec in result.layers)


def test_cli_summarises_and_trains_every_dtype() -> None:
    # Eight subprocesses (about 2 s of CPU each); the API tests above cover the rest of the grid.
    cases = {f"json-{name}": ["summary", str(CORPUS / f"mlp_{name}.py"), "--json"] for name in FLOATS}
    cases["summary-float64"] = ["summary", str(CORPUS / "mlp_float64.py")]
    cases["train-float64"] = ["train", str(CORPUS / "mlp_float64.py"), "--epochs", "1"]
    cases["train-float16"] = ["train", str(CORPUS / "mlp_float16.py"), "--epochs", "1"]
    cases["summary-odd"] = ["summary", str(CORPUS / "odd_outputs.py"), "--json"]
    # A user mistake stays one: --input 4x5 is float32, and the fix names the dtype to ask for.
    wrong = ["summary", str(CORPUS / "mlp_float64.py"), "--input", "4x5"]
    results = run_all({**cases, "wrong-input": wrong})
    assert_user_error(
        results.pop("wrong-input"),
        "fc1 (Linear) has float64 weights but got float32 input",
        "feed float64 values: x.to(torch.float64) in the file, or --input 4x5:float64",
    )
    for case, proc in results.items():
        both = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{case}: exit {proc.returncode}\n{both[-2000:]}"
        assert "Traceback" not in both and "error" not in both.lower(), f"{case}\n{both[-2000:]}"
    assert "Input: (4, 5) float64" in results["summary-float64"].stdout
    for name in FLOATS:
        report = json.loads(results[f"json-{name}"].stdout)
        assert report["inputs"] == [{"shape": [4, 5], "dtype": name}]
        fc1 = next(layer for layer in report["layers"] if layer["name"] == "fc1")
        assert fc1["stats"] is not None and fc1["activated_stats"]["min"] == 0.0  # after ReLU
    for name in ("float64", "float16"):
        assert "Epoch [1/1]" in results[f"train-{name}"].stdout
    odd = json.loads(results["summary-odd"].stdout)
    assert [layer["name"] for layer in odd["layers"]] == ["", "fc"]
