"""What a person should notice about a run's ranks, in words: a rank that stalls, goes NaN first, fails or died."""

from __future__ import annotations

import math
import os
import socket

from tui.core.runs.state import RankState, RunState

STALL_SECONDS = 10.0  # a rank is never called stalled before this many seconds without a step ...
STALL_FACTOR = 20.0  # ... nor before this many of the run's usual step intervals


def duration_text(seconds: float) -> str:
    """``0.4 s``, ``42 s``, ``3 min``, ``2.5 h``, ``3 days``: how long, to the precision a person reads."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def stall_threshold(state: RunState) -> float:
    """Seconds without a step after which a rank counts as stalled: ``STALL_FACTOR`` usual steps, at least
    ``STALL_SECONDS``."""
    rate = state.steps_per_second()
    return max(STALL_SECONDS, STALL_FACTOR / rate) if rate else STALL_SECONDS


def rank_notes(state: RunState, now: float) -> dict[int, str]:
    """Rank -> what is wrong with it, in words; ranks with nothing to say are left out.

    A failed rank says its message; a rank whose process ended without closing the run (checked on this
    host only) says so; the rank whose loss went NaN or infinite before every other rank's is "first to go
    NaN"; a running rank with no step for longer than :func:`stall_threshold` while another rank went on
    is "stalled".
    """
    notes: dict[int, list[str]] = {}
    first_bad = _first_nonfinite(state)
    threshold = stall_threshold(state)
    running = [rank for rank in state.ranks.values() if rank.state == "running" and rank.last_step_time is not None]
    for rank in state.ranks.values():
        said = notes.setdefault(rank.rank, [])
        if rank.state == "error":
            said.append(f"failed: {rank.message}" if rank.message else "failed")
        if rank.live and process_ended(rank):
            said.append(f"its process (pid {rank.pid}) has ended without closing the run")
        if rank.first_nonfinite_step is not None:
            value = _number_text(rank.first_nonfinite_loss)
            first = "first to go NaN: " if rank.rank in first_bad and len(state.ranks) > 1 else ""
            said.append(f"{first}loss became {value} at step {rank.first_nonfinite_step}")
        age = rank.seconds_since_last_step(now)
        if rank in running and age is not None and age > threshold:
            others = [other for other in running if other is not rank]
            going = [o for o in others if (o.seconds_since_last_step(now) or 0.0) <= threshold / 2]
            if going:
                ahead = max(o.steps for o in going)
                said.append(
                    f"stalled: no step for {duration_text(age)} while the others went on "
                    f"(it is at step {rank.steps}, the others at {ahead})"
                )
    return {rank: "; ".join(said) for rank, said in notes.items() if said}


def run_notes(state: RunState, now: float) -> list[str]:
    """What the run as a whole should tell a person: ranks not heard from, every rank quiet, skipped lines."""
    notes = []
    missing = [rank for rank in range(state.world_size) if rank not in state.ranks]
    if missing and state.ranks:
        names = ", ".join(str(rank) for rank in missing[:8]) + (" …" if len(missing) > 8 else "")
        notes.append(
            f"rank{'s' if len(missing) > 1 else ''} {names} ha{'ve' if len(missing) > 1 else 's'} written nothing yet"
        )
    age = state.seconds_since_last_step(now)
    if state.status == "running" and age is not None and age > stall_threshold(state):
        notes.append(f"no rank has stepped for {duration_text(age)}: the run may be evaluating, saving, or stuck")
    if state.skipped_lines:
        notes.append(
            f"{state.skipped_lines} line{'s' if state.skipped_lines > 1 else ''} of the rank files "
            "could not be read (not JSON) and were skipped"
        )
    return notes


def process_ended(rank: RankState) -> bool:
    """Whether ``rank``'s process is known to be gone: it ran on this host and its pid no longer exists."""
    if rank.pid is None or rank.host is None or rank.host != socket.gethostname():
        return False
    try:
        os.kill(rank.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to someone else (PermissionError), or cannot be asked
        return False
    return False


def _first_nonfinite(state: RunState) -> set[int]:
    """The rank whose loss stopped being finite at a step before every other rank's (empty when tied)."""
    steps = {rank.rank: rank.first_nonfinite_step for rank in state.ranks.values()}
    bad = {rank: step for rank, step in steps.items() if step is not None}
    if not bad:
        return set()
    earliest = min(bad.values())
    firsts = {rank for rank, step in bad.items() if step == earliest}
    return firsts if len(firsts) == 1 else set()


def _number_text(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "nan" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:g}"


def loss_spread(state: RunState) -> tuple[int, float, float] | None:
    """(step, lowest, highest) finite loss over the ranks at the latest step they all wrote with a finite loss.

    ``None`` with fewer than two ranks with a loss there.
    """
    kept = [dict(rank.losses.points) for rank in state.ranks.values() if rank.losses.points]
    if len(kept) < 2:
        return None
    common = set(kept[0]).intersection(*kept[1:])
    for step in sorted(common, reverse=True):
        values = [points[step] for points in kept]
        if all(math.isfinite(v) for v in values):
            return step, min(values), max(values)
    return None
