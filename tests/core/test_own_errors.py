"""A failure inside nnview is reported as nnview's own (kind ``internal``), never blamed on the model.

nnview's hooks run inside the model's forward, so the innermost frame that raised decides; these
tests break nnview's own code with functions of nnview (or builtins called from it), since a
function defined here would be a frame outside nnview: the model's side.
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tui.commands import main as cli
from tui.core.example_input import ExampleInput
from tui.core.records import ERROR_KINDS, ErrorRecord, NnviewError
from tui.core.trace import capture, stats, tracing
from tui.core.trace.own_errors import HINT
from tui.core.trace.tracing import trace_model

SIMPLE = str(MODELS / "simple.py")
BUG = "This is a bug in nnview, not in your model"


def _error(model: nn.Module, x: torch.Tensor, budget: int = 0) -> ErrorRecord:
    with pytest.raises(NnviewError) as caught:
        trace_model(model, ExampleInput((x,)), budget_bytes=budget)
    return caught.value.record


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 3))


def test_a_broken_statistic_inside_a_hook_is_nnviews_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rows of 4 sums where _finish_row unpacks 5: a ValueError raised in stats.py, inside the post hook.
    monkeypatch.setattr(stats, "_reduce_rows", lambda tensors: [[0.0] * 4 for _ in tensors])
    error = _error(_mlp(), torch.randn(4, 5))
    assert "internal" in ERROR_KINDS and error.kind == "internal"
    assert error.message == (
        "nnview failed while computing statistics for 0 (Linear): "
        f"ValueError: not enough values to unpack (expected 5, got 4). {BUG}"
    )
    assert error.hint == HINT == "run again with --debug for the traceback and report it"
    assert error.layer is None and error.location is None  # nothing points into the model


def test_a_broken_statistic_after_the_forward_is_nnviews_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a budget, outputs are described after the pass, in CaptureStore.finish.
    monkeypatch.setattr(stats, "_reduce_rows", lambda tensors: [[0.0] * 4 for _ in tensors])
    error = _error(_mlp(), torch.randn(4, 5), budget=1 << 20)
    assert error.kind == "internal"
    assert error.message.startswith("nnview failed while computing statistics: ValueError")


def test_a_broken_hook_is_nnviews_error_naming_the_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    # len(Sequential) is 3, len(Linear) raises TypeError: in the pre hook of the first Linear, "0".
    monkeypatch.setattr(tracing, "module_activation", len)
    error = _error(_mlp(), torch.randn(4, 5))
    assert error.kind == "internal"
    assert error.message.startswith("nnview failed while recording the layer calls for 0 (Linear): TypeError")


def test_a_broken_activation_callback_inside_the_dispatch_mode_is_nnviews_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # keep_activated runs inside OpWatcher.__torch_dispatch__ for torch.relu: nnview's code, not the op.
    # slots() takes no reuse= keyword: a TypeError raised in capture.py, for fc's activated output.
    monkeypatch.setattr(capture.CaptureStore, "_describe_now", capture.CaptureStore.slots)
    model = nn.Linear(5, 3)
    with pytest.raises(NnviewError) as caught:
        trace_model(_Relu(model), ExampleInput((torch.randn(4, 5),)), budget_bytes=0)
    assert caught.value.record.kind == "internal"
    assert "computing statistics for fc (Linear)" in caught.value.record.message


class _Relu(nn.Module):
    def __init__(self, fc: nn.Module) -> None:
        super().__init__()
        self.fc = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


class _Raises(nn.Module):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if self.how == "value":
            raise ValueError("the model's own check")
        if self.how == "json":
            return json.loads("{")  # raised in the standard library, called by the model
        return y.view(7, 7)  # raised by torch, through nnview's dispatch mode


@pytest.mark.parametrize(
    ("how", "kind", "phrase"),
    [
        ("value", "forward", "ValueError: the model's own check"),
        ("json", "forward", "JSONDecodeError"),
        ("view", "shape_mismatch", "shape '[7, 7]' is invalid for input of size 12"),
    ],
)
def test_the_models_own_failures_stay_the_models(how: str, kind: str, phrase: str) -> None:
    error = _error(_Raises(how), torch.randn(4, 5))
    assert (error.kind, phrase in error.message, BUG in error.message) == (kind, True, False)


def test_a_shape_error_in_a_torch_only_model_is_the_users() -> None:
    # Every frame is torch or the dispatch mode passing the op through: the input is wrong, not nnview.
    error = _error(_mlp(), torch.randn(4, 6))
    assert error.kind == "shape_mismatch" and error.layer == "0"


def test_cli_says_internal_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(stats, "_reduce_rows", lambda tensors: [[math.nan] * 4 for _ in tensors])
    assert cli.main(["summary", SIMPLE]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error [internal]: nnview failed while computing statistics for fc1 (Linear)" in err
    assert BUG in err and "fix: run again with --debug for the traceback and report it" in err
    assert "Traceback" not in err
    assert cli.main(["summary", SIMPLE, "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err  # --debug shows where in nnview it broke
