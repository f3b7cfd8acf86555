"""The fold view: a 2 -> 2 layer's W and b, the batch's points p -> z = W·p + b -> σ(z), and the plane it folds."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from torch import nn

from tui.core.explain.fold import FoldPoint, FoldView, Point, fold_view
from tui.core.records import TraceResult
from tui.widgets.plots import ScatterPlot

# Glyphs tell the series apart without colour: grid points σ leaves alone, grid points σ moves, the batch's
# own points numbered as in the table (past the ninth, x).
KEPT, MOVED, BATCH = "•", "+", "x"
KEPT_COLOR, MOVED_COLOR, BATCH_COLOR = "blue+", "orange", "cyan+"
BATCH_STYLE = "reverse bright_cyan"  # the batch's digits as plotext draws them (inverted): plain under NO_COLOR too
Axis = tuple[tuple[float, float], tuple[float, float], list[float], list[float]]  # x and y limits, x and y ticks


def number(value: float, digits: int = 4) -> str:
    """A value in at most ``digits`` significant digits, as short as it can be: 1, -0.5, 0.1235 (never -0)."""
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def vector(point: Point, digits: int = 4) -> str:
    """A point the way the seed writes it: [1, -0.5]."""
    return f"[{number(point[0], digits)}, {number(point[1], digits)}]"


def signed(value: float) -> str:
    """A term after the first of a sum: + 0.5, - 0.5."""
    text = number(value)
    return f"- {text[1:]}" if text.startswith("-") else f"+ {text}"


def marker(row: int) -> str:
    """The glyph of the batch's point ``row`` in the plots: its number in the table."""
    return str(row + 1) if row < 9 else BATCH


def moved(before: Point, after: Point) -> bool:
    """Whether the activation moved a point."""
    return abs(before[0] - after[0]) > 1e-12 or abs(before[1] - after[1]) > 1e-12


def parameters(view: FoldView, wide: bool) -> Text:
    """W as a 2x2 matrix, b as the seed writes it, and the check of W·p + b against the recorded z; wide,
    the two sums written out."""
    w, b = view.weight, view.bias or (0.0, 0.0)
    columns = [[number(row[i]) for row in w] for i in range(2)]
    widths = [max(len(cell) for cell in column) for column in columns]
    cells = [[columns[i][r].rjust(widths[i]) for i in range(2)] for r in range(2)]
    text = Text()
    text.append("W", style="bold")
    text.append(f" = [ {cells[0][0]}  {cells[0][1]} ]\n    [ {cells[1][0]}  {cells[1][1]} ]\n")
    text.append("b", style="bold")
    text.append(f" = {vector(b)}{'' if view.bias is not None else ' (no bias)'}\n")
    if wide:
        for i, sub in enumerate("₁₂"):
            text.append(f"z{sub} = {number(w[i][0])}·p₁ {signed(w[i][1])}·p₂ {signed(b[i])}\n")
    if view.largest_difference is None:
        text.append("batch not kept (memory budget)", style="dim")
    elif view.largest_difference <= 1e-4:
        text.append("✓ W·p + b = recorded z", style="green")
    else:
        text.append(f"✗ W·p + b is {view.largest_difference:.2g} off z", style="red")
    return text


def activated_cell(point: FoldPoint, digits: int) -> Text:
    """σ(z) as recorded, with the values σ changed underlined; or why there is none."""
    if point.activated is None:
        return Text("not kept", style="dim")
    text = Text("[")
    for i in range(2):
        changed = abs(point.activated[i] - point.z[i]) > 1e-12
        text.append(number(point.activated[i], digits), style="bold underline" if changed else "")
        text.append(", " if i == 0 else "]")
    return text


def change(point: FoldPoint) -> str:
    """What the activation did to one point, value by value: "z₂ -0.5 → 0", or "unchanged"."""
    if point.activated is None:
        return ""
    moves = [
        f"z{sub} {number(z)} → {number(a)}"
        for sub, z, a in zip("₁₂", point.z, point.activated, strict=True)
        if abs(a - z) > 1e-12
    ]
    return ", ".join(moves) or "unchanged"


def points_table(view: FoldView, rows: int, wide: bool) -> Table:
    """The batch's first ``rows`` points: p → z = W·p + b → σ(z) (4 significant digits, 3 when narrow);
    wide, what σ changed. Without an activation, p → z."""
    name, digits = view.activation, 4 if wide else 3
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", caption_justify="left")
    table.add_column("#", justify="right")
    table.add_column("p")
    table.add_column("→ z = W·p + b")
    if name:
        table.add_column(f"→ {name}(z)")
    if wide and name:
        table.add_column(f"what {name} did")
    for row, point in enumerate(view.samples[:rows]):
        cells: list[str | Text] = [marker(row), vector(point.point, digits), vector(point.z, digits)]
        cells += [activated_cell(point, digits)] if name else []
        table.add_row(*cells, *([change(point)] if wide and name else []))
    notes = [f"first {rows} of {len(view.samples)} points, all plotted"] if len(view.samples) > rows else []
    if name and any(point.activated is not None and point.activated != point.z for point in view.samples):
        notes.append(f"underlined: changed by {name}")
    table.caption = "; ".join(notes) or None
    return table


def data_range(view: FoldView) -> tuple[float, float]:
    """The smallest and largest value any plot shows, on either axis: the plots share one range."""
    values = [v for points in (view.grid, view.linear, view.activated) for p in points for v in p]
    values += [v for s in view.samples for p in (s.point, s.z, s.activated or s.z) for v in p]
    return min(values), max(values)


def round_steps(smallest: float, multiples: tuple[float, ...] = (1, 2, 2.5, 5)) -> list[float]:
    """``multiples`` of powers of ten, from the first at least ``smallest`` on."""
    power = 10.0 ** math.floor(math.log10(smallest))
    steps = [m * power * 10**k for k in range(3) for m in multiples]
    return [step for step in steps if step >= smallest]


def fit(low: float, high: float, cells: int) -> tuple[tuple[float, float], float]:
    """Limits holding [low, high] on ``cells`` cells, one round unit a cell from a multiple of it, so that
    values on a grid of that unit land on their own cell (plotext puts y at floor(0.5 + (cells-1)·t))."""
    span = high - low or 1.0
    if cells < 3:
        return (low, high), span
    for unit in round_steps(span / (cells - 1)):
        if unit < 1 and f"{unit:g}".rstrip("0").endswith("2"):  # 0.25, not 0.2: the grid's W·p lies in quarters
            continue
        first = math.floor((low + high) / 2 / unit - (cells - 1) / 2)
        if first * unit <= low and (first + cells - 1) * unit >= high:
            return (first * unit, (first + cells - 1) * unit), unit
    return (low, high), span


def ticks(limits: tuple[float, float], unit: float, count: int) -> list[float]:
    """About ``count`` round multiples of ``unit`` within ``limits`` (so each falls on a cell); none if the
    plot is too small to fit (then ``unit`` is not round)."""
    span = limits[1] - limits[0]
    step = next((s for s in round_steps(span / count) if abs(s / unit - round(s / unit)) < 1e-9), None)
    if step is None:
        return []
    return [i * step for i in range(math.ceil(limits[0] / step - 1e-9), math.floor(limits[1] / step + 1e-9) + 1)]


def fit_axis(low: float, high: float, width: int, height: int) -> Axis:
    """x and y limits and ticks for a plot ``width`` x ``height`` (title, frame and tick labels take 4 rows;
    the frame and the y labels take the columns left of the canvas)."""
    ylim, yunit = fit(low, high, height - 4)
    yticks = ticks(ylim, yunit, 4)
    label = max((len(number(t)) for t in yticks), default=0)
    xlim, xunit = fit(low, high, width - label - 2)
    return xlim, ylim, ticks(xlim, xunit, 6), yticks


class FoldPlot(ScatterPlot):
    """One stage of the fold: grid points kept (•) or moved (+) by the activation, and the batch's points.

    ``axis`` gives the limits and ticks at each render: the screen fits them to the smallest plot, so every
    plot shares them, and to whole cells, so points a round step apart stay a whole number of cells apart.
    """

    def __init__(self, axis: Callable[[], Axis], id: str) -> None:
        super().__init__(id=id)
        self.axis = axis

    def show_stage(self, title: str, grid: list[Point], folds: list[bool], batch: Sequence[Point | None]) -> None:
        """Draw the axes, then the grid, then the batch's points (numbered; ``None``: not kept) on top."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.hline(0.0, "gray")
        plt.vline(0.0, "gray")
        for glyph, color, wanted in ((KEPT, KEPT_COLOR, False), (MOVED, MOVED_COLOR, True)):
            points = [p for p, fold in zip(grid, folds, strict=True) if fold is wanted]
            if points:
                plt.scatter([p[0] for p in points], [p[1] for p in points], marker=glyph, color=color)
        for row, point in reversed(list(enumerate(batch))):  # the first points are drawn last, on top
            if point is not None:
                plt.scatter([point[0]], [point[1]], marker=marker(row), color=BATCH_COLOR, style="inverted")
        self.refresh()

    def render(self) -> RenderResult:
        xlim, ylim, xticks, yticks = self.axis()
        plt = self.plt
        plt.xlim(*xlim)
        plt.ylim(*ylim)
        plt.xticks(xticks, [number(t) for t in xticks])
        plt.yticks(yticks, [number(t) for t in yticks])
        return super().render()


class FoldScreen(Screen[None]):
    """W and b, the batch's points p → z → σ(z), and the plots of p, z and σ(z) on one pair of axes."""

    BINDINGS = [Binding("escape,f", "app.pop_screen", "Back", id="close-fold")]

    def __init__(self, result: TraceResult, model: nn.Module, index: int, lock: AbstractContextManager[Any]) -> None:
        super().__init__()
        with lock:  # the session's model lock: a training step never changes the weights mid-read
            self.view = fold_view(result, model, index)
        self.layer_name = result.layers[index].name
        self._fitted: tuple[tuple[int, int], Axis] | None = None
        self.folds = [moved(z, a) for z, a in zip(self.view.linear, self.view.activated, strict=True)]

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="fold-title")
        with Horizontal(id="fold-numbers"):
            yield Static(id="fold-parameters")
            yield Static(id="fold-table")
        with Horizontal(id="fold-plots"):
            for stage in ("input", "linear", "activated"):
                yield FoldPlot(self._axis, id=f"fold-{stage}")
        yield Footer()

    def _title(self) -> Text:
        """The layer, its activation, and the key to the plots' glyphs (those the plots show)."""
        name, count = self.view.activation, len(self.view.samples)
        text = Text()
        text.append(f"{self.layer_name}: 2 → 2, then {name or 'no activation'}", style="bold")
        if not all(self.folds):
            text.append("   ")
            text.append(KEPT, style="blue")
            text.append(f" grid{' kept' if name else ''}")
        if any(self.folds):
            text.append("   ")
            text.append(MOVED, style="dark_orange")
            text.append(f" {'grid ' if all(self.folds) else ''}moved by {name}")
        if count:
            text.append("   ")
            text.append("1" if count == 1 else f"1–{min(count, 9)}{', x' if count > 9 else ''}", style=BATCH_STYLE)
            text.append(" table rows")
        return text

    def on_mount(self) -> None:
        self._show_numbers()
        view = self.view
        sigma = f"{view.activation}(z)" if view.activation else "z (no activation)"
        after = [s.activated if view.activation else s.z for s in view.samples]  # None: σ(z) not kept
        panels = (
            ("#fold-input", "input p", list(view.grid), [s.point for s in view.samples]),
            ("#fold-linear", "z = W·p + b", list(view.linear), [s.z for s in view.samples]),
            ("#fold-activated", sigma, list(view.activated), after),
        )
        for selector, title, grid, batch in panels:
            self.query_one(selector, FoldPlot).show_stage(title, grid, self.folds, batch)

    def _axis(self) -> Axis:
        """The plots' shared limits and ticks, fitted to the smallest plot on screen."""
        shown = [plot.size for plot in self.query(FoldPlot) if plot.display] or [self.size]
        size = (min(s.width for s in shown), min(s.height for s in shown))
        if self._fitted is None or self._fitted[0] != size:
            self._fitted = size, fit_axis(*data_range(self.view), *size)
        return self._fitted[1]

    def on_resize(self, event: events.Resize) -> None:
        self._show_numbers()

    def _show_numbers(self) -> None:
        """W and b, and as many of the batch's points as the height leaves room for (4 at 24 rows, up to 10)."""
        width, height = self.app.size
        wide = width >= 110
        self.query_one("#fold-parameters", Static).update(parameters(self.view, wide))
        table = self.query_one("#fold-table", Static)
        if not self.view.samples:
            table.update(Text("points not kept: raise --budget-mb", style="dim"))
        else:
            table.update(points_table(self.view, min(10, max(3, height - 20)), wide))
