"""`nnview summary` says when MACs are a lower bound and when eval mode changed a layer, and nothing idle.

Most cases call the CLI's entry point in-process (each subprocess costs a torch import); three run
the real console script to show the same text reaches a terminal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.trust import flat, run_all
from tui.commands.main import main

FOOTER = "tests/corpus/footer"

# The LSTM model's MACs by hand (see its docstring): 64 tokens x (4*64*(32+64) + 4*64*(64+64)) = 3,670,016
# for the LSTM, plus 4 x 64 x 10 = 2,560 for the head.
LSTM_MACS = 3_670_016
LSTM_TOTAL = LSTM_MACS + 2_560


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The text ``nnview summary ARGS`` prints, whitespace folded; exit status 0 required."""
    assert main(["summary", *args]) == 0
    out, _ = capsys.readouterr()
    return flat(out)


def summary_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["summary", *args, "--json"]) == 0
    out, _ = capsys.readouterr()
    parsed: dict[str, Any] = json.loads(out)
    return parsed


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def test_simple_model_footer_has_no_idle_lines(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, "models/simple.py")
    assert "MACs: 512; activation memory" in text
    for idle in ("budget", "Traced in eval mode", "lower bound", "at least"):
        assert idle not in text
    data = summary_json(capsys, "models/simple.py")
    assert (data["macs_uncounted"], data["macs_exact"]) == ([], True)
    assert (data["traced_mode"], data["mode_dependent_layers"]) == ("eval", [])


def test_batchnorm_model_says_traced_in_eval_mode(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{FOOTER}/batchnorm_cnn.py")
    assert "Traced in eval mode: BatchNorm2d (bn) uses running statistics." in text
    data = summary_json(capsys, f"{FOOTER}/batchnorm_cnn.py")
    assert data["mode_dependent_layers"] == [
        {"name": "bn", "type": "BatchNorm2d", "in_eval": "uses running statistics"}
    ]


def test_dropout_model_says_dropout_is_off(capsys: pytest.CaptureFixture[str]) -> None:
    assert "Traced in eval mode: Dropout (2) is off." in summary(capsys, f"{FOOTER}/dropout_mlp.py")
    data = summary_json(capsys, f"{FOOTER}/dropout_mlp.py")
    assert data["mode_dependent_layers"] == [{"name": "2", "type": "Dropout", "in_eval": "is off"}]


def test_own_training_branch_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{FOOTER}/training_flag.py")
    assert "Traced in eval mode: NoisyNet takes the eval branch of its forward (it reads self.training)." in text


def test_layers_eval_mode_does_not_change_get_no_note(capsys: pytest.CaptureFixture[str]) -> None:
    # BatchNorm1d without running statistics and Dropout(p=0) compute the same in both modes.
    assert "eval mode" not in summary(capsys, f"{FOOTER}/mode_free.py")
    assert summary_json(capsys, f"{FOOTER}/mode_free.py")["mode_dependent_layers"] == []


@pytest.mark.parametrize("meta", [False, True], ids=["cpu", "meta"])
def test_lstm_counts_exactly_on_cpu_and_meta(capsys: pytest.CaptureFixture[str], meta: bool) -> None:
    args = [f"{FOOTER}/lstm_classifier.py", *(["--meta"] if meta else [])]
    data = summary_json(capsys, *args)
    lstm = next(layer for layer in data["layers"] if layer["name"] == "lstm")
    assert (data["totals"]["macs"], lstm["macs"]) == (LSTM_TOTAL, LSTM_MACS)
    assert (data["macs_uncounted"], data["macs_exact"]) == ([], True)
    text = summary(capsys, *args)
    assert "MACs: 3.67M (3,672,576);" in text
    assert "lower bound" not in text


def test_quantized_linear_makes_macs_a_named_lower_bound(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{FOOTER}/quantized_linear.py")
    assert "MACs: at least 0;" in text
    assert "MACs are a lower bound: the multiply-accumulates of quantized.linear_dynamic are not counted" in text
    data = summary_json(capsys, f"{FOOTER}/quantized_linear.py")
    assert (data["macs_uncounted"], data["macs_exact"]) == (["quantized.linear_dynamic"], False)


def test_sparse_mm_makes_macs_a_named_lower_bound(capsys: pytest.CaptureFixture[str]) -> None:
    text = summary(capsys, f"{FOOTER}/sparse_mm.py")
    # fc: 3 x 8 x 8 = 192 counted; the sparse product is not.
    assert "MACs: at least 192;" in text
    assert "the multiply-accumulates of aten._sparse_addmm are not counted (no formula)" in text
    data = summary_json(capsys, f"{FOOTER}/sparse_mm.py")
    assert (data["totals"]["macs"], data["macs_uncounted"], data["macs_exact"]) == (192, ["aten._sparse_addmm"], False)


def test_the_console_script_prints_the_same() -> None:
    runs = run_all(
        {
            "simple": ["summary", "models/simple.py"],
            "lstm-meta": ["summary", f"{FOOTER}/lstm_classifier.py", "--meta", "--json"],
            "quantized": ["summary", f"{FOOTER}/quantized_linear.py"],
        }
    )
    for proc in runs.values():
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stdout + proc.stderr
    assert "budget" not in runs["simple"].stdout
    assert json.loads(runs["lstm-meta"].stdout)["totals"]["macs"] == LSTM_TOTAL
    assert "lower bound" in runs["quantized"].stdout
    assert "quantized.linear_dynamic" in flat(runs["quantized"].stdout)
