"""The watched run's layer table: the architecture's rows, tree-indented and foldable, with live statistics.

The rows are the run's ``architecture.json`` (the ``nnview summary --json`` rows); the statistics are the
latest ``layers`` line of the rank shown. New statistics rewrite only the cells whose text changed, and
repaint only those cells (as the explorer's table does while training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey
from typing_extensions import Self

from tui.core.runs.state import LayerSample
from tui.text import compact_shape, human_count
from tui.widgets.layer_table import SIDE_MIN

COLUMNS = ("Layer", "Type", "Params", "mean", "std", "zero%", "dead%", "grad", "upd/w", "Output")
# A second header line: mean/std/zero% are of the output after its activation; grad is the gradient's norm.
UNDER = ("", "", "", "post", "act", "", "", "norm", "", "")
STATS = COLUMNS[3:9]  # the cells new statistics change
TYPE_WIDTH = 12


def _number(value: float | None, fmt: str) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):  # nan, inf, -inf: said as such, never a blank
        return str(value)
    return fmt.format(value)


def stat_cells(sample: LayerSample | None) -> tuple[str, ...]:
    """The mean, std, zero%, dead%, grad and upd/w cells of one row (``-`` where there is no figure)."""
    if sample is None:
        return ("-",) * len(STATS)
    return (
        _number(sample.mean, "{:.3g}"),
        _number(sample.std, "{:.3g}"),
        _number(None if sample.zero_frac is None else sample.zero_frac * 100, "{:.0f}"),
        _number(None if sample.dead_frac is None else sample.dead_frac * 100, "{:.0f}"),
        _number(sample.grad_norm, "{:.2g}"),
        _number(sample.update_ratio, "{:.2g}"),
    )


def _shapes(value: Any) -> str:
    if not isinstance(value, list):
        return "-"
    shapes = [compact_shape(tuple(s)) for s in value if isinstance(s, list)]
    return " ".join(shapes) or "-"


def _depth(row: dict[str, Any]) -> int:
    depth = row.get("depth")
    return depth if isinstance(depth, int) and depth >= 0 else 0


def row_label(row: dict[str, Any], folded: bool, has_children: bool, flagged: bool) -> Text:
    """``│ │ ▾ conv1 ⚠``: tree guides, the fold marker, the last part of the name, ⚠ when warned."""
    name = str(row.get("name") or "")
    local = name.rsplit(".", 1)[-1] if name else str(row.get("type") or "model")
    call = row.get("call")
    if isinstance(call, int) and call:
        local += f" #{call + 1}"
    marker = ("▸ " if folded else "▾ ") if has_children else ""
    return Text("│ " * _depth(row) + marker + local + (" ⚠" if flagged else ""), no_wrap=True)


@dataclass(frozen=True)
class Row:
    """One architecture row as the table shows it: its data, its parent row's position, and its name."""

    data: dict[str, Any]
    parent: int | None

    @property
    def name(self) -> str:
        """The module's qualified name (``""`` for the model)."""
        return str(self.data.get("name") or "")

    @property
    def first_call(self) -> bool:
        """Statistics belong to a module's first call (later calls of it show ``-``)."""
        return not self.data.get("call")


def tree_rows(rows: list[dict[str, Any]]) -> list[Row]:
    """The rows with their parents, found from their depths (each row's parent is the last shallower row)."""
    out: list[Row] = []
    stack: list[tuple[int, int]] = []  # (depth, position) of the open ancestors
    for position, data in enumerate(rows):
        depth = _depth(data)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        out.append(Row(data, stack[-1][1] if stack else None))
        stack.append((depth, position))
    return out


class RunTable(DataTable[str | Text]):
    """The run's layers in execution order; space folds a row's children away."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("space", "toggle_fold", "Fold", show=False, tooltip="Fold or unfold the selected layer's children"),
        Binding("enter", "screen.layer_view", "Layer", show=False),
        Binding("home,g", "first_row", "First", show=False, tooltip="The first layer"),
        Binding("end,G", "last_row", "Last", show=False, tooltip="The last layer"),
    ]

    @dataclass
    class LayerSelected(Message):
        """The cursor moved to the row at this position of the architecture."""

        table: RunTable
        position: int

        @property
        def control(self) -> RunTable:
            """The table that sent it."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0, header_height=2)
        self.layer_rows: list[Row] = []  # (DataTable's own ``rows`` are its row keys)
        self.samples: dict[str, LayerSample] = {}
        self.flagged: set[str] = set()
        self.folded: set[int] = set()
        self.shown: list[int] = []
        self._cells_only = False
        self.natural_width = 0  # columns a row needs to show whole (0 before the first rows)

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Show these architecture rows (a new architecture: the folds and the cursor start over)."""
        self.layer_rows = tree_rows(rows)
        self.folded = set()
        self._rebuild(0)

    def show_stats(self, samples: dict[str, LayerSample], flagged: set[str]) -> None:
        """New statistics (layer name -> sample) and warned layers: rewrite only the cells that changed."""
        if flagged != self.flagged:
            self.samples, self.flagged = samples, set(flagged)
            self._rebuild(self.selected or 0)  # a ⚠ comes or goes: the label column changes
            return
        self.samples = samples
        changed: list[Coordinate] = []
        wider = False
        self._cells_only = True  # update_cell asks for a whole-table repaint; the changed cells are enough
        try:
            for line, position in enumerate(self.shown):
                for title, value in zip(STATS, self._stats(self.layer_rows[position]), strict=True):
                    if str(self.get_cell(str(position), title)) == value:
                        continue
                    column = self.columns[ColumnKey(title)]
                    widen = len(value) + 1 > column.width
                    wider = wider or widen
                    column.width = max(column.width, len(value) + 1)
                    self.update_cell(str(position), title, value, update_width=widen)
                    changed.append(Coordinate(line, self.get_column_index(title)))
        finally:
            self._cells_only = False
        if wider:
            self.natural_width = sum(column.width for column in self.columns.values()) + 2
            self.refresh()
            return
        for coordinate in changed:
            self.refresh_coordinate(coordinate)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Widget.refresh, except the whole-table repaint ``update_cell`` asks for during a live update."""
        if getattr(self, "_cells_only", False) and not regions and not layout and not recompose:
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _stats(self, row: Row) -> tuple[str, ...]:
        return stat_cells(self.samples.get(row.name) if row.first_call else None)

    def _cells(self, position: int, children: set[int]) -> tuple[str | Text, ...]:
        row = self.layer_rows[position]
        data = row.data
        kind = str(data.get("type") or "")
        params = data.get("params_total")
        return (
            row_label(data, position in self.folded, position in children, row.name in self.flagged),
            kind if len(kind) <= TYPE_WIDTH else kind[: TYPE_WIDTH - 1] + "…",
            human_count(params) if isinstance(params, int) and params else "-",
            *self._stats(row),
            _shapes(data.get("outputs")),
        )

    def _rebuild(self, select: int) -> None:
        children = {row.parent for row in self.layer_rows if row.parent is not None}
        self.shown = [i for i in range(len(self.layer_rows)) if not self._hidden(i)]
        cells = [self._cells(i, children) for i in self.shown]
        titles = [max(len(title), len(under)) for title, under in zip(COLUMNS, UNDER, strict=True)]
        widths = [1 + max([titles[c]] + [len(str(row[c])) for row in cells]) for c in range(len(COLUMNS))]
        self.natural_width = sum(widths) + 2  # every column whole, and the vertical scrollbar
        self.clear(columns=True)
        for title, under, width in zip(COLUMNS, UNDER, widths, strict=True):
            self.add_column(f"{title}\n{under}", width=width, key=title)
        for position, row in zip(self.shown, cells, strict=True):
            self.add_row(*row, key=str(position))
        if self.shown:
            target = select
            while target not in self.shown and self.layer_rows[target].parent is not None:
                target = self.layer_rows[target].parent  # type: ignore[assignment]
            self.move_cursor(row=self.shown.index(target) if target in self.shown else 0)

    def _hidden(self, position: int) -> bool:
        parent = self.layer_rows[position].parent
        while parent is not None:
            if parent in self.folded:
                return True
            parent = self.layer_rows[parent].parent
        return False

    def fit(self, screen_width: int, stacked: bool) -> None:
        """Side by side, take the width the columns need and leave the side panel the rest (at least
        ``SIDE_MIN`` columns); stacked (80 columns), the whole width."""
        if stacked or not self.natural_width:
            self.styles.width = None
            return
        self.styles.width = max(SIDE_MIN, min(self.natural_width, screen_width - SIDE_MIN))

    @property
    def selected(self) -> int | None:
        """The architecture position of the row under the cursor."""
        if self.shown and 0 <= self.cursor_row < len(self.shown):
            return self.shown[self.cursor_row]
        return None

    def action_first_row(self) -> None:
        """The cursor to the first row (the model itself)."""
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        """The cursor to the last row."""
        self.move_cursor(row=max(0, self.row_count - 1))

    def action_toggle_fold(self) -> None:
        """Fold or unfold the children of the selected row."""
        position = self.selected
        if position is None:
            return
        self.folded.symmetric_difference_update({position})
        self._rebuild(position)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.LayerSelected(self, int(event.row_key.value)))
