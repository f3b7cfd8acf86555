"""Issue 7, section 5: the classes of failure torchinfo's own test suite found, rebuilt as model files.

Every number is derived by hand in a comment. The files live in tests/corpus/peer/.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from tests.conftest import ROOT
from tui.core.load.input_checks import move_inputs
from tui.core.records import NnviewError, TraceResult
from tui.core.session import ModelSession, SessionOptions, summarize
from tui.report import layer_rows
from tui.widgets.layer_table import row_cells

PEER = ROOT / "tests" / "corpus" / "peer"


def peer(name: str) -> str:
    return str(PEER / f"{name}.py")


def error_of(name: str, **options: object) -> tuple[NnviewError, ModelSession]:
    session = ModelSession(SessionOptions(peer(name), **options))  # type: ignore[arg-type]
    with pytest.raises(NnviewError) as caught:
        session.open()
    return caught.value, session


def shapes(result: TraceResult, name: str) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    rec = result.layer(name)
    return [s.shape for s in rec.inputs], [s.shape for s in rec.outputs]


# --- lazy parameters forward never initialises: counted 0 and named --------------------------


def test_unused_lazy_linear_counts_zero_and_is_named() -> None:
    result = summarize(peer("lazy_unused_linear"))
    assert result.totals.params == 20 * 8 + 8  # fc only: 168; head has no size yet
    assert result.totals.param_bytes == 168 * 4
    assert result.totals.macs == 4 * 20 * 8  # 640
    assert result.uninitialized_params == ("head.weight", "head.bias")
    assert result.to_json()["uninitialized_params"] == ["head.weight", "head.bias"]
    assert result.layer("").params_total == 168


@pytest.mark.parametrize("meta", [False, True])
def test_unused_lazy_conv_and_batchnorm_count_zero_on_cpu_and_meta(meta: bool) -> None:
    result = summarize(peer("lazy_unused_conv_bn"), meta=meta)
    assert result.totals.params == 3 * 4 * 3 * 3 + 4  # conv only: 112
    assert result.totals.macs == 2 * 4 * 6 * 6 * (3 * 3 * 3)  # (2,4,6,6) outputs x 27 MACs = 7,776
    assert result.uninitialized_params == ("lazy_conv.weight", "lazy_conv.bias", "lazy_bn.weight", "lazy_bn.bias")


def test_a_lazy_layer_forward_used_counts_and_the_unused_ones_are_named() -> None:
    result = summarize(peer("lazy_partly_used"))
    # body.0 became Linear(6, 5) on the (4, 6) batch: 6*5 + 5 = 35; spare and scale never ran.
    assert result.totals.params == 35
    assert result.layer("body.0").weight == (5, 6)
    assert result.totals.macs == 4 * 6 * 5  # 120
    assert result.uninitialized_params == ("scale", "spare.weight", "spare.bias")


# --- a lazy first layer: refuse to guess, and leave the model as it was ----------------------


@pytest.mark.parametrize(
    ("name", "label", "example"),
    [
        ("lazy_first_linear", "fc (LazyLinear)", "4x20"),
        ("lazy_first_conv2d", "1 (LazyConv2d)", "4x3x32x32"),
        ("lazy_first_batchnorm1d", "0 (LazyBatchNorm1d)", "4x20"),
        ("lazy_root", "LazyLinear", "4x20"),
    ],
)
def test_a_lazy_first_layer_is_refused_without_touching_the_model(name: str, label: str, example: str) -> None:
    error, session = error_of(name)
    assert error.record.kind == "input"
    assert error.record.message == (
        f"cannot infer the input: the first layer, {label}, learns its input size from the first batch"
    )
    assert error.record.hint == f"pass --input, e.g. --input {example}, or set example_input in the file"
    assert session.loaded is not None
    model = session.loaded.model
    lazy = [m for m in model.modules() if isinstance(m, nn.modules.lazy.LazyModuleMixin)]
    assert lazy and all(m.has_uninitialized_params() for m in lazy)  # nothing was materialised


def test_a_lazy_first_layer_with_batch_8_suggests_batch_8() -> None:
    error, _ = error_of("lazy_first_conv2d", batch=8)
    assert "--input 8x3x32x32" in error.record.hint


def test_a_lazy_first_layer_traces_once_given_an_input() -> None:
    result = summarize(peer("lazy_first_linear"), inputs=["4x20"])
    # fc became Linear(20, 8): 168; out Linear(8, 2): 18.
    assert result.totals.params == 168 + 18
    assert result.totals.macs == 4 * 20 * 8 + 4 * 8 * 2  # 640 + 64
    assert result.uninitialized_params == ()


# --- PackedSequence inputs and lengths: batch_sizes and lengths stay on the CPU --------------


@pytest.mark.parametrize("meta", [False, True])
def test_lstm_fed_a_packed_sequence_has_exact_shapes(meta: bool) -> None:
    result = summarize(peer("packed_example"), meta=meta)
    assert result.device == ("meta" if meta else "cpu")
    assert [s.shape for s in result.inputs] == [(13, 5)]  # 6 + 4 + 3 packed steps
    # The LSTM sees the packed data; it returns packed (13, 7) and h, c of (layers, batch, hidden).
    assert shapes(result, "lstm") == ([(13, 5)], [(13, 7), (1, 3, 7), (1, 3, 7)])
    assert result.layer("").outputs[0].shape == (1, 3, 7)
    assert result.totals.params == 4 * 7 * (5 + 7) + 2 * 4 * 7  # 392
    assert result.totals.macs == 13 * 4 * 7 * (5 + 7)  # 13 rows x 336 = 4,368


def test_unsorted_packed_sequence_into_a_batch_first_gru() -> None:
    result = summarize(peer("packed_unsorted"))
    assert shapes(result, "gru") == ([(15, 5)], [(15, 6), (1, 4, 6)])  # 3 + 6 + 4 + 2 = 15 steps
    assert shapes(result, "head") == ([(4, 6)], [(4, 2)])
    assert result.totals.params == (3 * 6 * (5 + 6) + 2 * 3 * 6) + (6 * 2 + 2)  # 234 + 14 = 248


@pytest.mark.parametrize("meta", [False, True])
def test_torchinfo_pack_padded_lstm_with_a_lengths_argument(meta: bool) -> None:
    result = summarize(peer("pack_padded_lstm"), meta=meta)
    assert [s.shape for s in result.inputs] == [(10, 4), (4,)]
    assert shapes(result, "embedding") == ([(10, 4)], [(10, 4, 128)])
    # lengths 10 + 8 + 5 + 3 = 26 packed steps reach the LSTM.
    assert shapes(result, "lstm")[1] == [(26, 32), (1, 4, 32), (1, 4, 32)]
    assert shapes(result, "hidden2out") == ([(4, 32)], [(4, 18)])
    # embedding 60*128 = 7,680; LSTM 4*32*(128+32) + 2*4*32 = 20,736; Linear 32*18 + 18 = 594.
    assert result.totals.params == 7680 + 20736 + 594
    assert result.totals.macs == 26 * 4 * 32 * (128 + 32) + 4 * 32 * 18  # 532,480 + 2,304


def test_lengths_given_as_a_keyword_stay_on_the_cpu() -> None:
    result = summarize(peer("pack_padded_kwargs"))
    assert shapes(result, "lstm")[1][0] == (26, 32)


@pytest.mark.parametrize("meta", [False, True])
def test_lengths_made_from_input_specs_are_full_length(meta: bool) -> None:
    result = summarize(peer("pack_padded_no_example"), inputs=["10x4:long", "4:long"], meta=meta)
    assert shapes(result, "lstm")[1][0] == (40, 32)  # four sequences of the full 10 steps


def test_lengths_made_at_top_level_under_meta_are_refused_with_the_fix() -> None:
    error, _ = error_of("pack_padded_kwargs", meta=True)
    assert error.record.kind == "input"
    assert "'lengths' input is on the meta device" in error.record.message
    assert "def example_input():" in error.record.hint


def test_moving_to_meta_keeps_batch_sizes_and_lengths_on_the_cpu() -> None:
    packed = pack_padded_sequence(torch.randn(6, 3, 5), torch.tensor([3, 6, 4]), enforce_sorted=False)
    lengths = torch.tensor([6, 4, 3])
    model = nn.Module()
    model.forward = lambda x, lengths: x  # type: ignore[method-assign]
    args, kwargs = move_inputs(model, (packed, lengths), {"text_lengths": lengths}, torch.device("meta"))
    moved = args[0]
    assert isinstance(moved, PackedSequence)
    assert moved.data.device.type == "meta" and moved.data.shape == (13, 5)
    assert moved.batch_sizes.device.type == "cpu" and moved.batch_sizes.tolist() == [3, 3, 3, 2, 1, 1]
    assert moved.sorted_indices is not None and moved.sorted_indices.device.type == "meta"
    assert args[1].device.type == "cpu" and kwargs["text_lengths"].device.type == "cpu"


def test_a_new_batch_keeps_the_lengths() -> None:
    session = ModelSession(SessionOptions(peer("pack_padded_lstm")))
    session.open()
    result = session.new_batch()
    assert session.example is not None
    assert session.example.args[1].tolist() == [10, 8, 5, 3]
    assert shapes(result, "lstm")[1][0] == (26, 32)


# --- TorchScript: the submodules are listed under the scripted row ---------------------------


def test_a_scripted_model_lists_its_submodules_with_weights() -> None:
    result = summarize(peer("scripted"))
    assert result.model_name == "Net"
    rows = [(r.name, r.type, r.depth, r.weight, r.params_total, r.scripted) for r in result.layers]
    assert rows == [
        ("", "Net", 0, None, 499, False),
        ("fc1", "Linear", 1, (16, 20), 20 * 16 + 16, True),  # 336
        ("block", "Sequential", 1, None, 16 * 8 + 8, True),  # 136
        ("block.0", "Linear", 2, (8, 16), 136, True),
        ("block.1", "ReLU", 2, None, 0, True),
        ("fc2", "Linear", 1, (3, 8), 8 * 3 + 3, True),  # 27
    ]
    assert [r.parent_index for r in result.layers] == [-1, 0, 0, 2, 2, 0]
    assert result.totals.macs == 4 * (20 * 16 + 16 * 8 + 8 * 3)  # the dispatch mode sees compiled ops: 1,888
    assert result.layer("fc1").inputs == () and result.layer("fc1").macs == 0
    assert len(result.notes) == 1 and result.notes[0].startswith("TorchScript: Net runs compiled code")
    assert result.to_json()["layers"][1]["scripted"] is True


def test_a_scripted_submodule_is_listed_in_place_and_later_rows_renumbered() -> None:
    result = summarize(peer("partly_scripted"))
    names = [r.name for r in result.layers]
    assert names == ["", "inp", "encoder", "encoder.proj", "encoder.norm", "out"]
    assert [r.index for r in result.layers] == [0, 1, 2, 3, 4, 5]
    assert result.layer("out").parent_index == 0 and result.layer("encoder.norm").parent_index == 2
    assert shapes(result, "encoder") == ([(4, 6)], [(4, 10)])
    assert shapes(result, "out") == ([(4, 10)], [(4, 2)])
    assert result.totals.macs == 4 * 4 * 6 + 4 * 6 * 10 + 4 * 10 * 2  # 96 + 240 + 80 = 416
    assert result.layer("encoder").params_total == 6 * 10 + 10 + 2 * 10  # 90


def test_captured_outputs_follow_the_renumbered_rows() -> None:
    session = ModelSession(SessionOptions(peer("partly_scripted")))
    result = session.open()
    out = result.layer("out")
    assert result.captured[out.index][0].shape == (4, 2)
    assert 3 not in result.captured and 4 not in result.captured  # listed rows never ran


# --- error hints that pointed the wrong way --------------------------------------------------


def test_an_inferred_input_that_does_not_fit_blames_the_guess() -> None:
    error, _ = error_of("inferred_wrong")
    record = error.record
    assert record.kind == "input"
    assert record.message.startswith("the guessed input (4, 12) does not fit the model: fc1 = nn.Linear(12, 8)")
    assert "guessed from fc1 (Linear, in_features=12), not given" in record.hint
    assert "--input" in record.hint and "example_input" in record.hint
    assert "change in_features" not in record.hint


def test_an_inferred_conv_input_past_its_first_layers_mentions_the_guess() -> None:
    error, _ = error_of("inferred_conv_wrong")
    # 32 -> conv 28 -> pool 14 -> conv 10 -> pool 5: 20*5*5 = 500 per sample, 2,000 for 4; not a multiple of 320.
    assert "shape '[-1, 320]' is invalid for input of size 2000" in error.record.message
    assert "the (4, 1, 32, 32) guessed from conv1 (Conv2d, in_channels=1, size 32)" in error.record.hint


@pytest.mark.parametrize(
    ("name", "label", "before", "after", "own"),
    [
        ("shared_linear", "proj (Linear)", "(2, 8)", "(2, 4)", "nn.Linear(4, 8)"),
        ("shared_conv", "mix (Conv2d)", "(2, 3, 8, 8)", "(2, 4, 8, 8)", "nn.Conv2d(4, 3, 1)"),
        ("shared_layernorm", "norm (LayerNorm)", "(2, 8)", "(2, 4)", "a second LayerNorm"),
    ],
)
def test_a_layer_failing_on_its_second_call_is_told_it_is_shared(
    name: str, label: str, before: str, after: str, own: str
) -> None:
    error, _ = error_of(name)
    record = error.record
    assert record.kind == "shape_mismatch"
    assert record.message == f"{label} worked on call 1 with input {before} and failed on call 2 with input {after}"
    assert f"give call 2 a layer of its own (e.g. {own})" in record.hint
    assert "change in_" not in record.hint and "normalized_shape" not in record.hint


@pytest.mark.parametrize(
    ("name", "layer", "message", "fix"),
    [
        ("foward_typo", "", "Net has no forward() method (did you mean `foward`→`forward`?)", "rename `def foward`"),
        ("no_forward", "", "Net has no forward() method", "define `def forward(self, x):` in Net"),
        ("sub_forwad", "block", "Block has no forward() method (did you mean `forwad`→`forward`?)", "`def forwad`"),
    ],
)
def test_a_module_without_forward_is_told_so(name: str, layer: str, message: str, fix: str) -> None:
    error, _ = error_of(name)
    assert error.record.kind == "forward"
    assert error.record.message == message
    assert error.record.layer == layer
    assert fix in error.record.hint


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("dict_int_key", "example_input is a dict with the key 0"),
        ("tuple_int", "example_input gives forward an int (1) where it needs a tensor"),
        ("dict_list", "example_input gives forward a list ([1.0, 2.0, 3.0]) where it needs a tensor"),
    ],
)
def test_a_non_tensor_example_input_is_an_input_error(name: str, phrase: str) -> None:
    error, _ = error_of(name)
    assert error.record.kind == "input"
    assert phrase in error.record.message


# --- forward takes more inputs than were given -----------------------------------------------


def test_two_inputs_with_one_inferred_names_both() -> None:
    error, _ = error_of("two_inputs")
    assert error.record.kind == "input"
    assert error.record.message == (
        "forward takes 2 inputs (image, tabular) but got 1 (inferred from conv (Conv2d, in_channels=3, size 32))"
    )
    assert error.record.hint == (
        "pass --input twice, once per input in that order, or set example_input = (x1, x2) in the file"
    )


def test_two_inputs_with_one_given_and_then_both_given() -> None:
    error, _ = error_of("two_inputs", inputs=("4x3x8x8",))
    assert error.record.message == "forward takes 2 inputs (image, tabular) but got 1 (--input)"
    result = summarize(peer("two_inputs"), inputs=["4x3x8x8", "4x6"])
    assert shapes(result, "conv") == ([(4, 3, 8, 8)], [(4, 4, 6, 6)])
    assert shapes(result, "tab") == ([(4, 6)], [(4, 4)])


def test_three_inputs_with_one_given() -> None:
    error, _ = error_of("three_inputs")
    assert error.record.message == "forward takes 3 inputs (query, key, value) but got 1 (example_input)"
    assert "pass --input three times" in error.record.hint and "(x1, x2, x3)" in error.record.hint


def test_more_inputs_than_forward_takes_and_an_unknown_keyword() -> None:
    error, _ = error_of("unknown_keyword", inputs=("4x3", "4x3"))
    assert error.record.message == "forward takes 1 input (x) but got 2 (--input)"
    error, _ = error_of("unknown_keyword")
    assert error.record.message == "forward has no parameter named 'y' (its parameters: x), from example_input"


# --- root outputs that are objects: their type and the tensors inside ------------------------


@pytest.mark.parametrize(
    ("name", "kind", "inside"),
    [
        ("out_normal", "Normal", [(4, 3), (4, 3)]),  # loc, scale
        ("out_categorical", "Categorical", [(4, 3)]),  # logits (its _param is the same tensor)
        ("out_dataclass", "Out", [(4, 3), (4, 8)]),  # logits, hidden; the float is no tensor
        ("out_dict_subclass", "ModelOutput", [(4, 3), (4, 3)]),  # logits, probs
        ("out_namedtuple", "Pair", [(4, 3), (4, 3)]),
        ("out_numpy", "ndarray(4,3)", []),
    ],
)
def test_a_root_output_object_shows_its_type_and_tensors(name: str, kind: str, inside: list[tuple[int, ...]]) -> None:
    result = summarize(peer(name))
    root = result.layers[0]
    assert root.output_type == kind
    assert [s.shape for s in root.outputs] == inside
    assert result.to_json()["layers"][0]["output_type"] == kind
    assert layer_rows(result)[0][4] == "\n".join([kind, *("(" + ",".join(map(str, s)) + ")" for s in inside)])
    assert str(row_cells(root, False, True)[4]) == " ".join(
        [kind, *("(" + ",".join(map(str, s)) + ")" for s in inside)]
    )


def test_a_normal_output_traces_on_meta_too() -> None:
    checking = torch.distributions.Distribution._validate_args
    result = summarize(peer("out_normal"), meta=True)
    assert result.layers[0].output_type == "Normal"
    assert [s.shape for s in result.layers[0].outputs] == [(4, 3), (4, 3)]
    assert torch.distributions.Distribution._validate_args is checking  # turned off for the meta trace only


def test_plain_outputs_have_no_type_label() -> None:
    result = summarize(str(ROOT / "models" / "simple.py"))
    assert all(rec.output_type is None for rec in result.layers)


def test_a_guess_that_fitted_its_first_layer_leaves_a_model_bug_on_the_model() -> None:
    # The input (4, 8) guessed from encoder.0 = Linear(8, 16) fits it exactly; encoder.2 = Linear(12, 4) is the bug.
    session = ModelSession(SessionOptions(str(ROOT / "tests" / "core" / "broken" / "deep_sequential.py")))
    with pytest.raises(NnviewError) as caught:
        session.open()
    assert caught.value.record.kind == "shape_mismatch"
    assert (
        caught.value.record.hint
        == "encoder.2 = nn.Linear(12, 4) receives 16 features from encoder.0: change in_features to 16"
    )


class _ObjectWithTensors:
    """torchinfo's fixture: an object holding a tensor in an attribute."""

    def __init__(self, tensors: torch.Tensor) -> None:
        self.tensors = tensors


class _HighlyNestedDictModel(nn.Module):
    """torchinfo's HighlyNestedDictModel: the output tensor sits in a dict, tuple, dict, list, object."""

    def __init__(self) -> None:
        super().__init__()
        self.lin1 = nn.Linear(10, 10)
        self.lin2 = nn.Linear(10, 10)

    def forward(self, x: torch.Tensor) -> dict[str, object]:
        return {"foo": ({"bar": [_ObjectWithTensors(self.lin2(self.lin1(x)).softmax(0))]},)}


class _TakesAnObject(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor, cache: _ObjectWithTensors) -> torch.Tensor:
        return self.fc(x) + cache.tensors.sum()


def test_a_tensor_deep_in_an_object_output_is_found() -> None:
    from tui.core.example_input import ExampleInput
    from tui.core.trace.tracing import trace_model

    result = trace_model(_HighlyNestedDictModel(), ExampleInput((torch.randn(4, 10),)))
    root = result.layers[0]
    assert root.output_type is None  # a plain dict; the object is inside it
    assert [s.shape for s in root.outputs] == [(4, 10)]
    assert result.totals.params == 2 * (10 * 10 + 10)  # 220


def test_objects_passed_in_are_not_searched_for_inputs() -> None:
    from tui.core.example_input import ExampleInput
    from tui.core.trace.tracing import trace_model

    cache = _ObjectWithTensors(torch.ones(7, 7))
    result = trace_model(_TakesAnObject(), ExampleInput((torch.randn(4, 3), cache)))
    assert [s.shape for s in result.layers[0].inputs] == [(4, 3)]  # the cache's (7, 7) is no model input
    assert [s.shape for s in result.layers[0].outputs] == [(4, 2)]
