"""Tracing the zoo: totals, shapes and MACs against plain PyTorch references."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tests.core.zoo import example_inputs
from tui.core.example_input import ExampleInput
from tui.core.trace.tracing import trace_model

ZOO = example_inputs()


def leaf_shapes_seen_by_plain_hooks(model: nn.Module, args: tuple[torch.Tensor, ...]) -> list[tuple[str, list]]:
    """(name, output shapes) for every leaf-module call, from ordinary per-module forward hooks."""
    seen: list[tuple[str, list]] = []
    handles = []
    for name, module in model.named_modules():
        if not any(True for _ in module.children()):

            def hook(mod: nn.Module, inp: object, out: object, name: str = name) -> None:
                leaves = torch.utils._pytree.tree_leaves(out)
                seen.append((name, [tuple(t.shape) for t in leaves if isinstance(t, torch.Tensor)]))

            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()
            model(*args)
    finally:
        for h in handles:
            h.remove()
    return seen


@pytest.mark.parametrize("name", sorted(ZOO))
def test_parameter_total_counts_each_tensor_once(name: str) -> None:
    model, args = ZOO[name]
    result = trace_model(model, ExampleInput(args))
    assert result.totals.params == sum(p.numel() for p in set(model.parameters()))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_leaf_output_shapes_match_plain_forward_hooks(name: str) -> None:
    model, args = ZOO[name]
    result = trace_model(model, ExampleInput(args))
    traced = [(rec.name, [s.shape for s in rec.outputs]) for rec in result.layers if rec.is_leaf and rec.index]
    assert traced == leaf_shapes_seen_by_plain_hooks(model, args)


@pytest.mark.parametrize("name", sorted(set(ZOO) - {"attention", "lstm"}))
def test_macs_equal_flop_counter_mode_halved(name: str) -> None:
    model, args = ZOO[name]
    result = trace_model(model, ExampleInput(args))
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*args)
    assert result.totals.macs == counter.get_total_flops() // 2
    assert result.totals.macs > 0


def test_lstm_macs_count_the_kernel_flop_counter_mode_misses() -> None:
    model, args = ZOO["lstm"]
    result = trace_model(model, ExampleInput(args))
    # 40 tokens (4 x 10); LSTM: 4*16*(8+16) = 1536 per token -> 61,440; head Linear 16->5 per token: 3,200
    assert (result.layer("lstm").macs, result.totals.macs) == (61_440, 64_640)
    # FlopCounterMode on CPU has no formula for aten.mkldnn_rnn_layer: it sees only the head.
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*args)
    assert counter.get_total_flops() // 2 == 3_200


def test_lstm_keeps_all_three_outputs() -> None:
    model, args = ZOO["lstm"]
    lstm = trace_model(model, ExampleInput(args)).layer("lstm")
    assert [s.shape for s in lstm.outputs] == [(4, 10, 16), (1, 4, 16), (1, 4, 16)]
    assert lstm.params == 4 * 16 * (8 + 16) + 2 * 4 * 16


def test_reused_module_appears_once_per_call_and_dict_outputs_are_kept() -> None:
    model, args = ZOO["two_inputs"]
    result = trace_model(model, ExampleInput(args))
    calls = [(rec.name, rec.call) for rec in result.layers]
    assert calls == [("", 0), ("shared", 0), ("shared", 1), ("mix", 0)]
    assert [s.shape for s in result.layers[0].outputs] == [(4, 2), (4, 4)]
    assert [s.shape for s in result.layers[0].inputs] == [(4, 6), (4, 6)]


def test_functional_activations_are_named_on_the_layer_they_follow() -> None:
    model, args = ZOO["functional"]
    result = trace_model(model, ExampleInput(args))
    names = [result.layer(f"layers.{i}").activation for i in range(9)]
    assert names == ["leaky_relu", "sigmoid", "tanh", "gelu", "silu", "elu", "relu", "softmax", "log_softmax"]


def test_conv_branch_with_cat_records_functional_relu_and_channels() -> None:
    model, args = ZOO["conv_cat"]
    result = trace_model(model, ExampleInput(args))
    assert result.layer("bn").activation == "relu"
    assert result.layer("conv1").activation is None  # BatchNorm comes next, not an activation
    assert [s.shape for s in result.layer("merge").inputs] == [(2, 11, 16, 16)]
    assert result.layer("conv2").macs == 2 * 16 * 16 * 8 * 8 * 9


def test_loop_records_every_call_with_its_depth_and_parent() -> None:
    model, args = ZOO["loop"]
    result = trace_model(model, ExampleInput(args))
    again = [rec for rec in result.layers if rec.name == "again"]
    assert [rec.call for rec in again] == [0, 1, 2]
    assert [rec.macs for rec in again] == [400, 400, 400]
    inner = result.layer("blocks.1.0")
    assert (inner.depth, inner.parent, inner.activation) == (2, "blocks.1", "relu")
    assert result.totals.macs == 6 * 400


def test_tied_weights_are_counted_once_in_totals_and_once_per_owner() -> None:
    model, args = ZOO["tied"]
    result = trace_model(model, ExampleInput(args))
    assert result.layer("head").params == 1600
    assert result.layer("embed").params == 1600
    assert result.totals.params == 1600 + 16 * 16 + 16
    assert result.layer("body").activation == "tanh"


def test_attention_macs_are_the_same_by_hand_and_fused() -> None:
    model, args = ZOO["attention"]
    result = trace_model(model, ExampleInput(args))
    # batch 2, 4 heads, 16 queries x 16 keys, head size 8: QK^T and AV are 2*4*16*16*8 MACs each.
    attention_core = 2 * (2 * 4 * 16 * 16 * 8)
    projections = 2 * 16 * (32 * 96 + 32 * 32)  # mha in+out projection
    qkv = 2 * 16 * 32 * 96
    # the module's own ops: the hand-written attention and SDPA, which FlopCounterMode counts as 0 on CPU
    assert result.layer("mha").macs == projections + attention_core
    assert result.layer("qkv").macs == qkv
    assert result.totals.macs == projections + attention_core + qkv + 2 * attention_core
    # FlopCounterMode on CPU counts 0 for F.scaled_dot_product_attention and for the fused
    # nn.MultiheadAttention fast path; it sees only the qkv Linear and the hand-written matmuls.
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*args)
    assert counter.get_total_flops() // 2 == qkv + attention_core
    # On the unfused path (training mode) it counts nn.MultiheadAttention, and agrees with nnview.
    model.mha.train()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.mha(args[0], args[0], args[0])
    assert counter.get_total_flops() // 2 == result.layer("mha").macs


def test_in_place_relu_does_not_overwrite_the_captured_linear_output() -> None:
    model, args = ZOO["inplace"]
    result = trace_model(model, ExampleInput(args))
    fc = result.layer("fc")
    captured = result.captured[fc.index][0]
    with torch.no_grad():
        expected = model.fc(args[0])
    assert torch.equal(captured, expected)
    assert captured.min() < 0  # the pre-ReLU values, negatives included
    assert fc.activation == "relu"
    assert fc.stats is not None and fc.stats.zero_frac == 0.0
    assert result.layer("act").stats.zero_frac == pytest.approx(float((expected <= 0).float().mean()))
