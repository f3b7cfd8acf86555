"""Each rank's share of the data under torch.distributed, as ``DistributedSampler`` takes it.

Every rank draws the same seeded shuffle; rank ``r`` of ``w`` keeps positions ``r, r + w, r + 2w, ...``.
The training split is padded by repeating the start of the shuffle, so every rank gets the same number
of samples and so the same number of steps (their collectives line up); the validation split is not
padded (nothing steps on it: the ranks add up their sums instead).
"""

from __future__ import annotations

import math

import torch


def shard_length(samples: int, world_size: int) -> int:
    """How many training samples each of ``world_size`` ranks gets from ``samples`` (padded up)."""
    return math.ceil(samples / world_size)


def training_shard(order: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s strided share of ``order``, padded so that every rank's share is as long.

    Args:
        order: this epoch's shuffled sample indices (the same on every rank).
        rank: this process's rank, from 0.
        world_size: the number of ranks.

    Returns:
        ``shard_length(len(order), world_size)`` indices; with one rank, ``order`` itself.
    """
    if world_size == 1:
        return order
    total = shard_length(len(order), world_size) * world_size
    padded = order
    while len(padded) < total:  # more than one round only when there are fewer samples than ranks
        padded = torch.cat((padded, order[: total - len(padded)]))
    return padded[rank:total:world_size]


def validation_rows(samples: int, rank: int, world_size: int) -> slice:
    """The validation rows rank ``rank`` evaluates: every ``world_size``-th from ``rank`` (may be empty)."""
    return slice(rank, samples, world_size)
