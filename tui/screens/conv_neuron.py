"""The conv neuron view: one Conv2d output as kernel × receptive field + b → activation, with the traced numbers."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from torch import nn

from tui.core.explain.conv import ConvNeuronExplanation, Grid, explain_conv_neuron
from tui.core.records import TraceResult
from tui.screens.neuron import activation_text, recorded_check

CELL = 6  # characters a number takes in the grids
LABEL = 5  # the input-channel column
TITLES = ("patch (input)", "kernel (weights)", "kernel × patch")


def cell(value: float) -> str:
    """A value in ``CELL`` characters, as many decimals as fit: ``+0.123``, ``-12.35``, ``+1e+05``."""
    value += 0.0  # -0.0 (a padding zero times a negative weight) reads +0.000
    for digits in (3, 2, 1, 0):
        text = f"{value:+.{digits}f}"
        if len(text) <= CELL:
            return text
    return f"{value:+.0e}"


def conv_summary(got: ConvNeuronExplanation, batch: int) -> Text:
    """Where the output is, where its patch lies, z, the check against the recorded value, the activation."""
    channels, height, width = got.out_shape
    text = Text()
    text.append(f"{got.layer}  channel {got.channel} (of 0–{channels - 1})  ", style="bold")
    text.append(f"y {got.y}, x {got.x} (of {height}×{width})  sample {got.sample + 1} of {batch}\n", style="bold")
    (top, left), (kh, kw) = got.origin, (len(got.kernel[0]), len(got.kernel[0][0]))
    bottom, right = top + got.dilation[0] * (kh - 1), left + got.dilation[1] * (kw - 1)
    c_in, h_in, w_in = got.in_shape
    text.append(f"patch: input rows {top}…{bottom}, cols {left}…{right} of {c_in}×{h_in}×{w_in}")
    steps = [
        f"{name} {a}" if a == b else f"{name} {a}×{b}"
        for name, (a, b) in zip(("stride", "dilation"), (got.stride, got.dilation), strict=True)
        if (a, b) != (1, 1)
    ]
    if len(got.in_channels) != c_in:
        steps.append(f"reads inputs {got.in_channels[0]}–{got.in_channels[-1]} (groups)")
    text.append("".join(f", {step}" for step in steps) + "\n")
    bias = got.bias if got.bias is not None else 0.0
    total = math.fsum(got.channel_sums)
    sign = "+" if bias >= 0 else "-"
    text.append(f"z = Σ kernel × patch + b = {total:+.6f} {sign} {abs(bias):.6f} = {got.z:+.6f}\n", style="bold")
    text.append(f"recorded output of {got.layer}: {got.recorded_z:+.6f}  ")
    text.append_text(recorded_check(got.z, got.recorded_z))
    if got.activation is not None and got.activated is not None:
        text.append("\n")
        text.append_text(activation_text(got.activation, got.z, got.activated, "silent here"))
    return text


def _grid_lines(grid: Grid, padding: tuple[tuple[bool, ...], ...] | None = None, zeros: bool = True) -> list[Text]:
    """A grid's rows as text; cells outside the input (``padding`` False) read ``pad`` (dim, if not zeros)."""
    lines = []
    for y, row in enumerate(grid):
        line = Text()
        for x, value in enumerate(row):
            outside = padding is not None and not padding[y][x]
            shown = "pad".rjust(CELL) if outside and zeros else cell(value).rjust(CELL)
            line.append(("" if x == 0 else " ") + shown, style="dim" if outside else "")
        lines.append(line)
    return lines


def channel_block(got: ConvNeuronExplanation, i: int, side_by_side: bool) -> list[Text]:
    """Input channel ``i`` of the patch: patch, kernel and products, then their sum."""
    pad = got.inside[i]
    grids = [
        _grid_lines(got.patch[i], pad, got.padding_mode == "zeros"),
        _grid_lines(got.kernel[i]),
        _grid_lines(got.products[i], pad, False),
    ]
    label = str(got.in_channels[i]).ljust(LABEL)
    width = grids[0][0].cell_len
    lines: list[Text] = []
    if side_by_side:
        middle = len(grids[0]) // 2
        for y in range(len(grids[0])):
            line = Text(label if y == 0 else " " * LABEL)
            line.append_text(grids[0][y])
            line.append(" × " if y == middle else "   ")
            line.append_text(grids[1][y])
            line.append(" = " if y == middle else "   ")
            line.append_text(grids[2][y])
            lines.append(line)
        indent = LABEL + 2 * (width + 3)
    else:
        for title, grid in zip(TITLES, grids, strict=True):
            lines.append(Text((label if title == TITLES[0] else " " * LABEL) + title, style="bold"))
            lines.extend(Text(" " * LABEL).append_text(row) for row in grid)
        indent = LABEL
    lines.append(Text(" " * indent + f"Σ {got.channel_sums[i]:+.6f}", style="dim"))
    return lines


def fits_side_by_side(got: ConvNeuronExplanation, width: int) -> bool:
    """Whether patch, kernel and products fit next to each other in ``width`` columns."""
    kw = len(got.kernel[0][0])
    return LABEL + 3 * (kw * (CELL + 1) - 1) + 6 <= width


def header_line(got: ConvNeuronExplanation, side_by_side: bool) -> Text:
    """The column titles above side-by-side blocks; the stacked layout titles each grid itself."""
    if not side_by_side:
        return Text("in", style="bold")
    width = len(got.kernel[0][0]) * (CELL + 1) - 1 + 3
    return Text("in".ljust(LABEL) + "".join(title.ljust(width) for title in TITLES).rstrip(), style="bold")


class ConvNeuronScreen(Screen[None]):
    """Explain one output position of a Conv2d layer on the selected sample."""

    BINDINGS = [
        Binding("right", "move(0, 1)", "Move", key_display="←↑↓→", priority=True, id="conv-right"),
        Binding("left", "move(0, -1)", "Left", show=False, priority=True, id="conv-left"),
        Binding("down", "move(1, 0)", "Down", show=False, priority=True, id="conv-down"),
        Binding("up", "move(-1, 0)", "Up", show=False, priority=True, id="conv-up"),
        Binding("full_stop", "channel(1)", "Channel+", key_display=".", id="conv-next-channel"),
        Binding("comma", "channel(-1)", "Channel-", key_display=",", show=False, id="conv-previous-channel"),
        Binding("right_square_bracket", "sample(1)", "Sample+", key_display="]", id="conv-next-sample"),
        Binding("left_square_bracket", "sample(-1)", "Sample-", key_display="[", show=False, id="conv-previous-sample"),
        Binding("pagedown", "page(1)", "Inputs", key_display="PgDn", priority=True, id="conv-next-page"),
        Binding(
            "pageup", "page(-1)", "Inputs-", key_display="PgUp", show=False, priority=True, id="conv-previous-page"
        ),
        Binding("escape,x", "app.pop_screen", "Back", id="close-conv"),
    ]

    def __init__(
        self, result: TraceResult, model: nn.Module, index: int, sample: int, lock: AbstractContextManager[Any]
    ) -> None:
        super().__init__()
        self.result, self.model, self.index = result, model, index
        self.model_lock = lock  # the session's model lock: a training step never changes the weights mid-read
        self.batch_size, self.out_channels, self.out_height, self.out_width = result.layers[index].outputs[0].shape
        self.sample = max(0, min(sample, self.batch_size - 1))
        self.channel = self.y = self.x = self.page = 0
        self.pages = 1  # pages of input channels, as many as the terminal needs
        self.explanation = self._explain()

    def compose(self) -> ComposeResult:
        yield Static(id="conv-summary")
        with VerticalScroll(id="conv-body"):
            yield Static(id="conv-terms")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    def _explain(self) -> ConvNeuronExplanation:
        with self.model_lock:
            return explain_conv_neuron(self.result, self.model, self.index, self.channel, self.y, self.x, self.sample)

    def per_page(self, got: ConvNeuronExplanation, summary: Text, side_by_side: bool) -> int:
        """How many input channels fit below the summary at once (at least one).

        Worked out from the terminal's size, not the body's: that is laid out only after this draw.
        """
        width, height = self.app.size
        summary_lines = sum(max(1, -(-line.cell_len // width)) for line in summary.split("\n"))
        block = len(channel_block(got, 0, side_by_side))
        return max(1, (height - summary_lines - 1 - 2) // block)  # the footer; the titles and the page line

    def _show(self) -> None:
        got = self.explanation
        summary = conv_summary(got, self.batch_size)
        self.query_one("#conv-summary", Static).update(summary)
        side_by_side = fits_side_by_side(got, self.app.size.width - 1)
        per_page = self.per_page(got, summary, side_by_side)
        pages = -(-len(got.in_channels) // per_page)
        if pages != self.pages:
            self.pages = pages
            self.refresh_bindings()  # PgDn shows only when there is more than one page
        self.page = max(0, min(self.page, pages - 1))
        first = self.page * per_page
        shown = range(first, min(first + per_page, len(got.in_channels)))
        lines = [header_line(got, side_by_side)]
        for i in shown:
            lines.extend(channel_block(got, i, side_by_side))
        if pages > 1:
            names = got.in_channels
            lines.append(
                Text(
                    f"inputs {names[shown[0]]}–{names[shown[-1]]} of {names[0]}–{names[-1]}"
                    f"  (page {self.page + 1} of {pages}: PgDn / PgUp)",
                    style="bold",
                )
            )
        self.query_one("#conv-terms", Static).update(Text("\n").join(lines))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """PgDn / PgUp only while the input channels take more than one page."""
        return not (action == "page" and self.pages <= 1)

    def _update(self) -> None:
        self.explanation = self._explain()
        self._show()

    def action_move(self, dy: int, dx: int) -> None:
        """Move the output position (stops at the edges)."""
        self.y = max(0, min(self.out_height - 1, self.y + dy))
        self.x = max(0, min(self.out_width - 1, self.x + dx))
        self._update()

    def action_channel(self, delta: int) -> None:
        """Pick the next or previous output channel (wraps around)."""
        self.channel = (self.channel + delta) % self.out_channels
        self._update()

    def action_sample(self, delta: int) -> None:
        """Pick the next or previous sample of the batch."""
        self.sample = max(0, min(self.batch_size - 1, self.sample + delta))
        self._update()

    def action_page(self, delta: int) -> None:
        """Show the next or previous page of input channels."""
        self.page += delta
        self._show()
