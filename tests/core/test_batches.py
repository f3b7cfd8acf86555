"""Mini-batches gathered a block at a time are exactly the rows of the shuffled order, block or no block."""

from __future__ import annotations

import pytest
import torch

from tui.core.load.datasets import TrainingData
from tui.core.train import batches
from tui.core.train.batches import next_batch


def data(samples: int = 100, features: int = 3) -> TrainingData:
    x = torch.arange(samples * features, dtype=torch.float32).reshape(samples, features)
    y = torch.arange(samples)
    return TrainingData(x, y, x[:10], y[:10], classes=samples, source="test rows")


def doubled(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x * 2, y  # stands for "to the model's device and dtype": visible in the result


def test_every_batch_is_the_order_s_rows_and_a_block_serves_several_batches() -> None:
    d = data()
    order = torch.randperm(100, generator=torch.Generator().manual_seed(0))
    block, blocks, position = None, [], 0
    while position < 100:
        x, y, block = next_batch(d, order, position, 32, block, doubled)
        picks = order[position : position + 32]
        assert torch.equal(x, d.x_train[picks] * 2) and torch.equal(y, d.y_train[picks])
        blocks.append(block)
        position += 32
    assert [len(y) for y in (d.y_train[order[p : p + 32]] for p in range(0, 100, 32))] == [32, 32, 32, 4]
    assert len({id(b) for b in blocks}) == 1  # 100 rows of 12 bytes: one block holds the epoch
    new_order = torch.randperm(100, generator=torch.Generator().manual_seed(1))
    x, _, fresh = next_batch(d, new_order, 0, 32, block, doubled)  # the next epoch: a new block
    assert fresh is not block and torch.equal(x, d.x_train[new_order[:32]] * 2)


def test_blocks_stay_within_the_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    d = data(samples=100, features=1000)  # 4,000 bytes a sample
    order = torch.arange(100)
    monkeypatch.setattr(batches, "BLOCK_BYTES", 4000 * 10 * 3)  # three batches of 10
    block = None
    seen = []
    for position in range(0, 100, 10):
        x, _, block = next_batch(d, order, position, 10, block, doubled)
        seen.append((block.start, block.stop))
        assert torch.equal(x, d.x_train[position : position + 10] * 2)
    assert sorted(set(seen)) == [(0, 30), (30, 60), (60, 90), (90, 100)]
