"""The layer table: one row per traced module call, tree-indented and foldable."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey
from typing_extensions import Self

from tui.core.records import LayerRecord, TraceResult
from tui.text import joined, layer_cells

COLUMNS = ("Layer", "Type", "Input", "Weight", "Output", "Act", "Params", "mean", "std", "zero%")
# A second header line under the statistics: a row with an activation shows its output after it
# (post-activation), so the zeros ReLU made (dead units) show in zero%. Each word fits under its
# title, so the line never widens the table ("after" would, under a 4-character mean column).
UNDER = ("", "", "", "", "", "", "", "post", "act", "")
SIDE_MIN = 40  # columns the side panel keeps beside the table (the detail lines fit)
TYPE_WIDTH = 14  # CausalSelfAttention -> CausalSelfAtt…: shapes and numbers get the room instead
STATS = COLUMNS[-3:]  # the cells a live re-trace changes; everything before them is the row's structure


def _stat(value: float | None, fmt: str = "{:.3g}") -> str:
    return "-" if value is None else fmt.format(value)


def _structure(rec: LayerRecord) -> tuple[object, ...]:
    """What a row shows besides its statistics: equal for every layer means the rows stay the same."""
    return (rec.name, rec.call, rec.type, rec.depth, rec.parent_index, layer_cells(rec))


def _cut(text: str, most: int) -> str:
    """``text``, or its first ``most - 1`` characters and ``…``."""
    return text if len(text) <= most else text[: most - 1] + "…"


def row_cells(rec: LayerRecord, folded: bool, has_children: bool, flagged: bool = False) -> tuple[str | Text, ...]:
    """The cells of one row; a ▸/▾ marker on rows that have children; ⚠ after a layer health warns about;
    long type names cut."""
    cells = layer_cells(rec)
    marker = ("▸ " if folded else "▾ ") if has_children else ""
    # Tree guides rather than spaces: the table drops a cell's leading whitespace.
    label = "│ " * rec.depth + marker + cells.name + (" ⚠" if flagged else "")
    return (
        Text(label, no_wrap=True),
        _cut(cells.type, TYPE_WIDTH),  # the detail panel names the whole type
        joined(cells.inputs, " "),  # one line per row: the report's line breaks become spaces
        cells.weight,
        joined(cells.outputs, " "),
        cells.activation,
        cells.params,
        *stat_cells(rec),
    )


def stat_cells(rec: LayerRecord) -> tuple[str, str, str]:
    """The mean, std and zero% cells of one row."""
    stats = rec.table_stats  # after the activation when one follows: the zeros ReLU made
    return (
        _stat(stats.mean if stats else None),
        _stat(stats.std if stats else None),
        _stat(stats.zero_frac * 100 if stats else None, "{:.0f}"),
    )


class LayerTable(DataTable[str | Text]):
    """Rows are layer calls in execution order; space folds a row's children away."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("space", "toggle_fold", "Fold", show=False, tooltip="Fold or unfold the selected layer's children"),
        # The table's own enter (select the cell) and home/end (scroll sideways) are not what the help promises.
        Binding("enter", "screen.focus_detail", "Detail", show=False),
        Binding("home,g", "first_layer", "First", show=False, tooltip="The first layer"),
        Binding("end,G", "last_layer", "Last", show=False, tooltip="The last layer"),
    ]

    @dataclass
    class LayerSelected(Message):
        """The cursor moved to the layer call with this index."""

        table: LayerTable
        index: int

        @property
        def control(self) -> LayerTable:
            """The table that sent it (Textual routes ``on(..., "#id")`` handlers by this)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        # One space between columns instead of two: at 120x40 every column then fits the pane.
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0, header_height=2)
        self.result: TraceResult | None = None
        self.folded: set[int] = set()
        self.marked: int | None = None
        self.visible_rows: list[int] = []
        self.natural_width = 0  # columns a row needs to show whole (0 before the first result)
        self.flagged: set[str] = set()  # layers the health tab warns about: ⚠ in their row

    def show_result(
        self, result: TraceResult, select: int = 0, marked: int | None = None, *, live: bool = False
    ) -> None:
        """Fill the table from ``result``, keep folds that still make sense, put the cursor on ``select``.

        ``live`` (a re-trace while training): when the rows are the same layers, only the statistic cells
        that changed are rewritten in place, so the cursor, the scroll and the folds stay where they are.
        """
        if live and self._same_rows(result):
            self._update_stats(result)
            return
        self.result, self.marked = result, marked
        self.folded = {i for i in self.folded if i < len(result.layers)}
        self._rebuild(select)

    def _rebuild(self, select: int) -> None:
        assert self.result is not None
        layers = self.result.layers
        parents = {rec.index: (rec.parent_index if rec.parent_index >= 0 else None) for rec in layers}
        has_children = {p for p in parents.values() if p is not None}
        self.visible_rows = [rec.index for rec in layers if not self._hidden(rec.index, parents)]
        rows = [
            row_cells(layers[i], i in self.folded, i in has_children, layers[i].name in self.flagged)
            for i in self.visible_rows
        ]
        # Fixed widths from the cells: auto-sized columns can paint rows at stale widths mid-update.
        titles = [max(len(title), len(under)) for title, under in zip(COLUMNS, UNDER, strict=True)]
        widths = [1 + max([titles[c]] + [len(str(row[c])) for row in rows]) for c in range(len(COLUMNS))]
        self.natural_width = sum(widths) + 2  # every column whole, and the vertical scrollbar
        self.clear(columns=True)
        for title, under, width in zip(COLUMNS, UNDER, widths, strict=True):
            self.add_column(f"{title}\n{under}", width=width, key=title)
        for index, cells in zip(self.visible_rows, rows, strict=True):
            if index == self.marked:
                cells = tuple(Text(str(c), style="bold reverse red") for c in cells)
            self.add_row(*cells, key=str(index))
        if self.visible_rows:
            target = select if select in self.visible_rows else self._visible_ancestor(select, parents)
            self.move_cursor(row=self.visible_rows.index(target))

    def _same_rows(self, result: TraceResult) -> bool:
        old = self.result
        if old is None or len(old.layers) != len(result.layers):
            return False
        return all(_structure(a) == _structure(b) for a, b in zip(old.layers, result.layers, strict=True))

    def _update_stats(self, result: TraceResult) -> None:
        """Rewrite the statistic cells whose text changed, and repaint only those cells.

        ``DataTable.update_cell`` repaints the whole table; while training that is several KB a
        second to the terminal for a few changed numbers. Its whole-widget refresh is held back here
        and each changed cell's region is refreshed instead (unless a column had to widen).
        """
        self.result = result
        changed: list[Coordinate] = []
        wider = False
        self._cells_only = True
        try:
            for row, index in enumerate(self.visible_rows):
                for title, value in zip(STATS, stat_cells(result.layers[index]), strict=True):
                    if str(self.get_cell(str(index), title)) == value:
                        continue  # unchanged text: leave the cell (and its cached render) alone
                    column = self.columns[ColumnKey(title)]
                    widen = len(value) + 1 > column.width  # fixed widths: a longer number would be cut
                    wider = wider or widen
                    column.width = max(column.width, len(value) + 1)
                    cell = Text(value, style="bold reverse red") if index == self.marked else value
                    self.update_cell(str(index), title, cell, update_width=widen)
                    changed.append(Coordinate(row, self.get_column_index(title)))
        finally:
            self._cells_only = False
        if wider:
            self.refresh()
            return
        for coordinate in changed:
            self.refresh_coordinate(coordinate)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Widget.refresh, except the whole-table repaint ``update_cell`` asks for during a live update."""
        if getattr(self, "_cells_only", False) and not regions and not layout and not recompose:
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _hidden(self, index: int, parents: dict[int, int | None]) -> bool:
        parent = parents[index]
        while parent is not None:
            if parent in self.folded:
                return True
            parent = parents[parent]
        return False

    def _visible_ancestor(self, index: int, parents: dict[int, int | None]) -> int:
        while index not in self.visible_rows and parents.get(index) is not None:
            index = parents[index]  # type: ignore[assignment]
        return index if index in self.visible_rows else self.visible_rows[0]

    @property
    def selected(self) -> int | None:
        """The layer index under the cursor."""
        return (
            self.visible_rows[self.cursor_row]
            if self.visible_rows and 0 <= self.cursor_row < len(self.visible_rows)
            else None
        )

    def step(self, delta: int) -> None:
        """Move the cursor ``delta`` rows in execution order (n / p)."""
        if self.visible_rows:
            self.move_cursor(row=max(0, min(len(self.visible_rows) - 1, self.cursor_row + delta)))

    def flag(self, names: set[str]) -> None:
        """Mark these layers' rows with ⚠ (the health tab says why); unmark the others."""
        if names == self.flagged or self.result is None:
            return
        self.flagged = set(names)
        selected = self.selected
        self._rebuild(selected if selected is not None else 0)

    def fit(self, screen_width: int, stacked: bool) -> None:
        """Side by side, take the width the columns need and leave the side panel the rest.

        The side panel keeps at least ``SIDE_MIN`` columns (the table scrolls sideways past that).
        Stacked (a narrow terminal), the table is as wide as the screen (the stylesheet's width).
        """
        if stacked or not self.natural_width:
            self.styles.width = None
            return
        self.styles.width = max(SIDE_MIN, min(self.natural_width, screen_width - SIDE_MIN))

    def action_first_layer(self) -> None:
        """The cursor to the first row (the model itself)."""
        self.move_cursor(row=0)

    def action_last_layer(self) -> None:
        """The cursor to the last row."""
        self.move_cursor(row=max(0, self.row_count - 1))

    def action_toggle_fold(self) -> None:
        """Fold or unfold the children of the selected row."""
        index = self.selected
        if index is None or self.result is None:
            return
        self.folded.symmetric_difference_update({index})
        self._rebuild(index)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.LayerSelected(self, int(event.row_key.value)))
