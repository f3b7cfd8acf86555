"""Dead units show: a row's statistics after its folded activation (issue 7), and activation memory.

``models/simple.py`` with its inferred input (4 samples of 5 features, seed 0): fc1's raw output has
no zeros, but after ReLU 25 of its 40 values are 0 (62.5%); sample 1 has 6 zeros among its 10
units (units 3, 4, 5, 6, 8, 9) and units 5, 6 and 8 are 0 for every sample of the batch.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import MODELS
from tests.trust import run_nnview
from tui.core.example_input import ExampleInput
from tui.core.session import summarize
from tui.core.trace import capture
from tui.core.trace.stats import output_stats
from tui.core.trace.tracing import trace_model

SIMPLE = str(MODELS / "simple.py")
BUDGETS = [0, 1 << 20]  # nnview summary keeps no tensors; the explorer keeps 256 MiB


@pytest.mark.parametrize("budget", BUDGETS)
def test_simple_fc1_shows_the_zeros_relu_made(budget: int) -> None:
    result = summarize(SIMPLE, budget_bytes=budget)
    fc1, fc2, fc3 = (result.layer(name) for name in ("fc1", "fc2", "fc3"))
    assert fc1.stats is not None and fc1.stats.zero_frac == 0.0  # the raw output: no exact zeros
    assert fc1.activated_stats is not None and fc1.activated_stats.zero_frac == 25 / 40
    assert fc1.activated_stats.min == 0.0 and fc1.activated_stats.max == fc1.stats.max  # ReLU keeps positives
    assert fc2.activated_stats is not None and fc2.activated_stats.zero_frac == 11 / 24  # 11 of (4, 6)
    assert fc1.table_stats is fc1.activated_stats  # what the table's mean/std/zero% show
    assert fc3.activation is None and fc3.activated_stats is None and fc3.table_stats is fc3.stats
    assert result.layers[0].activated_stats is None


def test_the_counts_in_the_module_docstring_are_the_real_ones() -> None:
    result = summarize(SIMPLE, budget_bytes=1 << 20)
    after = result.activated[result.layer("fc1").index]
    assert tuple(after.shape) == (4, 10)
    assert int((after == 0).sum()) == 25
    assert (after[0] == 0).nonzero().flatten().tolist() == [3, 4, 5, 6, 8, 9]  # sample 1: 6 of 10 units
    assert (after == 0).all(dim=0).nonzero().flatten().tolist() == [5, 6, 8]  # dead for the whole batch


class _Net(nn.Module):
    """fc then one way of writing its activation; ``act`` may be a module (then it has its own row)."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.form = form
        self.fc = nn.Linear(5, 10)
        self.act = {"module": nn.ReLU(), "inplace_module": nn.ReLU(inplace=True), "softsign": nn.Softsign()}.get(form)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if self.act is not None:
            return self.act(y)
        return {
            "F.relu": lambda: F.relu(y),
            "torch.relu": lambda: torch.relu(y),
            "method": lambda: y.relu(),
            "inplace": lambda: F.relu(y, inplace=True),
            "sigmoid": lambda: torch.sigmoid(y),
            "gelu": lambda: F.gelu(y),
        }[self.form]()


REFERENCE = {
    "F.relu": torch.relu,
    "torch.relu": torch.relu,
    "method": torch.relu,
    "inplace": torch.relu,
    "module": torch.relu,
    "inplace_module": torch.relu,
    "sigmoid": torch.sigmoid,
    "gelu": F.gelu,
    "softsign": F.softsign,  # no aten activation op: named by the module, its output kept by the hook
}


@pytest.mark.parametrize("budget", BUDGETS)
@pytest.mark.parametrize("form", sorted(REFERENCE))
def test_every_way_of_writing_the_activation_gets_activated_stats(form: str, budget: int) -> None:
    torch.manual_seed(0)
    model = _Net(form)
    x = torch.randn(8, 5)
    with torch.no_grad():
        raw = model.fc(x)
    result = trace_model(model, ExampleInput((x,)), budget_bytes=budget)
    fc = result.layer("fc")
    assert fc.activation is not None
    assert fc.stats == output_stats(raw)  # raw output: taken before an in-place ReLU overwrote it
    assert fc.activated_stats == output_stats(REFERENCE[form](raw))


def test_meta_and_no_stats_have_no_activated_stats() -> None:
    meta = summarize(SIMPLE, meta=True)
    assert meta.layer("fc1").activation == "relu" and meta.layer("fc1").activated_stats is None
    off = summarize(SIMPLE, stats=False, budget_bytes=0)
    assert off.layer("fc1").activated_stats is None and off.layer("fc1").stats is None


@pytest.mark.parametrize("budget", BUDGETS)
def test_only_layers_with_an_activation_cost_an_extra_description(budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    described: list[tuple[int, ...]] = []
    one, many = capture.output_stats, capture.describe_tensors
    monkeypatch.setattr(capture, "output_stats", lambda t: described.append(tuple(t.shape)) or one(t))
    monkeypatch.setattr(
        capture, "describe_tensors", lambda ts: described.extend(tuple(t.shape) for t in ts) or many(ts)
    )
    summarize(SIMPLE, budget_bytes=budget)
    # fc1 raw and after ReLU, fc2 raw and after ReLU, fc3 (whose tensor is also the root's output: once).
    assert described == [(4, 10), (4, 10), (4, 6), (4, 6), (4, 3)]


def test_json_keeps_stats_and_adds_activated_stats() -> None:
    proc = run_nnview(["summary", SIMPLE, "--json"])
    assert proc.returncode == 0, proc.stderr
    layers = {layer["name"]: layer for layer in json.loads(proc.stdout)["layers"]}
    assert layers["fc1"]["stats"]["zero_frac"] == 0.0
    assert layers["fc1"]["activated_stats"]["zero_frac"] == 0.625
    assert layers["fc2"]["activated_stats"]["zero_frac"] == 11 / 24
    assert layers["fc3"]["activated_stats"] is None and layers[""]["activated_stats"] is None


def _activation_bytes(model: nn.Module, *inputs: torch.Tensor) -> int:
    return trace_model(model, ExampleInput(inputs), budget_bytes=0).totals.activation_bytes


def test_activation_memory_counts_a_root_that_is_itself_a_leaf() -> None:
    x = torch.randn(4, 5)
    assert _activation_bytes(nn.Linear(5, 3), x) == 48  # (4, 3) float32 = 12 values x 4 B (was 0 B)
    assert _activation_bytes(nn.Linear(5, 3).double(), x.double()) == 96  # 12 values x 8 B
    assert _activation_bytes(nn.Linear(5, 3).half(), x.half()) == 24  # 12 values x 2 B
    assert _activation_bytes(nn.ReLU(), x) == 80  # (4, 5) float32: a root with no parameters at all
    assert _activation_bytes(nn.Sequential(nn.Linear(5, 3)), x) == 48  # the child counts, the container not
    # Two leaves: (4, 3) + (4, 3) float32 = 96 B; the Sequential root's output is the ReLU's, not counted twice.
    assert _activation_bytes(nn.Sequential(nn.Linear(5, 3), nn.ReLU()), x) == 96
    # simple.py: (4, 10) + (4, 6) + (4, 3) float32 = 76 values x 4 B.
    assert summarize(SIMPLE, budget_bytes=0).totals.activation_bytes == 304
