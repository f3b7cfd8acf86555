"""``nnview train`` under torchrun: one process per rank, DistributedDataParallel, one agreed fate.

torchrun starts ``nnview train`` once per rank with ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` set. :func:`launch_from_env` reads them; :meth:`Ranks.join`
initialises the process group (gloo on CPU, NCCL on CUDA with ``cuda:LOCAL_RANK``), unless someone
else already did (then it is used and left alone); :meth:`Ranks.attach` gives the trainer its rank's
share of the data and wraps the model in ``DistributedDataParallel``.

Every step the ranks agree, in one all-reduce of a few numbers before backward, on whether any of them
failed or was asked to stop. So a rank whose forward raised or whose loss went NaN never leaves the
others waiting in DDP's gradient all-reduce: every rank ends at the same step with the failing rank's
own message; and a stop (Ctrl+C, SIGTERM, ``nnview watch``) ends every rank after the same step.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from tui.core.records import ErrorRecord, NnviewError
from tui.core.train.setup import resolve_device
from tui.core.train.step_errors import ranks_lost

if TYPE_CHECKING:
    from tui.core.train.trainer import Trainer

TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
VIEWER_STOP = 0  # the stop code of a stop asked from ``nnview watch``; other codes are signal numbers


@dataclass(frozen=True)
class Launch:
    """Where this process stands among the ranks torchrun started."""

    rank: int
    world_size: int
    local_rank: int


def launch_from_env(environ: dict[str, str] | None = None) -> Launch | None:
    """torchrun's rank variables, or ``None`` for a single process (no ``WORLD_SIZE``, or 1).

    A process group someone already initialised is used as it is.

    Raises:
        NnviewError: kind ``input`` when ``WORLD_SIZE`` says several ranks but the rest of
            torchrun's variables are missing or not numbers.
    """
    env = os.environ if environ is None else environ
    if dist.is_available() and dist.is_initialized():
        rank = dist.get_rank()
        return Launch(rank, dist.get_world_size(), _number(env, "LOCAL_RANK", str(rank)))
    if env.get("WORLD_SIZE", "1") == "1":
        return None
    world_size = _number(env, "WORLD_SIZE")
    missing = [name for name in TORCHRUN_VARIABLES if name not in env]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"WORLD_SIZE={world_size} is set but {', '.join(missing)} {verb} not",
                hint="start several ranks with torchrun: torchrun --nproc-per-node 2 -m tui train FILE ..., "
                "or unset WORLD_SIZE to train in one process",
            )
        )
    if not dist.is_available():
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message="this torch build has no torch.distributed",
                hint="train in one process (unset WORLD_SIZE), or install a torch build with distributed support",
            )
        )
    return Launch(_number(env, "RANK"), world_size, _number(env, "LOCAL_RANK"))


def _number(env: Any, name: str, default: str | None = None) -> int:
    text = env.get(name, default)
    if text is None or not text.isdigit():
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"{name}={text!r} is not a rank number",
                hint="start nnview train with torchrun, which sets WORLD_SIZE, RANK and LOCAL_RANK",
            )
        )
    return int(text)


class Ranks:
    """This process's rank among ``world_size``, and the few collectives that keep the ranks in step.

    Attributes:
        rank, world_size, local_rank: as torchrun set them.
        device: this rank's device (``cuda:LOCAL_RANK`` on CUDA).
        requested: this rank's own stop request, read at each step: a signal number,
            :data:`VIEWER_STOP`, or ``None``. The command sets it.
        stop: set on every rank at the same step once any rank asked to stop (the loop's pause).
        stopped_by: ``(rank, code)`` of the request that stopped training.
    """

    def __init__(self, launch: Launch, device: torch.device, owns_group: bool) -> None:
        self.rank, self.world_size, self.local_rank = launch.rank, launch.world_size, launch.local_rank
        self.device = device
        self.owns_group = owns_group
        self.requested: Callable[[], int | None] = lambda: None
        self.stop = threading.Event()
        self.stopped_by: tuple[int, int] | None = None
        self._trainer: Trainer | None = None

    @classmethod
    def join(cls, launch: Launch, device_name: str) -> Ranks:
        """Join the process group torchrun set up (gloo for CPU, NCCL for CUDA), unless one is already up.

        Raises:
            NnviewError: kind ``input`` for a device DDP cannot use here (MPS, a missing GPU).
        """
        device = resolve_device(device_name)
        if device.type == "cuda":
            if launch.local_rank >= torch.cuda.device_count():
                raise NnviewError(
                    ErrorRecord(
                        kind="input",
                        message=f"LOCAL_RANK {launch.local_rank} has no GPU: this machine has "
                        f"{torch.cuda.device_count()}",
                        hint="start at most one rank per GPU (torchrun --nproc-per-node), or use --device cpu",
                    )
                )
            device = torch.device("cuda", launch.local_rank)
            torch.cuda.set_device(device)
        elif device.type != "cpu":
            raise NnviewError(
                ErrorRecord(
                    kind="input",
                    message=f"--device {device.type} cannot train under torchrun",
                    hint="use --device cpu (gloo) or --device cuda (NCCL)",
                )
            )
        if dist.is_initialized():
            return cls(launch, device, owns_group=False)
        if device.type == "cuda":
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
        return cls(launch, device, owns_group=True)

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0: the one that prints and saves."""
        return self.rank == 0

    def close(self, together: bool) -> None:
        """Leave the process group, if this process made it.

        Args:
            together: every rank is ending here (done, or an agreed failure or stop): wait for them
                all first, so that none exits while another still talks to it (gloo then aborts the
                process at exit) and rank 0 has said why before torchrun stops the rest.
        """
        if self._trainer is not None:  # DDP's reducer outliving the group made gloo abort at exit (2 runs in 10)
            self._trainer.train_model, self._trainer = self._trainer.model, None
            gc.collect()
        if not (self.owns_group and dist.is_initialized()):
            return
        if together:
            with contextlib.suppress(RuntimeError):  # a rank gone meanwhile: leave all the same
                dist.barrier(device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        dist.destroy_process_group()

    def attach(self, trainer: Trainer) -> None:
        """Train ``trainer`` on this rank's share, through DDP, agreeing with the other ranks each step."""
        from torch.nn.parallel import DistributedDataParallel

        trainer.share(self.rank, self.world_size)
        device_ids = [self.device] if self.device.type == "cuda" else None
        trainer.train_model = DistributedDataParallel(trainer.model, device_ids=device_ids)
        trainer.agree = self.agree
        self._trainer = trainer

    def agree(self, failure: ErrorRecord | None, values: Sequence[float] = ()) -> list[float]:
        """Tell the other ranks whether this one failed or wants to stop; add up ``values`` over the ranks.

        One all-reduce of ``2 * world_size + len(values)`` numbers. Every rank calls it at the same point.

        Returns:
            The sums of ``values`` over the ranks.

        Raises:
            NnviewError: when any rank failed (every rank raises the first failing rank's error, naming
                it), or when another rank went away without a word (it was killed, or crashed).
        """
        world = self.world_size
        numbers = torch.zeros(2 * world + len(values), dtype=torch.float64)
        numbers[self.rank] = failure is not None
        code = self.requested()
        numbers[world + self.rank] = 0 if code is None else code + 1
        numbers[2 * world :] = torch.tensor(values, dtype=torch.float64)
        numbers = numbers.to(self.device)
        try:
            dist.all_reduce(numbers)
        except RuntimeError as exc:  # gloo says so when a peer's connection closes
            raise ranks_lost(exc, self.rank) from exc
        summed = numbers.cpu().tolist()
        failed = [r for r in range(world) if summed[r]]
        if failed:
            raise NnviewError(self._failure(failed, failure))
        stops = [(r, int(summed[world + r]) - 1) for r in range(world) if summed[world + r]]
        if stops and not self.stop.is_set():
            self.stopped_by = stops[0]
            self.stop.set()
        return [float(v) for v in summed[2 * world :]]

    def _failure(self, failed: list[int], mine: ErrorRecord | None) -> ErrorRecord:
        """The first failing rank's error, sent to every rank, its message naming the rank(s)."""
        first = failed[0]
        shared: list[Any] = [mine if self.rank == first else None]
        try:
            dist.broadcast_object_list(shared, src=first)
        except RuntimeError as exc:
            raise ranks_lost(exc, self.rank) from exc
        record: ErrorRecord = shared[0]
        others = failed[1:]
        also = f" (and rank{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})" if others else ""
        return replace(record, message=f"rank {first}{also}: {record.message}")

    def from_main(self, value: Any) -> Any:
        """Rank 0's ``value``, on every rank (e.g. the run folder's name, made from rank 0's clock)."""
        shared: list[Any] = [value if self.is_main else None]
        dist.broadcast_object_list(shared, src=0)
        return shared[0]
