"""Every broken model file in tests/core/broken/ gives the exact error record, and leaves no trace.

Each file's docstring says what is wrong with it. The expectations here are exact: the kind,
the qualified layer name and its type, the shapes it received, what it needed, the line in the
user's file, the layers that ran before the failure and the words of the fix.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.modules import module as module_globals
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

from tui.core.load.inputs import resolve_inputs
from tui.core.load.model_file import load_model
from tui.core.records import ErrorRecord, NnviewError
from tui.core.session import summarize
from tui.core.trace.tracing import trace_model

BROKEN = Path(__file__).resolve().parent / "broken"

Spec = tuple[tuple[int, ...], str]


@dataclass(frozen=True)
class Case:
    """What one broken file must produce.

    Attributes:
        target: the file name in broken/, optionally with ``:NAME``.
        kind: the exact error kind.
        layer: the exact qualified layer name (``None`` when no layer is involved).
        type: the exact class name of that layer.
        inputs: the exact (shape, dtype) of every tensor the layer received.
        expected: the exact ``expected`` text.
        location: what follows the file path in ``location`` (``":12"``, ``":9:21"``, ``""`` for the
            bare path), or ``None`` when no location can be known.
        called: names of every module call in ``partial``, in order (the failing chain included).
        ran: the names in ``partial`` that finished (have outputs), in order.
        hint: words the fix must contain.
        message: words the message must contain.
        candidates: the exact candidate names.
    """

    target: str
    kind: str
    layer: str | None = None
    type: str | None = None
    inputs: tuple[Spec, ...] = ()
    expected: str | None = None
    location: str | None = None
    called: tuple[str, ...] = ()
    ran: tuple[str, ...] = ()
    hint: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return BROKEN / self.target.split(":")[0]


CASES: dict[str, Case] = {
    "syntax_error_reports_line_9_column_21": Case(
        "syntax_error.py",
        "syntax",
        location=":9:21",
        message=("syntax error in", "expected ':'"),
        hint=("fix line 9 of syntax_error.py",),
    ),
    "missing_import_says_pip_install_the_package": Case(
        "missing_import.py",
        "load",
        location=":5",
        message=("ModuleNotFoundError: No module named 'nnview_no_such_package_xyz'", "while loading the file"),
        hint=("pip install nnview_no_such_package_xyz",),
    ),
    "raising_constructor_is_a_load_error_at_the_raise": Case(
        "ctor_raises.py",
        "load",
        location=":10",
        message=("RuntimeError: constructor exploded", "while building the model with Net"),
        hint=("fix the error in the model file",),
    ),
    "file_without_model_is_no_model": Case(
        "no_model.py",
        "no_model",
        message=("no model found in",),
        hint=("define an nn.Module subclass", "build_model()", "`model`"),
    ),
    "two_models_are_ambiguous_and_listed": Case(
        "two_models.py",
        "ambiguous",
        candidates=("Encoder", "Decoder"),
        message=("defines 2 candidate models: Encoder, Decoder",),
        hint=("two_models.py:NAME", "two_models.py:Decoder", "build_model()"),
    ),
    "missing_name_after_colon_lists_the_candidates": Case(
        "two_models.py:Decodr",
        "no_model",
        candidates=("Encoder", "Decoder"),
        message=("has no attribute 'Decodr'",),
        hint=("pick one of: Encoder, Decoder",),
    ),
    "shape_mismatch_names_encoder_2_fed_by_encoder_0": Case(
        "deep_sequential.py",
        "shape_mismatch",
        layer="encoder.2",
        type="Linear",
        inputs=(((4, 16), "float32"),),
        expected="(*, 12)",
        location=":21",
        called=("", "encoder", "encoder.0", "encoder.1", "encoder.2"),
        ran=("encoder.0", "encoder.1"),
        message=("encoder.2 = nn.Linear(12, 4) got input (4, 16)", "16 features where it needs 12"),
        hint=("encoder.2 = nn.Linear(12, 4) receives 16 features from encoder.0: change in_features to 16",),
    ),
    "shape_mismatch_through_f_relu_names_fc1_as_producer": Case(
        "functional_relu.py",
        "shape_mismatch",
        layer="fc2",
        type="Linear",
        inputs=(((4, 10), "float32"),),
        expected="(*, 6)",
        location=":18",
        called=("", "fc1", "fc2"),
        ran=("fc1",),
        message=("fc2 = nn.Linear(6, 3) got input (4, 10)",),
        hint=("fc2 = nn.Linear(6, 3) receives 10 features from fc1: change in_features to 10",),
    ),
    "shape_mismatch_through_scaled_relu_names_fc1_as_producer": Case(
        "scaled_relu.py",
        "shape_mismatch",
        layer="fc2",
        type="Linear",
        inputs=(((4, 10), "float32"),),
        expected="(*, 6)",
        location=":18",
        called=("", "fc1", "fc2"),
        ran=("fc1",),
        message=("fc2 = nn.Linear(6, 3) got input (4, 10)",),
        hint=("receives 10 features from the code after fc1: change in_features to 10",),
    ),
    "conv_channel_mismatch_names_conv2_fed_by_conv1": Case(
        "conv_channels.py",
        "shape_mismatch",
        layer="conv2",
        type="Conv2d",
        inputs=(((2, 16, 10, 10), "float32"),),
        expected="8 channels",
        location=":16",
        called=("", "conv1", "conv2"),
        ran=("conv1",),
        message=("conv2 (Conv2d) expects 8 input channels but got 16",),
        hint=("conv2 receives 16 channels from conv1: change in_channels to 16",),
    ),
    "layernorm_mismatch_says_change_normalized_shape_to_32": Case(
        "layernorm_mismatch.py",
        "shape_mismatch",
        layer="norm",
        type="LayerNorm",
        inputs=(((4, 32), "float32"),),
        expected="(*, 64)",
        location=":13",
        called=("", "fc", "norm"),
        ran=("fc",),
        message=("norm = nn.LayerNorm([64]) got input (4, 32)",),
        hint=("norm receives (4, 32) from fc: change normalized_shape to 32",),
    ),
    "float64_input_into_float32_linear_is_a_dtype_error": Case(
        "dtype_float64.py",
        "dtype",
        layer="fc",
        type="Linear",
        inputs=(((4, 5), "float64"),),
        expected="float32",
        location=":13",
        called=("", "fc"),
        message=("fc (Linear) has float32 weights but got float64 input",),
        hint=("feed float32 values", "x.to(torch.float32)", "--input 4x5:float32"),
    ),
    "embedding_fed_floats_asks_for_long_ids": Case(
        "embedding_floats.py",
        "dtype",
        layer="embed",
        type="Embedding",
        inputs=(((2, 7), "float32"),),
        expected="integer ids (torch.long)",
        location=":14",
        called=("", "embed"),
        message=("embed (Embedding) needs integer ids but got float32 values",),
        hint=("x.long()", "--input 2x7:long"),
    ),
    "embedding_ids_past_vocabulary_give_the_range": Case(
        "embedding_out_of_range.py",
        "input",
        layer="embed",
        type="Embedding",
        inputs=(((2, 4), "int64"),),
        expected="ids in [0, 10)",
        location=":14",
        called=("", "embed"),
        message=("embed (Embedding) has 10 embeddings but got ids from 0 to 12",),
        hint=("keep ids in [0, 10) or raise num_embeddings to at least 13",),
    ),
    "sys_exit_at_import_is_a_load_error": Case(
        "sys_exit.py",
        "load",
        location=":18",
        message=("called sys.exit(3) while loading the file",),
        hint=("if __name__ == '__main__':",),
    ),
    "noisy_file_that_moves_cwd_still_diagnoses_fc2": Case(
        "noisy_chdir.py",
        "shape_mismatch",
        layer="fc2",
        type="Linear",
        inputs=(((4, 16), "float32"),),
        expected="(*, 7)",
        location=":30",
        called=("", "fc1", "fc2"),
        ran=("fc1",),
        hint=("fc2 = nn.Linear(7, 2) receives 16 features from fc1: change in_features to 16",),
    ),
    "markdown_named_py_is_not_python_source": Case(
        "markdown_notes.py",
        "syntax",
        location="",
        message=("does not look like Python source", "no import, def or class lines"),
        hint=("point nnview at a .py file that defines a torch.nn.Module",),
    ),
    "csv_named_py_is_not_python_source": Case(
        "csv_data.py",
        "syntax",
        location="",
        message=("does not look like Python source", "it starts"),
        hint=("point nnview at a .py file that defines a torch.nn.Module",),
    ),
    "custom_module_value_error_names_blocks_1_gate": Case(
        "forward_valueerror.py",
        "forward",
        layer="blocks.1.gate",
        type="Gate",
        inputs=(((3, 8), "float32"),),
        location=":13",
        called=("", "blocks.0", "blocks.0.fc", "blocks.0.gate", "blocks.1", "blocks.1.fc", "blocks.1.gate"),
        ran=("blocks.0", "blocks.0.fc", "blocks.0.gate", "blocks.1.fc"),
        message=("blocks.1.gate (Gate) failed: ValueError: custom",),
        hint=("forward_valueerror.py:13", "blocks.1.gate"),
    ),
    "build_model_returning_a_dict_is_no_model": Case(
        "build_model_not_module.py",
        "no_model",
        message=("build_model() returned a dict, not an nn.Module",),
        hint=("make build_model return the model",),
    ),
    "sys_exit_in_forward_is_a_forward_error_naming_the_model": Case(
        "exit_in_forward.py",
        "forward",
        layer="",
        type="Quitter",
        inputs=(((3, 4), "float32"),),
        location=":21",
        called=("", "fc"),
        ran=("fc",),
        message=("sys.exit(3)",),
    ),
}

CASE_PARAMS = [pytest.param(case, id=name) for name, case in CASES.items()]


def _record(target: str) -> ErrorRecord:
    with pytest.raises(NnviewError) as info:
        summarize(str(BROKEN / target))
    return info.value.record


def _collapse(text: str) -> str:
    return " ".join(text.split())


# --- the corpus itself ---------------------------------------------------------------------------


def test_every_corpus_file_has_a_case_and_a_docstring() -> None:
    files = sorted(p.name for p in BROKEN.glob("*.py"))
    covered = sorted({case.path.name for case in CASES.values()} | {"prints_in_forward.py"})
    assert files == covered
    for name in files:
        assert (BROKEN / name).read_text().startswith('"""Broken: '), name


# --- the record, field by field ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_broken_file_record_has_exact_kind_layer_inputs_and_location(case: Case) -> None:
    record = _record(case.target)
    got = {
        "kind": record.kind,
        "layer": record.layer,
        "type": record.type,
        "inputs": tuple((spec.shape, spec.dtype) for spec in record.inputs),
        "expected": record.expected,
        "location": record.location,
        "candidates": record.candidates,
        "called": tuple(rec.name for rec in record.partial),
        "ran": tuple(rec.name for rec in record.partial if rec.outputs and rec.index != 0),
    }
    want = {
        "kind": case.kind,
        "layer": case.layer,
        "type": case.type,
        "inputs": case.inputs,
        "expected": case.expected,
        "location": None if case.location is None else str(case.path) + case.location,
        "candidates": case.candidates,
        "called": case.called,
        "ran": case.ran,
    }
    assert got == want


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_broken_file_message_and_hint_say_what_is_wrong_and_the_fix(case: Case) -> None:
    record = _record(case.target)
    for words in case.message:
        assert words in record.message, (words, record.message)
    for words in case.hint:
        assert words in record.hint, (words, record.hint)
    assert record.hint.strip(), "every error needs a fix"
    assert "Traceback" not in record.message + record.hint


def test_partial_records_keep_shapes_of_layers_that_ran() -> None:
    record = _record("deep_sequential.py")
    by_name = {rec.name: rec for rec in record.partial}
    assert [s.shape for s in by_name["encoder.0"].outputs] == [(4, 16)]
    assert by_name["encoder.0"].weight == (16, 8)
    assert [s.shape for s in by_name["encoder.1"].outputs] == [(4, 16)]
    assert by_name["encoder.2"].outputs == ()
    assert [s.shape for s in by_name["encoder.2"].inputs] == [(4, 16)]
    assert by_name["encoder.0"].activation == "relu"


def test_scaled_relu_still_names_fc2_and_fc1_ran() -> None:
    record = _record("scaled_relu.py")
    assert (record.kind, record.layer, record.type) == ("shape_mismatch", "fc2", "Linear")
    assert "change in_features to 10" in record.hint


def test_scaled_relu_hint_does_not_blame_the_model_input() -> None:
    record = _record("scaled_relu.py")
    assert "the model input" not in record.hint
    assert "feed inputs with 6 features" not in record.hint


def test_ambiguous_hint_suggestion_traces_the_decoder() -> None:
    record = _record("two_models.py")
    suggested = record.hint.split("e.g. ", 1)[1].split(",", 1)[0]
    assert suggested == f"{BROKEN / 'two_models.py'}:Decoder"
    result = summarize(suggested)
    assert [rec.name for rec in result.layers] == ["", "fc"]
    assert result.model_name == "Decoder"


def test_printed_output_before_sys_exit_is_kept_on_the_record() -> None:
    record = _record("sys_exit.py")
    assert record.output == "parsing arguments...\n"


# --- binary and non-Python files ------------------------------------------------------------------


def test_random_bytes_with_nul_are_not_python_source(tmp_path: Path) -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(1, 256) for _ in range(300)) + b"\x00" + bytes(rng.randrange(256) for _ in range(300))
    path = tmp_path / "weights.py"
    path.write_bytes(data)
    with pytest.raises(NnviewError) as info:
        summarize(str(path))
    record = info.value.record
    assert record.kind == "syntax"
    assert record.message == f"{path} is not Python source: it contains binary data (a NUL byte at offset 300)"
    assert record.location == str(path)
    assert "point nnview at a .py file" in record.hint


def test_png_named_py_is_not_python_source(tmp_path: Path) -> None:
    path = tmp_path / "picture.py"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06")
    with pytest.raises(NnviewError) as info:
        summarize(str(path))
    record = info.value.record
    assert record.kind == "syntax"
    assert "a NUL byte at offset 8" in record.message
    assert (record.layer, record.partial) == (None, ())


def test_non_utf8_bytes_without_nul_are_a_syntax_error_on_line_1(tmp_path: Path) -> None:
    path = tmp_path / "latin1.py"
    path.write_bytes(b"name = 'caf\xe9'\n")
    with pytest.raises(NnviewError) as info:
        summarize(str(path))
    record = info.value.record
    assert record.kind == "syntax"
    assert "utf-8" in record.message
    assert record.location is not None and record.location.startswith(f"{path}:1")
    assert record.hint == "fix line 1 of latin1.py"


# --- process state around the user's code --------------------------------------------------------


@contextlib.contextmanager
def _process_state_unchanged() -> Iterator[None]:
    cwd, path, argv = os.getcwd(), list(sys.path), list(sys.argv)
    yield
    assert os.getcwd() == cwd
    assert sys.path == path
    assert sys.argv == argv


@pytest.mark.parametrize("target", ["noisy_chdir.py", "sys_exit.py", "ctor_raises.py", "missing_import.py"])
def test_failed_load_or_trace_restores_cwd_sys_path_and_argv(target: str, capfd: pytest.CaptureFixture[str]) -> None:
    with _process_state_unchanged():
        _record(target)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_noisy_file_prints_nothing_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    record = _record("noisy_chdir.py")
    out, err = capfd.readouterr()
    assert "noisy line" not in out + err
    assert record.layer == "fc2"


def test_noisy_file_output_is_kept_on_a_forward_error_record() -> None:
    record = _record("noisy_chdir.py")
    assert record.output.endswith("noisy line 299\nnoisy to stderr\n")


# --- the model and torch are left as they were ----------------------------------------------------

FORWARD_FAILURES = [
    "deep_sequential.py",
    "functional_relu.py",
    "scaled_relu.py",
    "conv_channels.py",
    "layernorm_mismatch.py",
    "dtype_float64.py",
    "embedding_floats.py",
    "embedding_out_of_range.py",
    "noisy_chdir.py",
    "forward_valueerror.py",
]


def _model_state(model: nn.Module) -> dict[str, Any]:
    return {
        "training": [(name, m.training) for name, m in model.named_modules()],
        "params": [
            (name, p.device, p.dtype, p.requires_grad, p.detach().clone()) for name, p in model.named_parameters()
        ],
        "buffers": [(name, b.device, b.detach().clone()) for name, b in model.named_buffers()],
        "hooks": [
            (name, len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
            for name, m in model.named_modules()
        ],
    }


def _same_state(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after["training"] == before["training"]
    assert after["hooks"] == before["hooks"]
    assert [p[:4] for p in after["params"]] == [p[:4] for p in before["params"]]
    for old, new in zip(before["params"], after["params"], strict=True):
        assert torch.equal(old[4], new[4]), old[0]
    assert [b[:2] for b in after["buffers"]] == [b[:2] for b in before["buffers"]]


def _global_torch_state() -> dict[str, Any]:
    return {
        "forward_hooks": dict(module_globals._global_forward_hooks),
        "forward_pre_hooks": dict(module_globals._global_forward_pre_hooks),
        "dispatch_modes": list(_get_current_dispatch_mode_stack()),
        "grad": torch.is_grad_enabled(),
        "mha_fastpath": torch.backends.mha.get_fastpath_enabled(),
        "gc": gc.isenabled(),
    }


@pytest.mark.parametrize("target", FORWARD_FAILURES)
def test_failed_trace_leaves_modes_devices_grads_and_hooks_as_they_were(target: str) -> None:
    loaded = load_model(str(BROKEN / target))
    model = loaded.model
    # A mixed state that a trace's eval() would flatten: train at the root, eval on every other module,
    # and one frozen parameter.
    model.train()
    for i, module in enumerate(model.modules()):
        if i % 2:
            module.eval()
    first = next(model.parameters())
    first.requires_grad_(False)
    before, torch_before = _model_state(model), _global_torch_state()
    assert torch_before["forward_hooks"] == {} and torch_before["forward_pre_hooks"] == {}

    example = resolve_inputs(loaded, [])
    with pytest.raises(NnviewError):
        trace_model(model, example, model_name=loaded.name, source=loaded.source, user_files=loaded.user_files)

    _same_state(before, _model_state(model))
    after = _global_torch_state()
    assert after == torch_before
    assert after["forward_hooks"] == {} and after["forward_pre_hooks"] == {}
    assert after["dispatch_modes"] == []
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert any(m.training for m in model.modules()) and not all(m.training for m in model.modules())


def test_failed_summarize_leaves_no_global_hooks_and_next_trace_is_clean() -> None:
    for target in FORWARD_FAILURES:
        _record(target)
    assert module_globals._global_forward_hooks == {}
    assert module_globals._global_forward_pre_hooks == {}
    assert _get_current_dispatch_mode_stack() == []
    assert torch.is_grad_enabled()
    result = summarize(str(BROKEN / "two_models.py") + ":Encoder")
    assert [(rec.name, [s.shape for s in rec.outputs]) for rec in result.layers] == [("", [(4, 4)]), ("fc", [(4, 4)])]


def test_sys_exit_in_forward_raises_nnview_error_and_removes_hooks() -> None:
    try:
        _record("exit_in_forward.py")
    finally:
        assert module_globals._global_forward_hooks == {}
        assert module_globals._global_forward_pre_hooks == {}
