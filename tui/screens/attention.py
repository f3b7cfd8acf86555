"""The attention view: one head's queries x keys weights as a shaded grid, and the keys one query takes most from."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from torch import nn

from tui.core.explain.attention import AttentionMap, attention_map, top_keys
from tui.core.records import TraceResult
from tui.screens.feature_maps import GAP, RAMP, beside

BAR = 10  # blocks the largest weight of a row takes in the list of top keys
LOW, HIGH = (45, 30, 90), (255, 205, 60)  # the shades of the smallest and the largest weight
SAMPLES = (0.01, 0.05, 0.25, 0.5, 1.0)  # the weights the legend shades


def level(value: float) -> float:
    """How bright a weight is shaded, 0 to 1: √weight, so 1/16 (one of 16 keys, evenly) still shows."""
    return math.sqrt(min(1.0, max(0.0, value)))


def shade(value: float) -> str:
    """A weight's colour: dark purple near 0, bright yellow at 1."""
    t = level(value)
    return "rgb({},{},{})".format(*(round(a + (b - a) * t) for a, b in zip(LOW, HIGH, strict=True)))


def cell(value: float, width: int, plain: bool) -> Text:
    """One weight, ``width`` columns wide: blank when exactly 0 (masked), '?' for NaN, else shaded."""
    if not math.isfinite(value):
        return Text("?" * width, style="" if plain else "bold rgb(255,0,255)")
    if value == 0:
        return Text(" " * width)
    if plain:
        char = RAMP[max(1, round(level(value) * (len(RAMP) - 1)))]  # never ' ': that is an exact 0
        return Text(char * max(1, width - 1) + " " * (width > 1))  # a gap between cells: no colour tells them apart
    return Text("█" * width, style=Style(color=shade(value)))


def grid_lines(
    amap: AttentionMap, head: int, query: int, rows: range, cols: range, size: tuple[int, int], plain: bool
) -> list[Text]:
    """The key axis, then each query position in ``rows``; the selected query is marked ▶ (> in plain).

    ``size``: the columns and lines one weight takes.
    """
    width, tall = size
    label = len(str(amap.queries - 1)) + 3
    axis = list("q\\k".ljust(label)) + [" "] * (len(cols) * width)
    step = max(1, 8 // width)  # a key number every `step` keys, where its cell starts
    for j in cols:
        at, number = label + (j - cols.start) * width, str(j)
        if j % step == 0 and at + len(number) <= len(axis) and set(axis[at - 1 : at + len(number)]) == {" "}:
            axis[at : at + len(number)] = number
    lines = [Text("".join(axis).rstrip())]
    lines[0].stylize("dim")  # a span, not the line's style: the list of keys beside it has its own
    for i, row in zip(rows, amap.grid(head, rows, cols), strict=True):
        cells = Text().join(cell(value, width, plain) for value in row)
        mark = (">" if plain else "▶") if i == query else " "
        for part in range(tall):
            line = Text(f"{mark} {i:>{label - 3}} " if part == 0 else " " * label)
            line.stylize("bold" if i == query else "dim")  # the label only: the cells keep their shades
            lines.append(line.append_text(cells))
    return lines


def fit(amap: AttentionMap, query: int, width: int, room: int, panel: int) -> tuple[range, range, tuple[int, int]]:
    """The queries and keys shown around ``query`` in ``width`` x ``room`` lines beside a ``panel`` columns wide list,
    and the size of one weight.

    A weight takes 4 columns and 2 lines when the whole map fits so, 2 x 1 when its keys fit, else 1 x 1;
    a map still too big shows the part around the selected query.
    """
    label = len(str(amap.queries - 1)) + 3
    free = width - label - 2 * GAP - panel
    if 4 * amap.keys <= free and 2 * amap.queries <= room:
        size = (4, 2)
    else:
        size = (2, 1) if 2 * amap.keys <= free else (1, 1)
    cols = window(query * amap.keys // amap.queries, amap.keys, max(8, free // size[0]))
    return window(query, amap.queries, max(1, room // size[1])), cols, size


def keys_lines(amap: AttentionMap, head: int, query: int, count: int, plain: bool) -> list[Text]:
    """Query ``query``'s largest weights, one key a line, with the tokens when the input was token ids."""
    row = amap.row(head, query)
    tokens = amap.tokens
    name = f"query {query}" + (f" (token {tokens[query]})" if tokens and amap.queries == amap.keys else "")
    lines = [Text(f"{name} takes from", style="bold"), Text(" key" + ("  token" if tokens else "") + "  weight")]
    largest = max((w for w in row if math.isfinite(w)), default=0.0)
    for key, weight in top_keys(row, count):
        if weight == 0:
            break  # masked keys, counted below
        line = Text(f"{key:>4}" + (f"  {tokens[key]:>5}" if tokens else "") + f"  {weight:.4f} ")
        line.append(
            "█" * max(1, round(BAR * weight / largest)) if math.isfinite(weight) else "?",
            style="" if plain else shade(weight),
        )
        lines.append(line)
    masked = sum(1 for weight in row if weight == 0)
    if masked:
        lines.append(Text(f"{masked} key{'s' if masked > 1 else ''} at exactly 0 (masked)", style="dim"))
    lines.append(Text(f"Σ row = {math.fsum(row):.6f}", style="dim"))
    return lines


def title_text(amap: AttentionMap, head: int, query: int) -> Text:
    """What is shown: the layer, head, query, sample, how the weights were found."""
    text = Text(f"{amap.layer}  head {head} (of 0–{amap.heads - 1})  ", style="bold")
    text.append(f"query {query}  sample {amap.sample + 1} of {amap.batch}\n", style="bold")
    if amap.source != amap.layer:
        text.append(f"in {amap.source}: ")
    text.append(amap.how)
    if amap.causal:
        text.append("; causal")
    if amap.dropout:
        text.append(f"; dropout {amap.dropout:g} not applied")
    return text


def legend(plain: bool) -> Text:
    """What the shades mean: √weight, from dark (or '.') near 0 to bright (or '@') at 1."""
    text = Text("weight ", style="dim")
    for value in SAMPLES:
        text.append_text(cell(value, 2, plain))
        text.append(f" {value:g}  ", style="dim")
    text.append("blank: exactly 0", style="dim")
    return text


def shown(amap: AttentionMap, rows: range, cols: range) -> Text:
    """Which part of a map too big for the screen is shown; empty when all of it is."""
    if len(rows) == amap.queries and len(cols) == amap.keys:
        return Text()
    return Text(
        f"queries {rows.start}–{rows.stop - 1} and keys {cols.start}–{cols.stop - 1} of {amap.queries} × {amap.keys}"
        " (↑↓ moves along)",
        style="dim",
    )


def window(selected: int, total: int, room: int) -> range:
    """``room`` positions of ``total`` around ``selected`` (all of them when they fit)."""
    if total <= room:
        return range(total)
    start = max(0, min(total - room, selected - room // 2))
    return range(start, start + room)


class AttentionScreen(Screen[None]):
    """The attention map of a layer for the selected sample, one head at a time."""

    BINDINGS = [
        Binding("right", "head(1)", "Head", key_display="←→", priority=True, id="attention-next-head"),
        Binding("left", "head(-1)", "Head-", show=False, priority=True, id="attention-previous-head"),
        Binding("down", "query(1)", "Query", key_display="↑↓", priority=True, id="attention-next-query"),
        Binding("up", "query(-1)", "Query-", show=False, priority=True, id="attention-previous-query"),
        Binding("right_square_bracket", "sample(1)", "Sample+", key_display="]", id="attention-next-sample"),
        Binding(
            "left_square_bracket", "sample(-1)", "Sample-", key_display="[", show=False, id="attention-previous-sample"
        ),
        Binding("escape,a", "app.pop_screen", "Back", id="close-attention"),
    ]

    def __init__(
        self, result: TraceResult, model: nn.Module, index: int, sample: int, lock: AbstractContextManager[Any]
    ) -> None:
        super().__init__()
        self.result, self.model, self.index = result, model, index
        self.model_lock = lock  # the session's model lock: a training step never changes a module mid-read
        self.head = 0
        self.amap = self._map(sample)
        self.sample = self.amap.sample
        self.selected_query = self.amap.queries - 1  # the last position: under a causal mask it sees every key

    def _map(self, sample: int) -> AttentionMap:
        with self.model_lock:
            return attention_map(self.result, self.model, self.index, sample)

    def compose(self) -> ComposeResult:
        yield Static(id="attention-title")
        with VerticalScroll(id="attention-body"):
            yield Static(id="attention-grid")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        amap, plain = self.amap, self.app.no_color
        title = title_text(amap, self.head, self.selected_query)
        self.query_one("#attention-title", Static).update(title)
        width, height = self.app.size
        title_lines = sum(max(1, -(-line.cell_len // width)) for line in title.split("\n"))
        room = max(4, height - title_lines - 4)  # the footer, the key axis, the line on what is shown, the legend
        keys = keys_lines(amap, self.head, self.selected_query, max(3, min(10, room - 4)), plain)
        panel = max(line.cell_len for line in keys)
        rows, cols, size = fit(amap, self.selected_query, width - 1, room, panel)  # a column for the scrollbar
        grid = grid_lines(amap, self.head, self.selected_query, rows, cols, size, plain)
        body = Text("\n").join([*beside(grid, keys), shown(amap, rows, cols), legend(plain)])
        self.query_one("#attention-grid", Static).update(body)

    def action_head(self, delta: int) -> None:
        """Show the next or previous head (wraps around)."""
        self.head = (self.head + delta) % self.amap.heads
        self._show()

    def action_query(self, delta: int) -> None:
        """Select the next or previous query position (stops at the ends)."""
        self.selected_query = max(0, min(self.amap.queries - 1, self.selected_query + delta))
        self._show()

    def action_sample(self, delta: int) -> None:
        """Show the next or previous sample of the batch."""
        self.sample = max(0, min(self.amap.batch - 1, self.sample + delta))
        self.amap = self._map(self.sample)
        self._show()
