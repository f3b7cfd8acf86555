"""Test models that trip up other summary tools: tuple outputs, reuse, functional activations, ties."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class LSTMTagger(nn.Module):
    """Embedding -> LSTM (returns out, (h, c)) -> Linear on every step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.head = nn.Linear(16, 5)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, (_h, _c) = self.lstm(self.embed(ids))
        return self.head(out)


class TwoInputsDictOutput(nn.Module):
    """One Linear reused on two inputs, returning a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Linear(6, 4)
        self.mix = nn.Linear(4, 2)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, torch.Tensor]:
        ha, hb = self.shared(a), self.shared(b)
        return {"sum": self.mix(ha + hb), "diff": ha - hb}


class FunctionalActivations(nn.Module):
    """Every activation written functionally, one per layer."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(8, 8) for _ in range(9))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        l = self.layers  # noqa: E741
        x = F.leaky_relu(l[0](x), 0.1)
        x = torch.sigmoid(l[1](x))
        x = l[2](x).tanh()
        x = F.gelu(l[3](x))
        x = F.silu(l[4](x))
        x = F.elu(l[5](x))
        x = l[6](x).relu()
        x = F.softmax(l[7](x), dim=-1)
        return F.log_softmax(l[8](x), dim=-1)


class ConvSkipCat(nn.Module):
    """Two conv branches concatenated with the input, then a 1x1 conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.merge = nn.Conv2d(3 + 8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(F.relu(self.bn(self.conv1(x))))
        return self.merge(torch.cat([x, y], dim=1))


class LoopOverModuleList(nn.Module):
    """A ModuleList applied in a loop, plus one layer applied three times."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(10, 10), nn.ReLU()) for _ in range(3))
        self.again = nn.Linear(10, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        for _ in range(3):
            x = self.again(x)
        return x


class TiedLanguageModel(nn.Module):
    """Embedding and output head share one weight tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.body = nn.Linear(16, 16)
        self.head = nn.Linear(16, 100, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.body(self.embed(ids))))


class Attention(nn.Module):
    """nn.MultiheadAttention, then the same attention written with matmuls, then SDPA."""

    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
        self.qkv = nn.Linear(32, 96)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.mha(x, x, x)
        q, k, v = self.qkv(y).view(2, 16, 3, 4, 8).permute(2, 0, 3, 1, 4)
        by_hand = F.softmax(q @ k.transpose(-2, -1) / 8**0.5, dim=-1) @ v
        fused = F.scaled_dot_product_attention(q, k, v)
        return by_hand + fused


class InPlaceRelu(nn.Module):
    """A Linear whose output is then overwritten by an in-place ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.act = nn.ReLU(inplace=True)
        self.out = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.fc(x)))


def example_inputs() -> dict[str, tuple[nn.Module, tuple[torch.Tensor, ...]]]:
    """Each zoo model with its example positional inputs, seeded."""
    torch.manual_seed(0)
    return {
        "lstm": (LSTMTagger(), (torch.randint(0, 50, (4, 10)),)),
        "two_inputs": (TwoInputsDictOutput(), (torch.randn(4, 6), torch.randn(4, 6))),
        "functional": (FunctionalActivations(), (torch.randn(4, 8),)),
        "conv_cat": (ConvSkipCat(), (torch.randn(2, 3, 16, 16),)),
        "loop": (LoopOverModuleList(), (torch.randn(4, 10),)),
        "tied": (TiedLanguageModel(), (torch.randint(0, 100, (4, 12)),)),
        "attention": (Attention(), (torch.randn(2, 16, 32),)),
        "inplace": (InPlaceRelu(), (torch.randn(8, 4),)),
    }
