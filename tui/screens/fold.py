"""The fold view: a grid of points through a 2 -> 2 layer, before and after its activation."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from torch import nn

from tui.core.explain.views import fold_view
from tui.core.records import TraceResult
from tui.widgets.plots import ScatterPlot


class FoldScreen(Screen[None]):
    """Three scatter plots: the input grid, W·p + b, and the activation of that."""

    BINDINGS = [Binding("escape,f", "app.pop_screen", "Back", id="close-fold")]

    def __init__(self, result: TraceResult, model: nn.Module, index: int, lock: AbstractContextManager[Any]) -> None:
        super().__init__()
        with lock:  # the session's model lock: a training step never changes the weights mid-read
            self.view = fold_view(result, model, index)
        self.layer_name = result.layers[index].name

    def compose(self) -> ComposeResult:
        activation = self.view.activation or "no activation"
        yield Static(
            f"{self.layer_name}: a grid of points (·), the batch's own points (x), linear step, then {activation}"
        )
        with Horizontal(id="fold-plots"):
            yield ScatterPlot(id="fold-input")
            yield ScatterPlot(id="fold-linear")
            yield ScatterPlot(id="fold-activated")
        yield Footer()

    def on_mount(self) -> None:
        view = self.view
        samples = view.samples
        panels = (
            ("#fold-input", "input p", list(view.grid), [s[0] for s in samples]),
            ("#fold-linear", "z = W·p + b", list(view.linear), [s[1] for s in samples]),
            ("#fold-activated", f"{view.activation or 'z'}(z)", list(view.activated), [s[2] for s in samples]),
        )
        for selector, title, grid, own in panels:
            self.query_one(selector, ScatterPlot).show_points(title, [("grid", grid, "dot"), ("batch", own, "x")])
