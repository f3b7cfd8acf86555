"""An op that did multiply-accumulates no formula counted is named, so MACs are never silently short."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.records import TraceResult
from tui.core.trace.matmul_flops import looks_like_compute
from tui.core.trace.tracing import trace_model


def trace(model: nn.Module, *inputs: torch.Tensor) -> TraceResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice
        return trace_model(model, ExampleInput(inputs), budget_bytes=0, stats=False)


def dynamic_quantized(model: nn.Module, dtype: torch.dtype = torch.qint8) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear, nn.LSTM}, dtype=dtype)


class SparseMM(nn.Module):
    """``torch.sparse.mm`` of a sparse input: runs ``aten._sparse_addmm``."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(8, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sparse.mm(x.to_sparse(), self.weight)


class SparseMatmul(nn.Module):
    """``@`` with a sparse CSR operand: runs ``aten.mm``, whose dense formula would be wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.weight = nn.Parameter(torch.ones(8, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).to_sparse_csr() @ self.weight


def test_dynamic_quantized_linear_is_named_and_the_rest_still_counts() -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Linear(4, 2))
    quantized = dynamic_quantized(model)
    # Quantize everything but the last layer, which still counts: 3 x 4 x 2 = 24 MACs.
    quantized[3] = model[3]
    result = trace(quantized, torch.randn(3, 8))
    assert result.macs_uncounted == ("quantized.linear_dynamic",)
    assert result.totals.macs == 24
    assert result.to_json()["macs_exact"] is False
    assert result.to_json()["macs_uncounted"] == ["quantized.linear_dynamic"]


def test_packed_quantized_weights_are_named_as_not_counted() -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4), nn.Linear(4, 2))
    quantized = dynamic_quantized(model)
    quantized[3] = model[3]  # a float Linear(4, 2): 10 parameters that do count
    result = trace(quantized, torch.randn(3, 8))
    assert result.totals.params == 10
    assert result.notes == (
        "Not counted: the packed (quantized) weights of 0 (Linear), 2 (Linear); parameter counts see only "
        "nn.Parameters, and quantized modules keep their weights packed.",
    )
    lstm = trace(dynamic_quantized(nn.Sequential(nn.LSTM(8, 16))), torch.randn(5, 3, 8))
    assert lstm.totals.params == 0
    assert lstm.notes[0].startswith("Not counted: the packed (quantized) weights of 0 (LSTM);")
    assert trace(model, torch.randn(3, 8)).notes == ()  # a float model has nothing to say


def test_float16_dynamic_quantized_linear_is_named() -> None:
    result = trace(dynamic_quantized(nn.Sequential(nn.Linear(8, 16)), torch.float16), torch.randn(3, 8))
    assert (result.totals.macs, result.macs_uncounted) == (0, ("quantized.linear_dynamic_fp16",))


def test_dynamic_quantized_lstm_is_named() -> None:
    result = trace(dynamic_quantized(nn.Sequential(nn.LSTM(8, 16))), torch.randn(5, 3, 8))
    assert (result.totals.macs, result.macs_uncounted) == (0, ("aten.quantized_lstm",))


def test_sparse_mm_is_named() -> None:
    result = trace(SparseMM(), torch.randn(4, 8))
    assert (result.totals.macs, result.macs_uncounted) == (0, ("aten._sparse_addmm",))


def test_matmul_with_a_sparse_operand_is_named_not_counted_as_dense() -> None:
    result = trace(SparseMatmul(), torch.randn(4, 8))
    # fc counts: 4 x 8 x 8 = 256; the sparse product is named instead of counted as 4 x 8 x 5 = 160.
    assert (result.totals.macs, result.macs_uncounted) == (256, ("aten.mm (sparse)",))


@pytest.mark.parametrize(
    "model",
    [
        nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Dropout(), nn.BatchNorm1d(10), nn.LayerNorm(10)),
        nn.Sequential(nn.LSTM(8, 16, num_layers=2)),
        nn.Sequential(nn.GRU(8, 16, bidirectional=True)),
    ],
    ids=["linear-relu-norms", "lstm", "gru"],
)
def test_models_that_are_fully_counted_list_nothing(model: nn.Module) -> None:
    x = torch.randn(4, 5) if isinstance(model[0], nn.Linear) else torch.randn(5, 3, 8)
    result = trace(model, x)
    assert result.macs_uncounted == ()
    assert result.to_json()["macs_exact"] is True


def test_matrix_vector_dot_and_bilinear_count() -> None:
    class VectorOps(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(5, 8))
            self.bilinear = nn.Bilinear(4, 5, 6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # mv: 5 x 8 = 40; dot: 8; Bilinear on (2,4),(2,5) -> 6: 2 x 6 x 4 x 5 = 240
            y = self.weight @ x[0] + torch.dot(x[0], x[1])
            return self.bilinear(x[:2, :4], y[:5].expand(2, 5))

    result = trace(VectorOps(), torch.randn(3, 8))
    assert (result.totals.macs, result.macs_uncounted) == (40 + 8 + 240, ())
    assert result.layer("bilinear").macs == 240


@pytest.mark.parametrize(
    "name",
    [
        "quantized.linear_dynamic",
        "quantized.linear_dynamic_fp16",
        "quantized.linear",
        "quantized.linear_relu",
        "quantized.conv2d",
        "quantized.conv_transpose2d",
        "aten._sparse_addmm",
        "aten._sparse_mm",
        "aten.hspmm",
        "aten._int_mm",
        "aten._weight_int8pack_mm",
        "aten.quantized_lstm",
        "aten.quantized_gru",
        "aten.miopen_rnn",
        "aten._transformer_encoder_layer_fwd",
        "aten._scaled_dot_product_fused_attention_overrideable",
        "aten.addmm_",
        "mylib.fused_linear",
    ],
)
def test_compute_ops_are_recognised(name: str) -> None:
    assert looks_like_compute(name)


@pytest.mark.parametrize(
    "name",
    [
        "aten.add",
        "aten.relu",
        "aten.view",
        "aten.mul",
        "aten.sum",
        "aten.embedding",
        "aten.native_layer_norm",
        "aten.upsample_bilinear2d",
        "aten.upsample_linear1d",
        "aten.mvlgamma",
        "aten._convert_indices_from_coo_to_csr",
        "aten.commit",
    ],
)
def test_ops_without_multiply_accumulates_are_not(name: str) -> None:
    assert not looks_like_compute(name)
