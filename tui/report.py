"""Rich rendering of core records for the headless commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui.core.records import ErrorRecord, TraceResult
from tui.text import (
    cells,
    cut_left,
    eval_mode_note,
    exact_count,
    fold_line,
    human_bytes,
    joined,
    layer_cells,
    spec_text,
    trace_notes,
    uncounted_note,
    visible_layers,
)

HEADERS = ("Layer", "Type", "Input", "Weight", "Output", "Activation", "Params", "MACs")
RIGHT = (False, False, False, False, False, False, True, True)  # numbers line up on their last digit
LAYER, TYPE, INPUT, ACTIVATION = 0, 1, 2, 5
TYPE_FLOOR = 10  # Type is cut with an ellipsis (``AdaptiveA…``) to no fewer cells than this
NAME_FLOOR = 8  # nor a layer name to fewer than this (after its indentation), ``…`` included
_BOLD = Style(bold=True)


def layer_rows(result: TraceResult, depth: int | None = None) -> list[tuple[str, ...]]:
    """The table's cells as text: Layer, Type, Input, Weight, Output, Activation, Params, MACs."""
    rows: list[tuple[str, ...]] = []
    for rec in visible_layers(result.layers, depth):
        cells = layer_cells(rec)
        rows.append(
            (
                "  " * rec.depth + cells.name,
                cells.type,
                joined(cells.inputs, "\n"),
                cells.weight,
                joined(cells.outputs, "\n"),
                cells.activation,
                cells.params,
                cells.macs,
            )
        )
    return rows


@dataclass(frozen=True)
class TableLayout:
    """The columns a summary table shows (indices into ``HEADERS``), their titles and widths.

    ``note`` is the line under the table that says which column was left out, or empty.
    """

    columns: tuple[int, ...]
    titles: tuple[str, ...]
    widths: tuple[int, ...]
    note: str = ""


def fit_table(rows: list[tuple[str, ...]], width: int) -> TableLayout:
    """The layout of a table ``width`` cells wide, one space between columns.

    Shapes and numbers are never cut. When the table is too wide, in this order: the Activation
    column narrows to its content (titled ``Act``); Type is cut from the right to ``TYPE_FLOOR``
    cells; layer names are cut from the left (``…nsample``) to no fewer than ``NAME_FLOOR`` cells and
    never so far that two rows under one parent read the same; then the Input column (the least
    needed: a row's input is mostly the output above it) is left out, with a note. Narrower still (under
    ~60 columns), Type goes down to 3 cells, then names to ``NAME_FLOOR`` even if two read alike, and
    last all columns give up cells evenly.
    """
    natural = [max(len(header), _widest_line([row[i] for row in rows])) for i, header in enumerate(HEADERS)]
    everything = tuple(range(len(HEADERS)))
    if sum(natural) + len(HEADERS) - 1 <= width:
        return TableLayout(everything, HEADERS, tuple(natural))
    titles = list(HEADERS)
    activation = _widest_line([row[ACTIVATION] for row in rows])
    if activation < natural[ACTIVATION]:  # the title, not the content, set its width
        titles[ACTIVATION], natural[ACTIVATION] = "Act", max(3, activation)
    layer_n, type_n = natural[LAYER], natural[TYPE]
    names = [row[LAYER] for row in rows]
    indented = [(len(name) - len(name.lstrip(" ")), name.lstrip(" ")) for name in names]  # indentation stays whole
    shortest = min(layer_n, max(indent + min(cells(body), NAME_FLOOR) for indent, body in indented))
    distinct = _distinct_floor(names, shortest, layer_n)
    no_input = tuple(i for i in everything if i != INPUT)
    type_floor = min(type_n, TYPE_FLOOR)
    # (columns, Layer's floor, Type's floor, the Layer width that comes before Type's): names first, then
    # Type down to 3 cells (``Li…``) before two names read alike, then names down to NAME_FLOOR.
    ladder = (
        (everything, distinct, type_floor, layer_n),
        (no_input, distinct, type_floor, layer_n),
        (no_input, shortest, min(type_n, 3), distinct),
    )
    note = f"Input column left out to fit {width} columns (a wider terminal or --json shows it)."
    for columns, layer_floor, type_floor, first in ladder:
        shown = tuple(titles[i] for i in columns)
        said = "" if INPUT in columns else note
        spare = width - sum(natural[i] for i in columns[2:]) - (len(columns) - 1)
        if spare >= layer_floor + type_floor:
            layer_w = min(layer_n, max(spare - type_n, min(first, spare - type_floor)))
            widths = (layer_w, min(type_n, spare - layer_w), *(natural[i] for i in columns[2:]))
            return TableLayout(columns, shown, widths, said)
    room = max(width - (len(columns) - 1), 0)
    squeezed = [layer_floor, type_floor, *(natural[i] for i in columns[2:])]
    while sum(squeezed) > room:
        squeezed = _shrink_evenly(sum(squeezed) - room, squeezed)
    return TableLayout(columns, shown, tuple(squeezed), said)


def _distinct_floor(names: list[str], shortest: int, natural: int) -> int:
    """The narrowest Layer column from ``shortest`` up where no two rows under one parent read the same.

    A row's parent is the nearest row above it indented less; cut from the left, ``conv1`` and
    ``conv2`` stay apart, while ``layer4.2``'s and ``layer4.1``'s children differ by the rows above.
    """
    parents: list[int] = []
    stack: list[tuple[int, int]] = []  # (indent, row) of the rows above that can still have children
    for row, name in enumerate(names):
        indent = len(name) - len(name.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parents.append(stack[-1][1] if stack else -1)
        stack.append((indent, row))
    rows = list(zip(parents, names, strict=True))
    distinct = len(set(rows))  # two calls of one module differ (``#2``); two modules of one name may not
    width = shortest
    while width < natural and len({(parent, cut_left(name, width)) for parent, name in rows}) < distinct:
        width += 1
    return width


def _widest_line(cells: list[str]) -> int:
    """The widest line among ``cells`` (a cell may hold several lines), in terminal cells."""
    text = "\n".join(cells)
    return max(map(len if text.isascii() else cell_len, text.split("\n")))


def _shrink_evenly(excess: int, widths: list[int]) -> list[int]:
    """Take ``excess`` cells off the columns, spread evenly (Rich's ``ratio_reduce`` with equal ratios)."""
    left, shares, result = excess, sum(1 for w in widths if w), []
    for w in widths:
        if w and shares:
            taken = min(w, round(left / shares))
            result.append(w - taken)
            left -= taken
            shares -= 1
        else:
            result.append(w)
    return result


def _fit(line: str, width: int, right: bool) -> str:
    """``line`` cut with an ellipsis or padded to ``width`` cells."""
    size = cells(line)
    if size > width:
        return set_cell_size(line, width - 1) + "…" if width > 0 else ""
    return " " * (width - size) + line if right else line + " " * (width - size)


def _fit_name(name: str, width: int, right: bool) -> str:
    """A Layer cell cut from the left (see :func:`tui.text.cut_left`) or padded to ``width`` cells."""
    return _fit(cut_left(name, width), width, right)


def table_lines(rows: list[tuple[str, ...]], layout: TableLayout) -> list[str]:
    """The table's body as plain lines: a multi-line cell adds lines, the other cells blank below it.

    Written directly rather than laid out by ``rich.table``, for every table size so that there is one
    path to keep right: Rich measured and wrapped every cell of every row (3.1 of 4.9 s of a profiled
    ``nnview summary`` of a 5,000-module model); here the widths are computed once and a line is one join.
    """
    columns = [
        (i, w, RIGHT[i], _fit_name if i == LAYER else _fit) for i, w in zip(layout.columns, layout.widths, strict=True)
    ]
    lines = []
    for row in rows:
        if "\n" not in "".join(row):
            lines.append(" ".join(fit(row[i], w, right) for i, w, right, fit in columns))
            continue
        parts = [cell.split("\n") for cell in row]
        for n in range(max(len(parts[i]) for i, *_ in columns)):  # a left-out column adds no lines
            shown = (fit(parts[i][n] if n < len(parts[i]) else "", w, right) for i, w, right, fit in columns)
            lines.append(" ".join(shown))
    return lines


class SummaryTable:
    """The summary table as a Rich renderable: bold titles, a rule, the rows as plain lines, then its note."""

    def __init__(self, rows: list[tuple[str, ...]], width: int) -> None:
        self.layout = fit_table(rows, width)
        self.lines = table_lines(rows, self.layout)
        self.note = fold_line(self.layout.note, width) if self.layout.note else []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        layout = self.layout
        for n, (i, title, w) in enumerate(zip(layout.columns, layout.titles, layout.widths, strict=True)):
            if n:
                yield Segment(" ")
            yield Segment(_fit(title, w, RIGHT[i]), _BOLD)
        yield Segment("\n" + "─" * (sum(layout.widths) + len(layout.widths) - 1) + "\n")
        for line in [*self.lines, *self.note]:
            yield Segment(line + "\n")


def layer_table(result: TraceResult, depth: int | None = None, width: int = 120) -> SummaryTable:
    """The summary table, one row per module call, fitted to ``width`` columns (see :func:`fit_table`)."""
    return SummaryTable(layer_rows(result, depth), width)


def totals_text(result: TraceResult, width: int = 120) -> Text:
    """The lines under the table: inputs, parameters, memory, MACs; broken between phrases to fit ``width``."""
    totals = result.totals
    inputs = ", ".join(spec_text(s) for s in result.inputs) or "none"
    bound = "at least " if result.macs_uncounted else ""
    lines = [
        f"Input: {inputs}  ({result.input_origin})" if result.input_origin else f"Input: {inputs}",
        f"Params: {totals.params:,} (trainable {totals.trainable:,}, non-trainable {totals.non_trainable:,}); "
        f"parameter memory {human_bytes(totals.param_bytes)}",
        f"MACs: {bound}{exact_count(totals.macs)}; activation memory of the batch: "
        f"{human_bytes(totals.activation_bytes)}; device {result.device}",
    ]
    if any(rec.shared for rec in result.layers):
        lines.append("* shares a weight with another layer (tied); the total counts it once.")
    if result.macs_uncounted:
        lines.append(uncounted_note(result.macs_uncounted))
    if result.mode_dependent:
        lines.append(f"Traced in eval mode: {eval_mode_note(result.mode_dependent)}.")
    lines.extend(trace_notes(result))
    if result.budget_exceeded and result.budget_bytes > 0:
        # A summary keeps no tensors (budget 0): the line would only say that nothing was kept.
        lines.append(f"Outputs past the {human_bytes(result.budget_bytes)} budget were not kept (statistics only).")
    return Text("\n".join(part for line in lines for part in fold_line(line, width)))


def summary_view(result: TraceResult, depth: int | None = None, width: int = 120) -> RenderableType:
    """The whole ``nnview summary`` output, fitted to ``width`` columns."""
    title = Text("\n".join(fold_line(f"{result.model_name}  ({result.source})", width)), style="bold")
    return Group(title, layer_table(result, depth, width), totals_text(result, width))


def error_view(error: ErrorRecord) -> Text:
    """A user error: what is wrong, where, what was expected, and the fix."""
    text = Text()
    text.append(f"error [{error.kind}]", style="bold red")
    if error.layer:
        text.append(f" in {error.layer} ({error.type})", style="bold")
    elif error.layer == "":
        text.append(f" in {error.type}", style="bold")
    text.append(f": {error.message}\n")
    if error.inputs:
        text.append("  got:      " + ", ".join(spec_text(s) for s in error.inputs) + "\n")
    if error.expected:
        text.append(f"  expected: {error.expected}\n")
    if error.location:
        text.append(f"  at:       {error.location}\n")
    if error.partial:
        ran = [rec.label for rec in error.partial if rec.outputs and rec.index != 0]
        text.append(f"  traced before the failure: {', '.join(ran) if ran else 'nothing'}\n")
    text.append("  fix: ", style="bold green")
    text.append(error.hint)
    if error.output.strip():
        text.append("\n  the file printed:\n    " + "\n    ".join(error.output.strip().splitlines()[-10:]))
    return text
