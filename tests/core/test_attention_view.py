"""The attention view's numbers: what a trace keeps of a softmax over scores or an sdpa call, and the maps of it."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.explain.attention import attention_map, attention_sources, top_keys
from tui.core.records import NnviewError, TraceResult
from tui.core.trace.tracing import trace_model

X = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]  # three positions of width 2
WQ = [[1.0, 0.0], [0.0, 2.0]]  # q = x Wqᵀ: (1, 0), (0, 2), (1, 2)
WK = [[1.0, 1.0], [0.0, 1.0]]  # k = x Wkᵀ: (1, 0), (1, 1), (2, 1)


class HandAttention(nn.Module):
    """One head of width 2 with known weights: softmax(q·kᵀ/√2) written out, or F.scaled_dot_product_attention."""

    def __init__(self, sdpa: bool = False, causal: bool = True) -> None:
        super().__init__()
        self.sdpa, self.causal = sdpa, causal
        self.q, self.k, self.v = (nn.Linear(2, 2, bias=False) for _ in range(3))
        with torch.no_grad():
            self.q.weight.copy_(torch.tensor(WQ))
            self.k.weight.copy_(torch.tensor(WK))
            self.v.weight.copy_(torch.eye(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (layer(x).unsqueeze(1) for layer in (self.q, self.k, self.v))  # (N, 1 head, T, 2)
        if self.sdpa:
            return F.scaled_dot_product_attention(q, k, v, is_causal=self.causal).squeeze(1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(2)
        if self.causal:
            scores = scores.masked_fill(~torch.ones(3, 3, dtype=torch.bool).tril(), float("-inf"))
        return (F.softmax(scores, dim=-1) @ v).squeeze(1)


def manual(causal: bool) -> list[list[float]]:
    """softmax(q·kᵀ/√2) by hand, in plain Python: row i is query i, column j key j."""
    q = [[sum(x * w for x, w in zip(row, weights, strict=True)) for weights in WQ] for row in X]
    k = [[sum(x * w for x, w in zip(row, weights, strict=True)) for weights in WK] for row in X]
    rows = []
    for i in range(3):
        scores = [sum(a * b for a, b in zip(q[i], k[j], strict=True)) / math.sqrt(2) for j in range(3)]
        exps = [math.exp(s) if j <= i or not causal else 0.0 for j, s in enumerate(scores)]
        rows.append([e / sum(exps) for e in exps])
    return rows


def trace(model: nn.Module, *args: torch.Tensor, budget_bytes: int = 1 << 28) -> TraceResult:
    return trace_model(model, ExampleInput(args=args), budget_bytes=budget_bytes)


def x_batch() -> torch.Tensor:
    return torch.tensor([X, [[0.5, 0.5]] * 3], dtype=torch.float64)  # the hand-made rows are sample 0


@pytest.mark.parametrize("sdpa", [False, True], ids=["softmax", "sdpa"])
def test_a_causal_head_is_softmax_of_q_k_over_root_d_with_zeros_above_the_diagonal(sdpa: bool) -> None:
    model = nn.Sequential(HandAttention(sdpa=sdpa)).double()
    result = trace(model, x_batch())
    assert sorted(result.attention) == [result.layer("0").index]
    amap = attention_map(result, model, result.layer("0").index, 0)
    expected = manual(causal=True)
    assert expected[0] == [1.0, 0.0, 0.0] and expected[1][0] == pytest.approx(1 / (1 + math.exp(math.sqrt(2))))
    assert amap.grid(0) == tuple(tuple(pytest.approx(v, abs=1e-12) for v in row) for row in expected)
    assert [math.fsum(row) for row in amap.grid(0)] == [pytest.approx(1.0, abs=1e-12)] * 3
    assert [amap.grid(0)[i][j] for i, j in ((0, 1), (0, 2), (1, 2))] == [0.0, 0.0, 0.0]  # exactly
    assert (amap.heads, amap.queries, amap.keys, amap.batch, amap.sample, amap.causal) == (1, 3, 3, 2, 0, True)
    assert amap.layer == amap.source == "0"
    how = "recomputed from q, k of sdpa: softmax(q·kᵀ × 1/√d)" if sdpa else "softmax over (2, 1, 3, 3)"
    assert amap.how == how and amap.tokens == ()
    # The container holds one attention layer: its view is that layer's.
    whole = attention_map(result, model, 0, 1)
    assert (whole.layer, whole.source, whole.sample) == ("Sequential", "0", 1)
    assert whole.grid(0)[2] == pytest.approx([1 / 3, 1 / 3, 1 / 3], abs=1e-12)  # equal inputs: equal scores


def test_without_a_mask_every_key_takes_part() -> None:
    model = HandAttention(causal=False).double()
    amap = attention_map(trace(model, x_batch()), model, 0, 0)
    assert amap.grid(0) == tuple(tuple(pytest.approx(v, abs=1e-12) for v in row) for row in manual(causal=False))
    assert not amap.causal and min(min(row) for row in amap.grid(0)) > 0


class Masked(nn.Module):
    """sdpa with the mask, scale and grouped heads a caller may give it."""

    def __init__(self, mask: torch.Tensor | None, scale: float | None, gqa: bool = False) -> None:
        super().__init__()
        self.mask, self.scale, self.gqa = mask, scale, gqa

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask, scale=self.scale, enable_gqa=self.gqa)


def reference(q: torch.Tensor, k: torch.Tensor, scale: float, mask: torch.Tensor | None) -> torch.Tensor:
    k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf) if mask.dtype == torch.bool else scores + mask
    return torch.softmax(scores, dim=-1)


@pytest.mark.parametrize(
    ("mask", "scale", "kv_heads"),
    [
        (torch.tensor([[True, False, True]] * 3), 0.3, 4),
        (torch.tensor([[0.0, -1.0, 2.0]] * 3, dtype=torch.float64), None, 4),
        (None, None, 2),
    ],
    ids=["bool-mask-and-scale", "float-mask", "grouped-query"],
)
def test_sdpa_is_recomputed_from_q_k_mask_and_scale(
    mask: torch.Tensor | None, scale: float | None, kv_heads: int
) -> None:
    generator = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, 3, 8, generator=generator, dtype=torch.float64)
    k, v = (torch.randn(2, kv_heads, 3, 8, generator=generator, dtype=torch.float64) for _ in range(2))
    model = Masked(mask, scale, gqa=kv_heads != 4)
    result = trace(model, q, k, v)
    amap = attention_map(result, model, 0, 1)
    expected = reference(q, k, scale if scale is not None else 1 / math.sqrt(8), mask)[1]
    assert amap.heads == 4 and torch.allclose(amap.weights, expected, atol=1e-12, rtol=0)
    assert torch.allclose(amap.weights.sum(-1), torch.ones(4, 3, dtype=torch.float64), atol=1e-12, rtol=0)
    if mask is not None and mask.dtype == torch.bool:
        assert amap.weights[:, :, 1].abs().max().item() == 0.0 and amap.how.startswith(
            "recomputed from q, k of sdpa: softmax(q·kᵀ × 0.3 + mask"
        )


class MultiHead(nn.Module):
    def __init__(self, need_weights: bool) -> None:
        super().__init__()
        self.need_weights = need_weights
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=self.need_weights)[0]


@pytest.mark.parametrize("need_weights", [True, False], ids=["softmax-3d", "sdpa"])
def test_multihead_attention_maps_equal_its_own_weights_per_head(need_weights: bool) -> None:
    torch.manual_seed(0)
    model = MultiHead(need_weights).double().eval()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    result = trace(model, x)
    index = result.layer("mha").index
    assert attention_sources(result, index) == (index,) and attention_sources(result, 0) == (index,)
    amap = attention_map(result, model, index, 1)
    with torch.no_grad():
        own = model.mha(x, x, x, need_weights=True, average_attn_weights=False)[1][1]
    assert (amap.heads, amap.batch, amap.queries, amap.keys) == (2, 2, 5, 5)
    assert torch.allclose(amap.weights, own, atol=1e-12, rtol=0)
    assert amap.how == (
        "softmax over (4, 5, 5)" if need_weights else "recomputed from q, k of sdpa: softmax(q·kᵀ × 1/√d)"
    )


def test_a_causal_transformer_layer_runs_sdpa_and_its_map_is_causal() -> None:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0).double().eval()
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)

    class Causal(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x, src_mask=mask, is_causal=True)

    model = Causal()
    result = trace(model, x)
    amap = attention_map(result, model, result.layer("layer").index, 0)
    with torch.no_grad():
        own = layer.self_attn(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)[1][0]
    assert amap.source == "layer.self_attn" and amap.causal
    assert torch.allclose(amap.weights, own, atol=1e-12, rtol=0)


def test_the_map_shows_the_softmax_even_when_forward_overwrites_it_in_place() -> None:
    class Overwrites(HandAttention):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q, k = self.q(x).unsqueeze(1), self.k(x).unsqueeze(1)
            weights = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(2), dim=-1)
            return weights.mul_(0.0).squeeze(1)

    model = Overwrites().double()
    amap = attention_map(trace(model, x_batch()), model, 0, 0)
    assert amap.grid(0) == tuple(tuple(pytest.approx(v, abs=1e-12) for v in row) for row in manual(causal=False))


def test_token_ids_label_the_positions() -> None:
    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 2)
            self.attn = HandAttention()

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.attn(self.embed(ids))

    model = Tokens()
    result = trace(model, torch.tensor([[7, 3, 9], [1, 2, 4]]))
    assert attention_map(result, model, result.layer("attn").index, 1).tokens == (1, 2, 4)


def test_softmax_that_is_not_over_scores_is_not_attention() -> None:
    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            probabilities = F.softmax(self.fc(x), dim=-1)  # 2-D: classes, not keys
            return probabilities + F.softmax(x.reshape(2, 2, 1, 2), dim=1).sum()  # 4-D, but over dim 1

    model = Classifier()
    result = trace(model, torch.randn(2, 4))
    assert result.attention == {}
    with pytest.raises(NnviewError) as raised:
        attention_map(result, model, result.layer("fc").index, 0)
    assert raised.value.record.message == (
        "fc is a Linear: no softmax over scores and no scaled_dot_product_attention ran in it"
    )
    assert raised.value.record.hint == (
        "select an attention layer: one whose forward runs softmax(q·kᵀ) or F.scaled_dot_product_attention"
    )


def test_a_layer_holding_two_attention_layers_asks_for_one() -> None:
    model = nn.Sequential(HandAttention(), HandAttention())
    result = trace(model, torch.tensor([X]))
    with pytest.raises(NnviewError) as raised:
        attention_map(result, model, 0, 0)
    assert raised.value.record.message == "Sequential holds 2 attention layers: 0, 1"
    assert raised.value.record.hint == "select one of them"


def test_attention_past_its_quarter_of_the_budget_is_not_kept_and_takes_nothing_from_layer_outputs() -> None:
    model = HandAttention(causal=False).double()
    x = torch.tensor([X] * 8, dtype=torch.float64)  # probabilities: 8 x 1 x 3 x 3 x 8 bytes = 576
    result = trace(model, x, budget_bytes=2000)  # a quarter: 500 bytes
    assert not result.budget_exceeded and result.attention[0].tensors == ()
    assert sorted(result.captured) == [0, 1, 2, 3]  # every layer output still kept (with x: 5 x 384 bytes)
    with pytest.raises(NnviewError) as raised:
        attention_map(result, model, 0, 0)
    assert raised.value.record.message == (
        "the attention of HandAttention was not kept (past a quarter of the memory budget)"
    )
    assert raised.value.record.hint == "raise --budget-mb or trace a smaller batch"
    kept = trace(model, x, budget_bytes=2304)  # a quarter: 576 bytes, just enough
    assert attention_map(kept, model, 0, 7).grid(0)[0] == pytest.approx(manual(causal=False)[0], abs=1e-12)


def test_top_keys_are_the_largest_weights_earliest_first_on_a_tie() -> None:
    assert top_keys((0.1, 0.4, 0.0, 0.4, 0.1), 3) == ((1, 0.4), (3, 0.4), (0, 0.1))
    keys = top_keys((0.2, float("nan"), 0.8), 5)  # NaN (a fully masked row) last
    assert [key for key, _ in keys] == [2, 0, 1] and keys[:2] == ((2, 0.8), (0, 0.2)) and math.isnan(keys[2][1])


def test_on_the_meta_device_attention_is_found_but_has_no_numbers() -> None:
    model = HandAttention(causal=False).to("meta")
    result = trace(model, torch.empty(2, 3, 2, device="meta"))
    assert result.attention[0].shape == (2, 1, 3, 3) and result.attention[0].tensors == ()
    with pytest.raises(NnviewError) as raised:
        attention_map(result, model, 0, 0)
    assert raised.value.record.message == (
        "the attention of HandAttention was not kept (traced on the meta device: shapes only)"
    )
    assert raised.value.record.hint == "trace without --meta"
