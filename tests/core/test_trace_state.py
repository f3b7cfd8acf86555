"""A trace leaves the model exactly as it found it, and keeps only what the budget allows."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn
from torch.nn.modules import module as module_globals

from tui.core.example_input import ExampleInput
from tui.core.records import NnviewError
from tui.core.trace.stats import describe_tensors, output_stats
from tui.core.trace.tracing import trace_model


def mixed_state_model() -> nn.Sequential:
    """Some submodules training, some not; one frozen parameter."""
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model.train()
    model[2].eval()
    model[0].bias.requires_grad_(False)
    return model


def state_of(model: nn.Module) -> list[tuple[str, bool]]:
    modes = [(name, m.training) for name, m in model.named_modules()]
    grads = [(name, p.requires_grad) for name, p in model.named_parameters()]
    return modes + grads + [("device", next(model.parameters()).device.type == "cpu")]


def no_hooks_left(model: nn.Module) -> bool:
    return (
        not module_globals._global_forward_hooks
        and not module_globals._global_forward_pre_hooks
        and all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    )


def test_success_restores_modes_grads_device_and_hooks() -> None:
    model = mixed_state_model()
    before = state_of(model)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    result = trace_model(model, ExampleInput((torch.randn(5, 4),)))
    assert state_of(model) == before
    assert no_hooks_left(model)
    assert torch.backends.mha.get_fastpath_enabled() == fastpath
    assert result.totals.trainable == result.totals.params - 8
    assert torch.is_grad_enabled()


def test_failure_restores_modes_grads_device_and_hooks() -> None:
    model = mixed_state_model()
    before = state_of(model)
    with pytest.raises(NnviewError) as caught:
        trace_model(model, ExampleInput((torch.randn(5, 7),)))
    assert caught.value.record.layer == "0"
    assert state_of(model) == before
    assert no_hooks_left(model)
    assert torch.is_grad_enabled()


def test_eval_mode_trace_matches_plain_eval_forward() -> None:
    model = mixed_state_model()
    x = torch.randn(5, 4)
    result = trace_model(model, ExampleInput((x,)))
    model.eval()
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(result.captured[0][0], expected)


def test_calls_from_another_thread_are_not_recorded() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    other_done = threading.Event()

    class Noisy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            worker = threading.Thread(target=lambda: (model(torch.randn(2, 3)), other_done.set()))
            worker.start()
            worker.join()
            return model(x)

    result = trace_model(Noisy(), ExampleInput((torch.randn(2, 3),)))
    assert other_done.is_set()
    assert [rec.name for rec in result.layers] == [""]  # `model` is not a submodule of Noisy


def test_budget_keeps_statistics_only_past_the_limit() -> None:
    model = nn.Sequential(*[nn.Linear(256, 256) for _ in range(4)])
    x = torch.randn(64, 256)  # each output is 64*256*4 = 65,536 bytes
    # Three tensors fit: the input x (kept as layer 0's input), then the outputs of 0 and 1, which are
    # also the inputs of 1 and 2 and so cost nothing more.
    result = trace_model(model, ExampleInput((x,)), budget_bytes=3 * 65_536)
    assert result.budget_exceeded
    kept = [rec.name for rec in result.layers if rec.captured]
    # The root's output is the last layer's tensor, which came after the budget ran out.
    assert kept == ["0", "1"]
    assert sorted(result.captured_inputs) == [1, 2, 3]  # layer indices of "0", "1", "2"
    assert result.captured_inputs[2][0] is result.captured[1][0]
    assert all(rec.stats is not None for rec in result.layers)
    last = result.layer("3")
    with torch.no_grad():
        expected = output_stats(model(x))
    assert last.stats == expected


def test_meta_device_trace_gives_shapes_params_and_macs_without_statistics() -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(4096, 11008), nn.SiLU(), nn.Linear(11008, 4096))
    result = trace_model(model, ExampleInput((torch.empty(1, 128, 4096, device="meta"),)))
    assert result.device == "meta"
    assert result.totals.params == 4096 * 11008 * 2 + 11008 + 4096
    assert result.totals.macs == 2 * 128 * 4096 * 11008
    assert result.layer("0").activation == "silu"
    assert all(rec.stats is None and not rec.captured for rec in result.layers)


def test_statistics_match_torch_reference_values() -> None:
    torch.manual_seed(1)
    tensors = [
        torch.randn(3, 50) * 4 + 2,
        torch.randn(3, 50).relu(),
        torch.tensor([[1.0, float("nan"), 0.0, float("inf")]]),
    ]
    stats = describe_tensors(tensors)
    for tensor, got in zip(tensors, stats, strict=True):
        assert got is not None
        finite = tensor[torch.isfinite(tensor)].double()
        assert got.mean == pytest.approx(float(finite.mean()), rel=1e-5)
        assert got.std == pytest.approx(float(finite.std(correction=0)), rel=1e-5)
        assert (got.min, got.max) == (float(finite.min()), float(finite.max()))
        assert got.zero_frac == pytest.approx(float((tensor == 0).double().mean()))
        assert got.nonfinite_frac == pytest.approx(float((~torch.isfinite(tensor)).double().mean()))
    assert stats[2].nonfinite_frac == 0.5


def test_statistics_stay_exact_when_the_mean_dwarfs_the_spread() -> None:
    tensor = 10_000.0 + torch.arange(1000, dtype=torch.float32) * 1e-3
    got = output_stats(tensor)
    assert got is not None
    assert got.std == pytest.approx(float(tensor.double().std(correction=0)), rel=1e-4)
