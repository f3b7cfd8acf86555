"""Which view explains the selected layer, or why it has none: one place for the explorer's view keys."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from textual.screen import Screen
from torch import nn

from tui.core.records import NnviewError, TraceResult

FOLD_HINT = "The fold view shows layers with 2 inputs and 2 outputs (try models/fold.py)"


def layer_view(
    kind: str, result: TraceResult, model: nn.Module, index: int, sample: int, lock: AbstractContextManager[Any]
) -> Screen[None] | str:
    """The ``kind`` view (neuron, fold, maps, attention) of layer ``index``, or a sentence saying why there is none.

    ``lock`` is the session's model lock: a view reads the weights holding it (training may be stepping).
    """
    rec = result.layers[index]
    try:
        if kind == "neuron" and rec.type == "Conv2d":
            from tui.screens.conv_neuron import ConvNeuronScreen

            return ConvNeuronScreen(result, model, index, sample, lock)
        if kind == "maps":
            from tui.screens.feature_maps import FeatureMapScreen

            return FeatureMapScreen(result, model, index, sample, lock)
        if kind == "attention":
            from tui.screens.attention import AttentionScreen

            return AttentionScreen(result, model, index, sample, lock)
    except NnviewError as exc:  # the view cannot show this layer: say why, and what would
        return f"{exc.record.message} ({exc.record.hint})"
    if kind == "neuron":
        from tui.screens.neuron import NeuronScreen

        if rec.type != "Linear" or index not in result.captured_inputs:
            return f"{rec.label} is a {rec.type}: the neuron view explains Linear and Conv2d layers"
        return NeuronScreen(result, model, index, sample, lock)
    if kind == "fold":
        from tui.core.explain.fold import is_foldable
        from tui.screens.fold import FoldScreen

        if not is_foldable(result, model, index):
            return FOLD_HINT
        return FoldScreen(result, model, index, lock)
    raise ValueError(f"no view called {kind!r}")
