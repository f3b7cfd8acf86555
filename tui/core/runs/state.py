"""What a run folder says so far: the run, its architecture, and each rank's steps, layers, log and state.

:class:`tui.core.runs.reader.RunReader` fills a :class:`RunState` as lines arrive; the viewer and
``nnview watch --json`` read it. Times are the writer's wall clock (unix seconds).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The states a rank is in; the last event line it wrote decides (``resumed`` means running again).
RANK_STATES = ("running", "paused", "stopped", "closed", "error")
EVENT_STATES = {"paused": "paused", "resumed": "running", "stopped": "stopped", "closed": "closed", "error": "error"}
LAYER_FIGURES = ("mean", "std", "zero_frac", "dead_frac", "saturated_frac", "grad_norm", "update_ratio")
RATE_WINDOW_STEPS = 50  # steps/s is measured over at most this many recent steps ...
RATE_WINDOW_SECONDS = 30.0  # ... that are at most this old next to the newest
MAX_POINTS = 4096  # a curve keeps at most about this many points however long the run


class Series:
    """A curve's (step, value) points, thinned as it grows: at most ``MAX_POINTS`` kept.

    A point is kept when its step is a multiple of the stride; when there are too many, the stride
    doubles and every other kept point goes. The kept steps depend on the step numbers only, so the
    ranks' curves keep the same steps and can be compared step by step (their spread).
    """

    def __init__(self) -> None:
        self.points: list[tuple[int, float]] = []
        self.stride = 1

    def add(self, step: int, value: float) -> None:
        """Add the value at ``step``; it is kept if ``step`` is on the stride."""
        if step % self.stride:
            return
        self.points.append((step, value))
        if len(self.points) > MAX_POINTS:
            self.stride *= 2
            self.points = [(s, v) for s, v in self.points if s % self.stride == 0]


@dataclass(frozen=True)
class LayerSample:
    """One layer's statistics from a ``layers`` line (``None`` where the probe had no figure)."""

    name: str
    type: str
    mean: float | None
    std: float | None
    zero_frac: float | None
    dead_frac: float | None
    saturated_frac: float | None
    grad_norm: float | None
    update_ratio: float | None


@dataclass(frozen=True)
class LayersSample:
    """A ``layers`` line: every sampled layer at one step, and the gradient norm over them all."""

    step: int
    time: float | None
    grad_norm: float | None
    layers: tuple[LayerSample, ...]

    def by_name(self) -> dict[str, LayerSample]:
        """The samples keyed by layer name."""
        return {layer.name: layer for layer in self.layers}


@dataclass
class RankState:
    """One rank's part of the run, as read so far.

    Attributes:
        rank: its number.
        steps: the last step it wrote (steps count ``probe.step`` calls from 1).
        last_step_time: when it wrote that step.
        last_loss: that step's loss (NaN stays NaN).
        losses: (step, loss) for the curves (thinned, see :class:`Series`).
        metrics: name -> its (step, value) points.
        state: one of ``RANK_STATES``.
        message: what the last event said (an error's message).
        first_nonfinite_step: the first step whose loss was NaN or infinite, and ``first_nonfinite_loss`` that loss.
        layers: the latest per-layer statistics.
        log: the latest value of each number the framework logged, and ``log_step`` the step of the last log line.
        pid, host, device, started: from its ``start`` line.
        recent: (step, time) of the last steps, for steps/s.
    """

    rank: int
    steps: int = 0
    last_step_time: float | None = None
    last_loss: float | None = None
    losses: Series = field(default_factory=Series)
    metrics: dict[str, Series] = field(default_factory=dict)
    state: str = "running"
    message: str = ""
    first_nonfinite_step: int | None = None
    first_nonfinite_loss: float | None = None
    layers: LayersSample | None = None
    log: dict[str, float] = field(default_factory=dict)
    log_step: int | None = None
    pid: int | None = None
    host: str | None = None
    device: str | None = None
    started: float | None = None
    recent: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=RATE_WINDOW_STEPS))

    def steps_per_second(self) -> float | None:
        """Steps per second over the recent steps (``None`` before two timed steps)."""
        if len(self.recent) < 2:
            return None
        last_step, last_time = self.recent[-1]
        window = [(s, t) for s, t in self.recent if last_time - t <= RATE_WINDOW_SECONDS]
        first_step, first_time = window[0]
        if last_time <= first_time or last_step <= first_step:
            return None
        return (last_step - first_step) / (last_time - first_time)

    def seconds_since_last_step(self, now: float) -> float | None:
        """Seconds from its last step to ``now`` (``None`` before its first step)."""
        return None if self.last_step_time is None else max(0.0, now - self.last_step_time)

    @property
    def live(self) -> bool:
        """Whether it may still write steps: running or paused."""
        return self.state in ("running", "paused")


@dataclass
class RunState:
    """Everything a run folder says so far.

    Attributes:
        path: the run folder.
        run: ``run.json`` once it is there.
        architecture: ``architecture.json`` (the ``nnview summary --json`` object) once it is there.
        ranks: rank number -> its state, for every rank file seen.
        skipped_lines: lines that were not JSON objects (skipped, counted).
    """

    path: Path
    run: dict[str, Any] | None = None
    architecture: dict[str, Any] | None = None
    ranks: dict[int, RankState] = field(default_factory=dict)
    skipped_lines: int = 0

    @property
    def world_size(self) -> int:
        """Ranks in the run: ``run.json``'s world size, else the highest rank seen plus one (0 before any)."""
        declared = self.run.get("world_size") if self.run else None
        seen = max(self.ranks) + 1 if self.ranks else 0
        return declared if isinstance(declared, int) and not isinstance(declared, bool) and declared > 0 else seen

    @property
    def name(self) -> str:
        """The run's name (``run.json``), else its folder's name."""
        name = self.run.get("name") if self.run else None
        return name if isinstance(name, str) and name else self.path.name

    @property
    def layer_rows(self) -> list[dict[str, Any]]:
        """The architecture's layer rows (``[]`` before ``architecture.json``)."""
        rows = self.architecture.get("layers") if self.architecture else None
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    @property
    def status(self) -> str:
        """The run as a whole: waiting (no rank yet), error, running, paused, stopped or closed."""
        states = [rank.state for rank in self.ranks.values()]
        if not states:
            return "waiting"
        for status in ("error", "running", "paused", "stopped"):
            if status in states:
                return status
        return "closed"

    @property
    def finished(self) -> bool:
        """Whether every rank has stopped, closed or failed: the run is a record now."""
        return bool(self.ranks) and not any(rank.live for rank in self.ranks.values())

    def steps_per_second(self) -> float | None:
        """The ranks' median steps/s (``None`` before any rank has two timed steps)."""
        rates = [r for rank in self.ranks.values() if (r := rank.steps_per_second()) is not None]
        return statistics.median(rates) if rates else None

    def seconds_since_last_step(self, now: float) -> float | None:
        """Seconds since any rank's last step."""
        times = [rank.last_step_time for rank in self.ranks.values() if rank.last_step_time is not None]
        return max(0.0, now - max(times)) if times else None

    def first_rank(self) -> RankState | None:
        """Rank 0, else the lowest rank seen (a node that writes only its own ranks)."""
        return self.ranks[min(self.ranks)] if self.ranks else None


def is_finite(value: float | None) -> bool:
    """Whether ``value`` is a finite number."""
    return value is not None and math.isfinite(value)
