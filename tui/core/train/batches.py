"""Mini-batches from a shuffled order, gathered a block at a time.

Gathering 32 shuffled rows (and moving them to the model's device and dtype) costs more than a small
model's whole step, so the rows of up to ``BLOCK_BATCHES`` batches (at most ``BLOCK_BYTES`` of features)
are gathered at once and each batch is a slice of that block. A new order (the next epoch, a reset,
a new batch size) starts a new block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from tui.core.load.datasets import TrainingData

BLOCK_BATCHES = 64
BLOCK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Block:
    """Rows ``order[start:stop]`` of the training split, gathered and converted."""

    order: torch.Tensor
    start: int
    stop: int
    x: torch.Tensor
    y: torch.Tensor


def next_batch(
    data: TrainingData,
    order: torch.Tensor,
    position: int,
    size: int,
    block: Block | None,
    convert: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, torch.Tensor, Block]:
    """The batch ``order[position:position + size]``, from ``block`` if it holds it, else from a new block.

    Args:
        data: the training split (``x_train``, ``y_train``).
        order: this epoch's shuffled sample indices.
        position: where in ``order`` the batch starts.
        size: the batch size (the last batch of an epoch may be shorter).
        block: the block the previous batch came from, if any.
        convert: puts gathered features and targets on the model's device and in its dtype.

    Returns:
        The features, the targets, and the block they are slices of (to pass back next time).
    """
    start, end = position, min(position + size, len(order))
    if block is None or block.order is not order or not block.start <= start < end <= block.stop:
        sample_bytes = max(1, data.x_train[:1].nelement() * data.x_train.element_size())
        batches = max(1, min(BLOCK_BATCHES, BLOCK_BYTES // (sample_bytes * size)))
        stop = min(start + size * batches, len(order))
        picks = order[start:stop]
        block = Block(order, start, stop, *convert(data.x_train[picks], data.y_train[picks]))
    lo, hi = start - block.start, end - block.start
    return block.x[lo:hi], block.y[lo:hi], block
