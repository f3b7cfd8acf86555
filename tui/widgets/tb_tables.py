"""The TensorBoard view's tables: the runs (sub-folders), and the selected run's tags with their last step and value.

Both are keyed by name: new data rewrites the cells whose text changed, in place; a row is added when a
run or tag appears (the table is rebuilt only when it must go between existing rows, to stay sorted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tui.core.tensorboard.groups import tag_group
from tui.core.tensorboard.reader import ScalarSeries, TensorBoardRun


def value_text(value: float | None) -> str:
    """A scalar for reading: ``-`` for none, ``nan`` / ``inf`` as such, else 4 significant digits."""
    if value is None:
        return "-"
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def step_text(step: int | None) -> str:
    """A step, or ``-``."""
    return "-" if step is None else str(step)


class KeyedTable(DataTable[str | Text]):
    """A row per key, in key order; :meth:`show` adds rows and rewrites changed cells in place."""

    COLUMNS: tuple[str, ...] = ()

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        for title in self.COLUMNS:
            self.add_column(title, key=title)

    @property
    def keys(self) -> list[str]:
        """The rows' keys, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def selected(self) -> str | None:
        """The key of the row under the cursor."""
        keys = self.keys
        return keys[self.cursor_row] if keys and 0 <= self.cursor_row < len(keys) else None

    def show(self, rows: Sequence[tuple[str, tuple[str | Text, ...]]]) -> None:
        """Make the table show ``rows`` (key, cells), sorted by key, keeping the selected key selected."""
        wanted = dict(rows)
        keys, reselect = self.keys, None
        if keys != sorted(wanted)[: len(keys)]:  # a row to go between others, or one gone: rebuild, sorted
            reselect = self.selected
            self.clear()
            keys = []
        for key in keys:  # the rows already there: rewrite what changed
            for title, cell in zip(self.COLUMNS, wanted[key], strict=True):
                if self.get_cell(key, title) != cell:
                    self.update_cell(key, title, cell)
        for key in sorted(wanted)[len(keys) :]:
            self.add_row(*wanted[key], key=key)
        if reselect is not None:
            self.select(reselect)

    def select(self, key: str | None) -> bool:
        """Put the cursor on ``key``'s row; whether it is there."""
        keys = self.keys
        if key in keys:
            self.move_cursor(row=keys.index(key))
            return True
        return False


class TbRunTable(KeyedTable):
    """One row per run: its name (``.`` is the log folder itself), its tags, its newest step."""

    COLUMNS = ("Run", "Tags", "Step")
    DEFAULT_CSS = "TbRunTable { height: auto; max-height: 6; }"

    def show_runs(self, runs: Sequence[TensorBoardRun], errors: dict[str, str]) -> None:
        """Rows for ``runs``; a run that could not be read says so in its step cell."""
        rows = []
        for run in runs:
            newest = max((s.last_step for s in run.scalars.values() if s.last_step is not None), default=None)
            step: str | Text = Text("unreadable", style="bold red") if run.name in errors else step_text(newest)
            rows.append((run.name, (run.name, str(len(run.scalars)), step)))
        self.show(rows)


class TbTagTable(KeyedTable):
    """One row per scalar tag of the shown run: how many points, the last step and value."""

    COLUMNS = ("Tag", "Points", "Step", "Value")
    DEFAULT_CSS = "TbTagTable { height: 1fr; }"

    def show_tags(self, scalars: dict[str, ScalarSeries], group: str | None) -> None:
        """Rows for every tag; the tags of ``group`` (the one plotted) are bold."""
        rows = []
        for tag, series in scalars.items():
            # A span, not the Text's base style: Text equality (what :meth:`show` compares) sees only spans.
            name = Text.styled(tag, "bold" if tag_group(tag) == group else "")
            cells = (name, str(len(series.steps)), step_text(series.last_step), value_text(series.last_value))
            rows.append((tag, cells))
        self.show(rows)
