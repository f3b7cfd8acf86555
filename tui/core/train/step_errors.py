"""What a failed training step says: the first layer gone NaN, where the user's code raised, or a lost rank."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.guest.usercode import describe_exception, user_location
from tui.core.records import ErrorRecord, NnviewError
from tui.core.trace.tracing import trace_model

# What a collective raises when a peer is gone: gloo's "Connection reset by peer", NCCL's watchdog. Through
# DDP's backward it comes as a plain RuntimeError, so its text is read too.
COLLECTIVE_WORDS = ("gloo", "nccl", "connection reset", "connection closed")


LOST = "lost touch with the other ranks"


def ranks_lost(exc: BaseException, rank: int) -> NnviewError:
    """Rank ``rank`` found the others gone (killed, or crashed) in a collective that raised ``exc``."""
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return NnviewError(
        ErrorRecord(
            kind="forward",
            message=f"rank {rank} {LOST} ({said})",
            hint="another rank ended or was killed: its own output says why; fix that and start torchrun again",
        )
    )


def is_ranks_lost(error: ErrorRecord) -> bool:
    """Whether ``error`` says this rank lost the others: rank 0 cannot have said it for this rank."""
    return error.kind == "forward" and LOST in error.message and error.message.startswith("rank ")


def is_collective_failure(exc: BaseException) -> bool:
    """Whether ``exc`` came from a collective (a peer gone) rather than from the user's code."""
    if dist.is_available() and isinstance(exc, getattr(dist, "DistError", ())):
        return True
    text = str(exc).lower()
    return any(word in text for word in COLLECTIVE_WORDS)


def non_finite_loss(model: nn.Module, x: torch.Tensor, loss: float, step: int) -> NnviewError:
    """Name the first layer whose output is NaN or infinite on this batch (``step`` counts from 1)."""
    result = trace_model(model, ExampleInput((x,)), budget_bytes=0)
    first = next((r for r in result.layers[1:] if r.stats and r.stats.nonfinite_frac > 0), None)
    where = f"; the first layer with non-finite outputs is {first.name} ({first.type})" if first else ""
    return NnviewError(
        ErrorRecord(
            kind="forward",
            message=f"the loss became {loss} at step {step}{where}",
            hint="lower the learning rate, check the data for NaN/inf, or reset the weights",
            layer=first.name if first else None,
            type=first.type if first else None,
        )
    )


def step_failed(exc: Exception, step: int, user_files: tuple[str, ...], rank: int | None = None) -> NnviewError:
    """The user's forward, loss or backward raised ``exc`` at ``step``: report it, naming the line.

    Under torch.distributed (``rank`` given), DDP's all-reduce in backward failing because a peer is
    gone is said as that, not blamed on the model file.
    """
    if rank is not None and is_collective_failure(exc):
        return ranks_lost(exc, rank)
    location = user_location(exc, user_files)
    where = f" at {location}" if location else ""
    return NnviewError(
        ErrorRecord(
            kind="forward",
            message=f"step {step} failed: {describe_exception(exc)}{where}",
            hint="fix the model file (it reloads on save) or the data; the weights are as before this step",
            location=location,
        )
    )
