"""The watched run's plain-language layer warnings: the same words and thresholds as in-place training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.core.runs.state import LayerSample

# tui.core.health_words.health_hint: (dead, saturated, grad, update) -> the warning, or "".
HintRule = Callable[[float | None, float | None, float | None, float | None], str]


def layer_hints(rows: list[dict[str, Any]], samples: dict[str, LayerSample], rule: HintRule) -> dict[str, str]:
    """Layer name -> the warning in-place training would give for these statistics ("" when none).

    ``rule`` is nnview's own training's (:func:`tui.core.health_words.health_hint`), so the thresholds are
    the same; a saturated output layer is left alone there too (a confident output is the goal), so the
    last sampled layer in execution order is not warned about saturation.
    """
    order = [str(row.get("name") or "") for row in rows if str(row.get("name") or "") in samples]
    last = order[-1] if order else None
    return {
        name: rule(s.dead_frac, None if name == last else s.saturated_frac, s.grad_norm, s.update_ratio)
        for name, s in samples.items()
    }
