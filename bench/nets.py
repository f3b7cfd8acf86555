"""The four models ``bench/trace.py`` times, each at full size and at a tiny ``quick`` size.

Every builder seeds torch, puts the model in eval mode and returns ``(model, example_input)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

GPT2_SMALL_PARAMS = 124_439_808  # GPT-2 small with the LM head tied to the token embedding


def fashion_mlp(quick: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """The seed's FashionMNIST net: Flatten, 784 -> 512 -> ReLU -> 512 -> ReLU -> 10; input (64, 1, 28, 28)."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 512),
        nn.ReLU(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )
    return model.eval(), torch.rand(8 if quick else 64, 1, 28, 28)


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (identity, or 1x1 conv + BN when the shape changes), then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """Stem conv 3 -> width, then ``blocks`` basic blocks in three stages (widths w, 2w, 4w; stride 2 between)."""

    def __init__(self, blocks: int = 50, width: int = 32, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        per_stage = [blocks // 3 + (1 if i < blocks % 3 else 0) for i in range(3)]
        layers: list[nn.Module] = []
        cin = width
        for stage, count in enumerate(per_stage):
            cout = width * 2**stage
            for i in range(count):
                layers.append(BasicBlock(cin, cout, stride=2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


def resnet(quick: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """ResNet-style CNN with 50 basic blocks (5 when quick); input (8, 3, 32, 32) ((2, 3, 16, 16) when quick)."""
    torch.manual_seed(0)
    model = ResNet(blocks=5, width=8) if quick else ResNet(blocks=50, width=32)
    return model.eval(), torch.rand(*((2, 3, 16, 16) if quick else (8, 3, 32, 32)))


class CausalSelfAttention(nn.Module):
    """One qkv Linear, causal ``scaled_dot_product_attention``, an output projection."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(batch, length, self.heads, width // self.heads).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(batch, length, width))


class GPTBlock(nn.Module):
    """Pre-LN block: x + attn(ln1(x)), then x + mlp(ln2(x)) with a GELU MLP of 4x width."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Token + position embeddings, ``layers`` blocks, final LayerNorm, LM head tied to the token embedding."""

    def __init__(self, vocab: int = 50257, context: int = 1024, width: int = 768, layers: int = 12, heads: int = 12):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(GPTBlock(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.tok.weight  # tied: one tensor

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.tok(ids) + self.pos(positions)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def gpt(quick: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """GPT-2 small (12 layers, d=768, 124,439,808 parameters), ids (1, 128); quick: 2 layers, d=64, vocab 1000."""
    torch.manual_seed(0)
    if quick:
        model = GPT(vocab=1000, context=64, width=64, layers=2, heads=4)
        ids = torch.randint(0, 1000, (1, 32))
    else:
        model = GPT()
        ids = torch.randint(0, 50257, (1, 128))
    return model.eval(), ids


def deep_mlp(quick: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """``nn.Sequential`` of 2,500 x (Linear(64, 64), ReLU()) = 5,000 modules (100 pairs when quick); input (16, 64)."""
    torch.manual_seed(0)
    pairs = 100 if quick else 2500
    model = nn.Sequential(*(m for _ in range(pairs) for m in (nn.Linear(64, 64), nn.ReLU())))
    return model.eval(), torch.rand(16, 64)


BUILDERS: dict[str, Callable[[bool], tuple[nn.Module, torch.Tensor]]] = {
    "MLP (FashionMNIST)": fashion_mlp,
    "ResNet, 50 blocks": resnet,
    "GPT-2 small, 12 layers": gpt,
    "Deep MLP, 5,000 modules": deep_mlp,
}


def distinct_params(model: nn.Module) -> int:
    """Parameters with each shared tensor counted once."""
    return sum(p.numel() for p in set(model.parameters()))
