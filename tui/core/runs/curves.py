"""The points a watched run's curves show: each rank's, or the spread over many ranks."""

from __future__ import annotations

import math
import statistics

from tui.core.runs.state import RunState, Series

MAX_DRAWN = 300  # points per drawn series: a terminal plot has fewer columns than that
MOST_RANKS_DRAWN = 4  # more ranks than this are drawn as their mean, lowest and highest


def curves(state: RunState, metric: str | None = None) -> dict[str, list[tuple[float, float]]]:
    """Label -> (step, value) points of the loss (or ``metric``), finite values only, thinned for drawing.

    Up to ``MOST_RANKS_DRAWN`` ranks: one series per rank (``"rank 0"``; a lone rank is ``"loss"`` or the
    metric's name). More: ``"mean"``, ``"lowest"`` and ``"highest"`` over the ranks, at the steps every rank kept.
    """
    ranks = sorted(state.ranks.values(), key=lambda r: r.rank)
    per_rank: dict[int, Series] = {}
    for rank in ranks:
        series = rank.losses if metric is None else rank.metrics.get(metric)
        if series is not None and series.points:
            per_rank[rank.rank] = series
    if len(per_rank) == 1 and len(ranks) == 1:
        only = next(iter(per_rank.values()))
        return {metric or "loss": _thinned(only.points)}
    if len(per_rank) <= MOST_RANKS_DRAWN:
        return {f"rank {rank}": _thinned(series.points) for rank, series in per_rank.items()}
    kept = [dict(series.points) for series in per_rank.values()]
    steps = sorted(set(kept[0]).intersection(*kept[1:]))
    mean, low, high = [], [], []
    for step in steps:
        values = [points[step] for points in kept if math.isfinite(points[step])]
        if values:
            mean.append((step, statistics.fmean(values)))
            low.append((step, min(values)))
            high.append((step, max(values)))
    return {"mean": _thinned(mean), "lowest": _thinned(low), "highest": _thinned(high)}


def metric_names(state: RunState) -> list[str]:
    """Every metric any rank wrote, sorted."""
    return sorted({name for rank in state.ranks.values() for name in rank.metrics})


def _thinned(points: list[tuple[int, float]]) -> list[tuple[float, float]]:
    finite = [(float(step), value) for step, value in points if math.isfinite(value)]
    stride = max(1, math.ceil(len(finite) / MAX_DRAWN))
    shown = finite[::stride]
    if finite and shown[-1] != finite[-1]:
        shown.append(finite[-1])  # the newest point is always drawn
    return shown
