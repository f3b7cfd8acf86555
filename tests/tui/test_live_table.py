"""The live table while training: statistic cells change in place; only a new structure rebuilds the rows."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets.data_table import ColumnKey

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled, until
from tui.widgets.layer_table import STATS, LayerTable, stat_cells

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")




def spy(table: LayerTable, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Record every clear, add_row and update_cell the table makes (update_cell with the text it replaces)."""
    calls: dict[str, list[Any]] = {"clear": [], "add_row": [], "update_cell": []}
    clear, add_row, update_cell = table.clear, table.add_row, table.update_cell

    def on_clear(*args: Any, **kwargs: Any) -> Any:
        calls["clear"].append(args)
        return clear(*args, **kwargs)

    def on_add_row(*args: Any, **kwargs: Any) -> Any:
        calls["add_row"].append(args)
        return add_row(*args, **kwargs)

    def on_update_cell(row: str, column: str, value: Any, **kwargs: Any) -> None:
        calls["update_cell"].append((row, column, str(table.get_cell(row, column)), str(value)))
        update_cell(row, column, value, **kwargs)

    monkeypatch.setattr(table, "clear", on_clear)
    monkeypatch.setattr(table, "add_row", on_add_row)
    monkeypatch.setattr(table, "update_cell", on_update_cell)
    return calls


def shown_stats(table: LayerTable) -> dict[int, tuple[str, ...]]:
    return {i: tuple(str(table.get_cell(str(i), title)) for title in STATS) for i in table.visible_rows}


async def test_training_changes_the_stat_cells_in_place_and_the_cursor_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        await pilot.press("n")
        await pilot.pause()
        assert table.cursor_row == 1 and screen.result.layers[table.selected].name == "fc1"
        before = shown_stats(table)
        calls = spy(table, monkeypatch)
        await pilot.press("t")
        await until(pilot, lambda: shown_stats(table) != before)  # a live re-trace landed
        await pilot.press("t")
        await settled(pilot)
        assert not screen.training
        await pilot.pause(0.2)
        assert calls["clear"] == [] and calls["add_row"] == []  # never rebuilt
        assert calls["update_cell"]  # ... but rewritten cell by cell
        # Only cells whose text changed were touched, and only the statistic columns.
        assert all(old != new and column in STATS for _, column, old, new in calls["update_cell"])
        assert table.row_count == 4 and table.visible_rows == [0, 1, 2, 3]
        assert table.cursor_row == 1 and table.selected == 1  # still on fc1, where the user put it
        # The cells show the last trace exactly.
        assert shown_stats(table) == {i: stat_cells(screen.result.layers[i]) for i in range(4)}


async def test_r_with_a_changed_layer_rebuilds_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "manual.py"
    shutil.copy(MODELS / "simple.py", path)
    async with explorer(str(path)) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        assert str(table.get_cell("3", "Output")) == "(4,3)"
        calls = spy(table, monkeypatch)
        path.write_text(path.read_text().replace("nn.Linear(6, 3)", "nn.Linear(6, 4)"))
        await pilot.press("r")
        await until(pilot, lambda: screen.result.layer("fc3").outputs[0].shape == (4, 4))
        await pilot.pause()
        assert len(calls["clear"]) == 1 and len(calls["add_row"]) == 4
        assert str(table.get_cell("3", "Output")) == "(4,4)"


async def test_a_live_number_longer_than_its_column_widens_the_column_instead_of_being_cut() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        fc3 = screen.result.layer("fc3")
        assert fc3.activation is None  # its table stats are its own output's
        stats = replace(fc3.stats, mean=-1.23456e-05)
        layers = tuple(replace(rec, stats=stats) if rec.index == fc3.index else rec for rec in screen.result.layers)
        widths = {title: table.columns[ColumnKey(title)].width for title in STATS}
        table.show_result(replace(screen.result, layers=layers), live=True)
        await pilot.pause()
        assert str(table.get_cell(str(fc3.index), "mean")) == "-1.23e-05"
        assert widths["mean"] < 10 and table.columns[ColumnKey("mean")].width == 10  # 9 characters and a space
        assert {title: table.columns[ColumnKey(title)].width for title in STATS[1:]} == {
            title: widths[title] for title in STATS[1:]
        }
