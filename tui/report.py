"""Rich rendering of core records for the headless commands."""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui.core.records import ErrorRecord, TraceResult
from tui.text import (
    eval_mode_note,
    exact_count,
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


def column_widths(rows: list[tuple[str, ...]], width: int) -> list[int]:
    """Each column's width in a table ``width`` cells wide, one space between columns.

    Shapes and numbers are never cut; when space is short the Layer and Type cells are, with an
    ellipsis, since the tree indentation and the row above still say where a row sits. Only when
    even the uncut columns do not fit are all columns shrunk evenly (as Rich's tables do).
    """
    widest = [max(len(header), _widest_line([row[i] for row in rows])) for i, header in enumerate(HEADERS)]
    fixed = sum(widest[2:]) + len(HEADERS) - 1
    spare = max(width - fixed, 18)
    layer_w = min(widest[0], max(10, spare - min(widest[1], spare // 2)))
    type_w = min(widest[1], max(8, spare - layer_w))
    room = width - (len(HEADERS) - 1)
    widths = [min(w, room) if room >= 1 else 0 for w in (layer_w, type_w, *widest[2:])]
    widths = [w or 1 for w in widths]
    if sum(widths) > room:
        widths = [max(w, 0) for w in _shrink_evenly(sum(widths) - room, widths)]
    return widths


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


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes; ASCII (nearly every cell) without Rich's per-character lookup."""
    return len(text) if text.isascii() else cell_len(text)


def _fit(line: str, width: int, right: bool) -> str:
    """``line`` cut with an ellipsis or padded to ``width`` cells."""
    size = _cells(line)
    if size > width:
        return set_cell_size(line, width - 1) + "…" if width > 0 else ""
    return " " * (width - size) + line if right else line + " " * (width - size)


def table_lines(rows: list[tuple[str, ...]], widths: list[int]) -> list[str]:
    """The table's body as plain lines: a multi-line cell adds lines, the other cells blank below it.

    Written directly rather than laid out by ``rich.table``, for every table size so that there is one
    path to keep right: Rich measured and wrapped every cell of every row (3.1 of 4.9 s of a profiled
    ``nnview summary`` of a 5,000-module model); here the widths are computed once and a line is one join.
    """
    columns = list(zip(widths, RIGHT, strict=True))
    lines = []
    for row in rows:
        if "\n" not in "".join(row):
            lines.append(" ".join(_fit(cell, w, right) for cell, (w, right) in zip(row, columns, strict=True)))
            continue
        parts = [cell.split("\n") for cell in row]
        for i in range(max(len(p) for p in parts)):
            cells = (_fit(p[i] if i < len(p) else "", w, right) for p, (w, right) in zip(parts, columns, strict=True))
            lines.append(" ".join(cells))
    return lines


class SummaryTable:
    """The summary table as a Rich renderable: bold headers, a rule, then the rows as plain lines."""

    def __init__(self, rows: list[tuple[str, ...]], width: int) -> None:
        self.widths = column_widths(rows, width)
        self.lines = table_lines(rows, self.widths)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for i, (header, w, right) in enumerate(zip(HEADERS, self.widths, RIGHT, strict=True)):
            if i:
                yield Segment(" ")
            yield Segment(_fit(header, w, right), _BOLD)
        yield Segment("\n" + "─" * (sum(self.widths) + len(self.widths) - 1) + "\n")
        for line in self.lines:
            yield Segment(line + "\n")


def layer_table(result: TraceResult, depth: int | None = None, width: int = 120) -> SummaryTable:
    """The summary table, one row per module call, fitted to ``width`` columns (see :func:`column_widths`)."""
    return SummaryTable(layer_rows(result, depth), width)


def totals_text(result: TraceResult) -> Text:
    """The lines under the table: inputs, parameters, memory, MACs."""
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
    return Text("\n".join(lines))


def summary_view(result: TraceResult, depth: int | None = None, width: int = 120) -> RenderableType:
    """The whole ``nnview summary`` output, fitted to ``width`` columns."""
    title = Text(f"{result.model_name}  ({result.source})", style="bold")
    return Group(title, layer_table(result, depth, width), totals_text(result))


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
