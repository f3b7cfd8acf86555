"""``nnview watch RUN_DIR --json``: the run's state now, as one JSON object."""

from __future__ import annotations

import time
from typing import Any

from tui.core.runs.layout import encode_number
from tui.core.runs.notes import rank_notes, run_notes
from tui.core.runs.state import LAYER_FIGURES, LayersSample, RunState


def state_json(state: RunState, now: float | None = None) -> dict[str, Any]:
    """The run as ``--json`` prints it; NaN and infinities as ``"nan"``, ``"inf"``, ``"-inf"``.

    ``{"run", "status", "world_size", "ranks": [{"rank", "steps", "last_loss", "state", "message",
    "seconds_since_last_step", "steps_per_second", "first_nonfinite_step", "note"}], "architecture":
    {"model", "layers", "params", "macs"} or null, "layers": rank 0's latest per-layer rows with their
    "step", "grad_norm": that sample's norm over all layers, "log": rank 0's latest logged numbers,
    "notes", "skipped_lines"}``.

    Args:
        state: what the reader has read.
        now: the time to measure "seconds since" against (default: now).
    """
    now = time.time() if now is None else now
    notes = rank_notes(state, now)
    first = state.first_rank()
    sample = first.layers if first is not None else None
    return {
        "run": state.run,
        "status": state.status,
        "world_size": state.world_size,
        "ranks": [
            {
                "rank": rank.rank,
                "steps": rank.steps,
                "last_loss": encode_number(rank.last_loss),
                "state": rank.state,
                "message": rank.message,
                "seconds_since_last_step": _rounded(rank.seconds_since_last_step(now)),
                "steps_per_second": _rounded(rank.steps_per_second()),
                "first_nonfinite_step": rank.first_nonfinite_step,
                "note": notes.get(rank.rank, ""),
            }
            for rank in sorted(state.ranks.values(), key=lambda r: r.rank)
        ],
        "architecture": _architecture(state),
        "layers": _layers(sample),
        "grad_norm": encode_number(sample.grad_norm) if sample is not None else None,
        "log": {name: encode_number(value) for name, value in first.log.items()} if first is not None else {},
        "notes": run_notes(state, now),
        "skipped_lines": state.skipped_lines,
    }


def _layers(sample: LayersSample | None) -> list[dict[str, Any]]:
    if sample is None:
        return []
    return [
        {
            "name": layer.name,
            "type": layer.type,
            "step": sample.step,
            **{key: encode_number(getattr(layer, key)) for key in LAYER_FIGURES},
        }
        for layer in sample.layers
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _architecture(state: RunState) -> dict[str, Any] | None:
    if state.architecture is None:
        return None
    totals = state.architecture.get("totals")
    totals = totals if isinstance(totals, dict) else {}
    return {
        "model": state.architecture.get("model"),
        "layers": len(state.layer_rows),
        "params": totals.get("params"),
        "macs": totals.get("macs"),
    }
