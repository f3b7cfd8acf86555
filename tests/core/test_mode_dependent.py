"""The trace names every layer that eval mode changes, and only those."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.records import ModeDependentLayer
from tui.core.trace.modes import in_eval, mode_dependent_layers
from tui.core.trace.tracing import trace_model


class ReadsTraining(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.dropout(x, 0.2, training=self.training)


class TrainingStepsOnly(nn.Module):
    """Mentions ``self.training_steps``, not ``self.training``: not mode-dependent."""

    def __init__(self) -> None:
        super().__init__()
        self.training_steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.training_steps + 1)


@pytest.mark.parametrize(
    ("module", "meaning"),
    [
        (nn.BatchNorm1d(4), "uses running statistics"),
        (nn.BatchNorm2d(4), "uses running statistics"),
        (nn.BatchNorm3d(4), "uses running statistics"),
        (nn.SyncBatchNorm(4), "uses running statistics"),
        (nn.InstanceNorm2d(4, track_running_stats=True), "uses running statistics"),
        (nn.Dropout(0.5), "is off"),
        (nn.Dropout1d(0.1), "is off"),
        (nn.Dropout2d(0.1), "is off"),
        (nn.Dropout3d(0.1), "is off"),
        (nn.AlphaDropout(0.1), "is off"),
        (nn.FeatureAlphaDropout(0.1), "is off"),
        (nn.RReLU(), "uses its fixed mean slope"),
        (nn.MultiheadAttention(8, 2, dropout=0.1), "has attention dropout off"),
        (nn.LSTM(4, 4, num_layers=2, dropout=0.2), "has its dropout between layers off"),
        (nn.GRU(4, 4, num_layers=3, dropout=0.2), "has its dropout between layers off"),
        (ReadsTraining(), "takes the eval branch of its forward (it reads self.training)"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, nn.Module) else None,
)
def test_mode_dependent_layers_are_named_with_what_eval_means(module: nn.Module, meaning: str) -> None:
    assert in_eval(module) == meaning


@pytest.mark.parametrize(
    "module",
    [
        nn.BatchNorm1d(4, track_running_stats=False),  # batch statistics in both modes
        nn.InstanceNorm2d(4),  # no running statistics by default
        nn.Dropout(0.0),
        nn.MultiheadAttention(8, 2),  # dropout 0
        nn.LayerNorm(4),
        nn.GroupNorm(2, 4),
        nn.Linear(4, 4),
        nn.ReLU(),
        nn.LSTM(4, 4, num_layers=2),  # inter-layer dropout is 0 by default
        TrainingStepsOnly(),
    ],
    ids=lambda value: type(value).__name__,
)
def test_layers_that_compute_the_same_in_both_modes_are_not(module: nn.Module) -> None:
    assert in_eval(module) is None


def test_only_layers_that_ran_are_listed_once_each() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm1d(5)
            self.drop = nn.Dropout(0.3)
            self.unused = nn.Dropout(0.3)  # never called: eval mode changed nothing for it
            self.fc = nn.Linear(5, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.drop(self.bn(x))
            return self.fc(self.drop(x))  # drop runs twice, is listed once

    model = Net()
    result = trace_model(model, ExampleInput((torch.randn(4, 5),)), budget_bytes=0)
    assert result.mode_dependent == (
        ModeDependentLayer("bn", "BatchNorm1d", "uses running statistics"),
        ModeDependentLayer("drop", "Dropout", "is off"),
    )
    assert result.to_json()["traced_mode"] == "eval"
    assert result.to_json()["mode_dependent_layers"] == [
        {"name": "bn", "type": "BatchNorm1d", "in_eval": "uses running statistics"},
        {"name": "drop", "type": "Dropout", "in_eval": "is off"},
    ]
    assert model.training  # and the trace left the mode as it was


def test_a_plain_model_has_none() -> None:
    model = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 3))
    assert trace_model(model, ExampleInput((torch.randn(4, 5),)), budget_bytes=0).mode_dependent == ()
    assert mode_dependent_layers([("", model), ("0", model[0])]) == ()
