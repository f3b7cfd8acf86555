"""Which process this is: rank and world size under torch.distributed (or torchrun's environment), and
the few collectives the probe needs so every rank acts at the same step."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist


def distributed() -> bool:
    """Whether a process group is up (then the probe's decisions are shared by collectives)."""
    return dist.is_available() and dist.is_initialized()


def rank_and_world(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """The given values, else the process group's, else torchrun's ``RANK``/``WORLD_SIZE``, else 0 and 1."""
    if distributed():
        rank = dist.get_rank() if rank is None else rank
        world_size = dist.get_world_size() if world_size is None else world_size
    if rank is None:
        rank = int(os.environ.get("RANK", "0") or 0)
    if world_size is None:
        world_size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    return rank, world_size


def _collective_device() -> torch.device:
    """Where a collective's tensor must live: the current GPU under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def share_from_rank0(values: list[int]) -> list[int]:
    """Rank 0's ``values`` on every rank (one small broadcast); as given without a process group."""
    if not distributed() or dist.get_world_size() == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.int64, device=_collective_device())
    dist.broadcast(tensor, src=0)
    return [int(v) for v in tensor.tolist()]


def share_object_from_rank0(value: Any) -> Any:
    """Rank 0's ``value`` (a small picklable object) on every rank; as given without a process group."""
    if not distributed() or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
