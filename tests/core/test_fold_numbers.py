"""The fold view's numbers for models/fold.py are the seed's: W, b, and its three points p -> z -> ReLU(z)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.conftest import MODELS
from tui.core.explain.fold import FoldPoint, FoldView, fold_view
from tui.core.load.inputs import resolve_inputs
from tui.core.load.model_file import load_model
from tui.core.trace.tracing import trace_model

FOLD = MODELS / "fold.py"


def view_of(path: Path, budget_bytes: int | None = None) -> FoldView:
    loaded = load_model(str(path))
    example = resolve_inputs(loaded, [], 4)
    options = {} if budget_bytes is None else {"budget_bytes": budget_bytes}
    result = trace_model(loaded.model, example, **options)
    return fold_view(result, loaded.model, result.layer("linear").index)


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """models/fold.py with one line changed."""
    source = FOLD.read_text()
    assert old in source
    path = tmp_path / "variant.py"
    path.write_text(source.replace(old, new))
    return path


def test_w_and_b_are_the_seeds() -> None:
    view = view_of(FOLD)
    assert view.weight == ((1.0, 0.5), (-0.5, 1.0))
    assert view.bias == (0.0, 0.0)
    assert view.activation == "relu"


def test_the_seed_points_go_through_the_layer_and_relu_as_the_seed_prints() -> None:
    view = view_of(FOLD)
    assert view.samples == (
        FoldPoint(point=(1.0, 0.0), z=(1.0, -0.5), activated=(1.0, 0.0)),
        FoldPoint(point=(0.0, 1.0), z=(0.5, 1.0), activated=(0.5, 1.0)),
        FoldPoint(point=(1.0, 1.0), z=(1.5, 0.5), activated=(1.5, 0.5)),
    )
    assert view.largest_difference == 0.0  # W·p + b redone in float64 is the recorded z, exactly


def test_the_grid_is_folded_by_the_same_w_b_and_relu() -> None:
    view = view_of(FOLD)
    assert len(view.grid) == 81  # 9 x 9 points, 0.5 apart on [-2, 2]
    corner = view.grid.index((2.0, -2.0))
    assert view.linear[corner] == (1.0, -3.0)  # (1·2 + 0.5·-2, -0.5·2 + 1·-2)
    assert view.activated[corner] == (1.0, 0.0)
    folded = [z != a for z, a in zip(view.linear, view.activated, strict=True)]
    negative = [min(x + 0.5 * y, -0.5 * x + y) < 0 for x, y in view.grid]  # W·p by hand: some z below 0
    assert folded == negative
    assert sum(folded) == 58  # of 81: ReLU moves every point with a negative z onto an axis


def test_sigmoid_squashes_the_seed_points(tmp_path: Path) -> None:
    view = view_of(variant(tmp_path, 'ACTIVATION = "relu"', 'ACTIVATION = "sigmoid"'))
    assert view.activation == "sigmoid"
    sigmoid = [tuple(1 / (1 + math.exp(-v)) for v in s.z) for s in view.samples]
    assert [s.z for s in view.samples] == [(1.0, -0.5), (0.5, 1.0), (1.5, 0.5)]
    assert [s.activated for s in view.samples] == [pytest.approx(v, abs=1e-7) for v in sigmoid]
    assert view.samples[0].activated == pytest.approx((0.731059, 0.377541), abs=1e-6)


def test_without_an_activation_there_is_no_sigma(tmp_path: Path) -> None:
    view = view_of(variant(tmp_path, "return self.activation(self.linear(x))", "return self.linear(x)"))
    assert view.activation is None
    assert [s.activated for s in view.samples] == [None, None, None]
    assert [s.z for s in view.samples] == [(1.0, -0.5), (0.5, 1.0), (1.5, 0.5)]
    assert view.activated == view.linear  # the grid is not folded


def test_a_bias_shifts_z_and_a_layer_without_one_says_so(tmp_path: Path) -> None:
    shifted = view_of(
        variant(tmp_path, "self.linear.bias.zero_()", "self.linear.bias.copy_(torch.tensor([0.5, -1.0]))")
    )
    assert shifted.bias == (0.5, -1.0)
    assert [s.z for s in shifted.samples] == [(1.5, -1.5), (1.0, 0.0), (2.0, -0.5)]
    assert [s.activated for s in shifted.samples] == [(1.5, 0.0), (1.0, 0.0), (2.0, 0.0)]
    source = FOLD.read_text().replace("nn.Linear(2, 2)", "nn.Linear(2, 2, bias=False)")
    path = tmp_path / "unbiased.py"
    path.write_text(source.replace("            self.linear.bias.zero_()\n", ""))
    unbiased = view_of(path)
    assert unbiased.bias is None
    assert [s.z for s in unbiased.samples] == [(1.0, -0.5), (0.5, 1.0), (1.5, 0.5)]


def test_a_batch_past_the_memory_budget_has_no_points_but_keeps_w_and_b() -> None:
    view = view_of(FOLD, budget_bytes=0)
    assert view.samples == ()
    assert view.largest_difference is None
    assert view.weight == ((1.0, 0.5), (-0.5, 1.0))
