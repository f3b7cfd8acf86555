"""Issue 7, section 5 through the real console script: what torchinfo's test suite found, end to end.

User mistakes run as subprocesses (exit 2, one message with the fix, no traceback, the corpus files
unchanged); the summaries that now succeed call the CLI's entry point in-process, since each
subprocess costs a torch import.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.trust import assert_user_error, files_unchanged, flat, run_all
from tui.commands.main import main

PEER = "tests/corpus/peer"

MISTAKES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "lazy_first_linear": (
        ["summary", f"{PEER}/lazy_first_linear.py"],
        (
            "error [input]",
            "cannot infer the input: the first layer, fc (LazyLinear), learns its input size from the first batch",
            "pass --input, e.g. --input 4x20, or set example_input in the file",
        ),
    ),
    "lazy_first_conv2d_json": (
        ["summary", f"{PEER}/lazy_first_conv2d.py", "--json"],
        ('"kind": "input"', "the first layer, 1 (LazyConv2d)", "--input 4x3x32x32"),
    ),
    "two_inputs": (
        ["summary", f"{PEER}/two_inputs.py"],
        ("forward takes 2 inputs (image, tabular)", "pass --input twice", "example_input = (x1, x2)"),
    ),
    "foward_typo": (
        ["summary", f"{PEER}/foward_typo.py"],
        ("error [forward]", "Net has no forward() method (did you mean `foward`→`forward`?)"),
    ),
    "shared_linear": (
        ["summary", f"{PEER}/shared_linear.py"],
        ("proj (Linear) worked on call 1 with input (2, 8) and failed on call 2 with input (2, 4)", "nn.Linear(4, 8)"),
    ),
    "inferred_wrong": (
        ["summary", f"{PEER}/inferred_wrong.py"],
        ("error [input]", "the guessed input (4, 12) does not fit", "guessed from fc1 (Linear, in_features=12)"),
    ),
    "dict_int_key": (
        ["summary", f"{PEER}/dict_int_key.py"],
        ("error [input]", "example_input is a dict with the key 0"),
    ),
    "meta_lengths": (
        ["summary", f"{PEER}/pack_padded_kwargs.py", "--meta"],
        ("error [input]", "'lengths' input is on the meta device", "def example_input():"),
    ),
}


@pytest.fixture(scope="module")
def mistakes() -> dict[str, subprocess.CompletedProcess[str]]:
    with files_unchanged(PEER):  # nnview reads the model files; it writes nothing beside them
        return run_all({name: args for name, (args, _) in MISTAKES.items()})


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_exits_2_with_the_fix_and_no_traceback(
    mistakes: dict[str, subprocess.CompletedProcess[str]], name: str
) -> None:
    assert_user_error(mistakes[name], *MISTAKES[name][1])


def test_json_error_is_one_object_on_stdout(mistakes: dict[str, subprocess.CompletedProcess[str]]) -> None:
    error = json.loads(mistakes["lazy_first_conv2d_json"].stdout)["error"]
    assert error["kind"] == "input"
    assert error["hint"] == "pass --input, e.g. --input 4x3x32x32, or set example_input in the file"


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["summary", *args]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return flat(out)


def summary_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", *args, "--json"]) == 0
    parsed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return parsed


def test_unused_lazy_head_is_named_under_the_totals(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{PEER}/lazy_unused_linear.py")
    assert "Params: 168 (trainable 168, non-trainable 0)" in text  # fc: 20*8 + 8
    assert "Not counted: head.weight, head.bias (lazy parameters forward never initialised" in text
    data = summary_json(capsys, f"{PEER}/lazy_unused_linear.py")
    assert data["uninitialized_params"] == ["head.weight", "head.bias"]
    assert data["totals"]["params"] == 168


def test_packed_sequence_on_meta_prints_exact_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    data = summary_json(capsys, f"{PEER}/pack_padded_lstm.py", "--meta")
    lstm = next(layer for layer in data["layers"] if layer["name"] == "lstm")
    assert lstm["inputs"][0] == [26, 128]  # 10 + 8 + 5 + 3 packed steps of 128 features
    assert lstm["outputs"] == [[26, 32], [1, 4, 32], [1, 4, 32]]
    assert data["device"] == "meta"
    assert data["totals"]["macs"] == 26 * 4 * 32 * (128 + 32) + 4 * 32 * 18  # 534,784


def test_scripted_model_lists_submodules_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{PEER}/scripted.py")
    assert "fc1 Linear - (16,20) - - 336 -" in text
    assert "TorchScript: Net runs compiled code, so nnview sees only the outer call" in text


@pytest.mark.parametrize(
    ("name", "row", "outputs"),
    [
        ("out_normal", "Policy Policy (4,5) - Normal - 36 120 (4,3) (4,3)", [[4, 3], [4, 3]]),  # loc, scale
        ("out_numpy", "NumpyModel NumpyModel (4,5) - ndarray(4,3) - 18 60", []),
        ("out_dataclass", "Net Net (4,5) - Out - 75 256 (4,3) (4,8)", [[4, 3], [4, 8]]),  # logits, hidden
    ],
)
def test_object_outputs_show_their_type(
    capsys: pytest.CaptureFixture[str], name: str, row: str, outputs: list[list[int]]
) -> None:
    # The Output cell is the type, then one shape per line (the table folds to one line of text here).
    assert row in summary(capsys, f"{PEER}/{name}.py")
    root = summary_json(capsys, f"{PEER}/{name}.py")["layers"][0]
    assert (root["output_type"], root["outputs"]) == (row.split()[4], outputs)
