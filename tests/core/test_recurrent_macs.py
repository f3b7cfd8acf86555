"""Recurrent layers count the same MACs on CPU (float32, bfloat16, float64), on meta and through cuDNN.

The convention (tui/core/trace/rnn_flops.py), per token (time step x batch item), per layer, per direction:

    gates x H x (layer_input + hidden_out)  [+ proj x H with proj_size]

gates = 4 (LSTM), 3 (GRU), 1 (RNN); layer_input = input_size for layer 0, hidden_out x directions
above it; hidden_out = proj_size or H. Each expected figure below is that formula worked by hand.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils._python_dispatch import TorchDispatchMode

from tui.core.example_input import ExampleInput
from tui.core.trace.opwatch import FLOP_FORMULAS, OpWatcher
from tui.core.trace.tracing import trace_model

aten = torch.ops.aten

# (name, module factory, input shape, expected MACs derived by hand)
CASES: list[tuple[str, Callable[[], nn.Module], tuple[int, ...], int]] = [
    # 15 tokens (T=5, B=3) x 4*16*(8+16) = 15 x 1536
    ("lstm", lambda: nn.LSTM(8, 16), (5, 3, 8), 23_040),
    # 15 x (layer 0: 4*16*(8+16) = 1536, layer 1: 4*16*(16+16) = 2048) = 15 x 3584
    ("lstm-2-layers", lambda: nn.LSTM(8, 16, num_layers=2), (5, 3, 8), 53_760),
    # 15 x 2 directions x 1536
    ("lstm-bidirectional", lambda: nn.LSTM(8, 16, bidirectional=True), (5, 3, 8), 46_080),
    # per direction, layer 0: 4*16*(8+4) + 4*16 = 832; layer 1 (input 2*4 = 8): 832 again;
    # 15 x 2 x (832 + 832) = 15 x 3328
    ("lstm-proj-2-layers-bi", lambda: nn.LSTM(8, 16, 2, bidirectional=True, proj_size=4), (5, 3, 8), 49_920),
    # B=3, T=5 batch first: still 15 tokens x 1536
    ("lstm-batch-first", lambda: nn.LSTM(8, 16, batch_first=True), (3, 5, 8), 23_040),
    # biases are not MACs: the same 15 x 1536
    ("lstm-no-bias", lambda: nn.LSTM(8, 16, bias=False), (5, 3, 8), 23_040),
    # unbatched (T=5, I=8): 5 tokens x 1536
    ("lstm-unbatched", lambda: nn.LSTM(8, 16), (5, 8), 7_680),
    # 15 x 3*16*(8+16) = 15 x 1152
    ("gru", lambda: nn.GRU(8, 16), (5, 3, 8), 17_280),
    # per direction: layer 0 1152, layer 1 3*16*(32+16) = 2304; 15 x 2 x 3456
    ("gru-2-layers-bi", lambda: nn.GRU(8, 16, 2, bidirectional=True), (5, 3, 8), 103_680),
    # 15 x 16*(8+16) = 15 x 384
    ("rnn-tanh", lambda: nn.RNN(8, 16), (5, 3, 8), 5_760),
    # layers: 16*(8+16) = 384, 16*(16+16) = 512, 512; 15 x 1408
    (
        "rnn-relu-3-layers-batch-first",
        lambda: nn.RNN(8, 16, 3, nonlinearity="relu", batch_first=True),
        (3, 5, 8),
        21_120,
    ),
    # 3 items x 4*16*(8+16)
    ("lstm-cell", lambda: nn.LSTMCell(8, 16), (3, 8), 4_608),
    # one item
    ("lstm-cell-unbatched", lambda: nn.LSTMCell(8, 16), (8,), 1_536),
    # 3 x 3*16*(8+16)
    ("gru-cell", lambda: nn.GRUCell(8, 16), (3, 8), 3_456),
    # 3 x 16*(8+16)
    ("rnn-cell-tanh", lambda: nn.RNNCell(8, 16), (3, 8), 1_152),
    ("rnn-cell-relu-no-bias", lambda: nn.RNNCell(8, 16, bias=False, nonlinearity="relu"), (3, 8), 1_152),
]

DEVICES = [("cpu", torch.float32), ("cpu", torch.bfloat16), ("cpu", torch.float64), ("meta", torch.float32)]


def traced_macs(make: Callable[[], nn.Module], example: Any, device: str, dtype: torch.dtype) -> tuple[int, int]:
    """(total MACs, the recurrent layer's own MACs) of one trace, with no ops left uncounted."""
    torch.manual_seed(0)
    model = nn.Sequential(make()).to(device=device, dtype=dtype)
    if isinstance(example, torch.Tensor):
        example = example.to(device=device, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN"
        result = trace_model(model, ExampleInput((example,)), budget_bytes=0, stats=False)
    assert result.macs_uncounted == ()
    return result.totals.macs, result.layer("0").macs


@pytest.mark.parametrize(("name", "make", "shape", "expected"), CASES, ids=[c[0] for c in CASES])
def test_recurrent_macs_equal_the_formula_on_every_device(
    name: str, make: Callable[[], nn.Module], shape: tuple[int, ...], expected: int
) -> None:
    for device, dtype in DEVICES:
        got = traced_macs(make, torch.randn(shape), device, dtype)
        assert got == (expected, expected), f"{name} on {device} {dtype}"


def test_packed_sequence_counts_only_real_tokens() -> None:
    # lengths 5, 3, 2: 10 real tokens (not 15); 2-layer LSTM: 10 x 3584
    for device in ("cpu", "meta"):
        data = torch.randn(5, 3, 8, device=device)
        packed = pack_padded_sequence(data, torch.tensor([5, 3, 2]))
        assert traced_macs(lambda: nn.LSTM(8, 16, num_layers=2), packed, device, torch.float32) == (35_840, 35_840)


class _OpNames(TorchDispatchMode):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.names: set[str] = set()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.names.add(str(func._overloadpacket))
        return func(*args, **(kwargs or {}))


def test_cpu_float32_lstm_really_runs_the_onednn_kernel() -> None:
    # Guards the test above: the float32 figure comes from the mkldnn_rnn_layer formula, not addmm.
    probe = _OpNames()
    with torch.no_grad(), probe:
        nn.LSTM(8, 16).eval()(torch.randn(5, 3, 8))
    assert "aten.mkldnn_rnn_layer" in probe.names
    assert "aten.addmm" not in probe.names


def watched(run: Callable[[], Any]) -> tuple[int, set[str]]:
    """(MACs, uncounted ops) the OpWatcher sees while ``run`` runs."""
    flops: list[int] = []
    watcher = OpWatcher(flops.append, lambda *args: None, lambda tensor: None)
    with torch.no_grad(), watcher:
        run()
    return sum(flops) // 2, watcher.uncounted


def cudnn_call(module: nn.RNNBase, x: torch.Tensor, batch_sizes: tuple[int, ...] = ()) -> Any:
    """Call cuDNN's kernel as torch would for ``module``, on meta tensors (meta has its shape kernel)."""
    mode = {"RNN_RELU": 0, "RNN_TANH": 1, "LSTM": 2, "GRU": 3}[module.mode]
    layers, dirs, hidden = module.num_layers, 2 if module.bidirectional else 1, module.hidden_size
    proj = module.proj_size
    batch = batch_sizes[0] if batch_sizes else x.shape[0 if module.batch_first else 1]
    weights = module._flat_weights
    hx = torch.empty(layers * dirs, batch, proj or hidden, device="meta")
    cx = torch.empty(layers * dirs, batch, hidden, device="meta") if mode == 2 else None
    stride0 = len(weights) // (layers * dirs)
    return aten._cudnn_rnn(
        x, weights, stride0, None, hx, cx, mode, hidden, proj, layers, module.batch_first, 0.0, False,
        module.bidirectional, list(batch_sizes), None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("make", "shape", "batch_sizes", "expected"),
    [
        (lambda: nn.LSTM(8, 16, num_layers=2), (5, 3, 8), (), 53_760),
        (lambda: nn.LSTM(8, 16, 2, bidirectional=True, proj_size=4), (5, 3, 8), (), 49_920),
        (lambda: nn.GRU(8, 16, 2, bidirectional=True, batch_first=True), (3, 5, 8), (), 103_680),
        # packed: 10 rows (batch sizes 3, 3, 2, 1, 1) x 16*(8+16) = 10 x 384
        (lambda: nn.RNN(8, 16), (10, 8), (3, 3, 2, 1, 1), 3_840),
    ],
)
def test_cudnn_kernel_counts_the_same_as_cpu_and_meta(
    make: Callable[[], nn.Module], shape: tuple[int, ...], batch_sizes: tuple[int, ...], expected: int
) -> None:
    module = make().to("meta")
    x = torch.empty(shape, device="meta")
    assert watched(lambda: cudnn_call(module, x, batch_sizes)) == (expected, set())  # type: ignore[arg-type]


def test_fused_cuda_cell_gate_math_is_zero_macs_and_not_uncounted() -> None:
    gates, state, bias = (
        torch.empty(3, 64, device="meta"),
        torch.empty(3, 16, device="meta"),
        torch.empty(64, device="meta"),
    )
    assert watched(lambda: aten._thnn_fused_lstm_cell(gates, gates, state, bias, bias)) == (0, set())
    # The GRU one has no meta kernel to run: its formula is checked directly.
    assert FLOP_FORMULAS[aten._thnn_fused_gru_cell](gates[:, :48], gates[:, :48], state) == 0
