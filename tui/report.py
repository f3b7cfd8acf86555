"""Rich rendering of core records for the headless commands."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.core.records import ErrorRecord, TraceResult
from tui.text import (
    compact_shape,
    eval_mode_note,
    exact_count,
    human_bytes,
    human_count,
    output_text,
    row_label,
    shapes_text,
    trace_notes,
    uncounted_note,
    visible_layers,
)


def layer_rows(result: TraceResult, depth: int | None = None) -> list[tuple[str, ...]]:
    """The table's cells as text: Layer, Type, Input, Weight, Output, Activation, Params, MACs."""
    return [
        (
            row_label(rec),
            rec.type,
            shapes_text(rec.inputs),
            compact_shape(rec.weight) if rec.weight is not None else "-",
            output_text(rec),
            rec.activation or "-",
            (human_count(rec.params_total) + ("*" if rec.shared else "")) if rec.params_total else "-",
            human_count(rec.macs) if rec.macs else "-",
        )
        for rec in visible_layers(result.layers, depth)
    ]


HEADERS = ("Layer", "Type", "Input", "Weight", "Output", "Activation", "Params", "MACs")


def layer_table(result: TraceResult, depth: int | None = None, width: int = 120) -> Table:
    """The summary table, one row per module call, fitted to ``width`` columns.

    Shapes and numbers are never cut; when space is short the Layer and Type cells are, with an
    ellipsis, since the tree indentation and the row above still say where a row sits.
    """
    rows = layer_rows(result, depth)
    widest = [
        max([len(HEADERS[i])] + [max(len(line) for line in row[i].split("\n")) for row in rows])
        for i in range(len(HEADERS))
    ]
    fixed = sum(widest[2:]) + len(HEADERS) - 1  # one space between columns
    spare = max(width - fixed, 18)
    layer_w = min(widest[0], max(10, spare - min(widest[1], spare // 2)))
    type_w = min(widest[1], max(8, spare - layer_w))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0, expand=False)
    table.add_column("Layer", no_wrap=True, overflow="ellipsis", width=layer_w)
    table.add_column("Type", no_wrap=True, overflow="ellipsis", width=type_w)
    for header, size in zip(HEADERS[2:6], widest[2:6], strict=False):
        table.add_column(header, no_wrap=True, width=size)
    for header in HEADERS[6:]:
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def totals_text(result: TraceResult) -> Text:
    """The lines under the table: inputs, parameters, memory, MACs."""
    totals = result.totals
    inputs = ", ".join(f"{s.shape_text()} {s.dtype}" for s in result.inputs) or "none"
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
        text.append("  got:      " + ", ".join(f"{s.shape_text()} {s.dtype}" for s in error.inputs) + "\n")
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
