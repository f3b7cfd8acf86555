"""The fold view on models/fold.py shows the seed's numbers on one 80x24 screen, and ReLU's fold in the plots."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled
from tui.screens.fold import FoldPlot, FoldScreen, fit_axis

FOLD = str(MODELS / "fold.py")


def shown(widget: Widget) -> list[str]:
    """The lines the widget draws, as text (without trailing blanks)."""
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_seed_numbers_are_on_screen(size: tuple[int, int]) -> None:
    async with explorer(FOLD, size=size) as (pilot, _screen):
        await pilot.press("n", "f")
        await settled(pilot)
        fold = pilot.app.screen
        assert isinstance(fold, FoldScreen)
        parameters = shown(fold.query_one("#fold-parameters"))
        assert parameters[:3] == ["W = [    1  0.5 ]", "    [ -0.5    1 ]", "b = [0, 0]"]
        assert "✓ W·p + b = recorded z" in parameters
        rows = [line.split() for line in shown(fold.query_one("#fold-table"))]
        table = [" ".join(row) for row in rows if row]
        assert table[0].startswith("# p → z = W·p + b → relu(z)")
        assert table[1].startswith("1 [1, 0] [1, -0.5] [1, 0]")
        assert table[2].startswith("2 [0, 1] [0.5, 1] [0.5, 1]")
        assert table[3].startswith("3 [1, 1] [1.5, 0.5] [1.5, 0.5]")
        assert table[4] == "underlined: changed by relu"
        for selector in ("#fold-title", "#fold-parameters", "#fold-table", "#fold-linear", "#fold-activated"):
            region = fold.query_one(selector).region
            assert fold.region.contains_region(region) and region.height > 0, selector  # all on one screen
        assert fold.query_one("#fold-activated").region.height >= 14
        assert fold.query_one("#fold-input").display is (size[0] >= 110)  # at 80 columns, z and σ(z) only


async def test_relu_folds_the_first_point_onto_the_axis_and_keeps_the_others() -> None:
    async with explorer(FOLD, size=(80, 24)) as (pilot, _screen):
        await pilot.press("n", "f")
        await settled(pilot)
        fold = pilot.app.screen
        linear, activated = (shown(fold.query_one(s, FoldPlot)) for s in ("#fold-linear", "#fold-activated"))
        assert linear[0].strip() == "z = W·p + b" and activated[0].strip() == "relu(z)"

        def row_of(lines: list[str], mark: str) -> int:
            """The canvas row (inside the frame, past the tick labels) where ``mark`` is drawn."""
            left = lines[1].index("┌")
            (row,) = [i for i, line in enumerate(lines[2:-2], 2) if mark in line[left + 1 :]]
            return row

        axis = [i for i, line in enumerate(activated) if line.strip()[:2] in ("0┤", "0├")]  # the y = 0 tick
        assert axis == [row_of(activated, "1")]  # p = (1, 0): z = (1, -0.5), ReLU puts it on the z₂ = 0 axis
        assert row_of(linear, "1") == axis[0] + 1  # half a unit (one row) below the axis before the fold
        assert row_of(linear, "2") == row_of(activated, "2") == axis[0] - 2  # (0.5, 1): kept, two rows (a unit) up
        assert row_of(linear, "3") == row_of(activated, "3") == axis[0] - 1  # (1.5, 0.5): kept
        assert fold.query_one("#fold-linear", FoldPlot).axis() == fold.query_one("#fold-activated", FoldPlot).axis()


def test_the_axes_put_round_values_on_whole_cells() -> None:
    xlim, ylim, xticks, yticks = fit_axis(-3.0, 3.0, 40, 17)  # a 40x17 plot
    assert ylim == (-3.0, 3.0) and yticks == [-2.0, 0.0, 2.0]  # 13 rows, 0.5 a row
    assert xlim == (-4.5, 4.25) and xticks == [-4.0, -2.0, 0.0, 2.0, 4.0]  # 36 columns, 0.25 a column


async def test_past_the_memory_budget_the_view_keeps_w_and_b_and_says_the_points_were_not_kept() -> None:
    async with explorer(FOLD, size=(80, 24), budget_bytes=0) as (pilot, _screen):
        await pilot.press("n", "f")
        await settled(pilot)
        fold = pilot.app.screen
        assert isinstance(fold, FoldScreen)
        assert shown(fold.query_one("#fold-parameters"))[2:] == ["b = [0, 0]", "batch not kept (memory budget)"]
        assert shown(fold.query_one("#fold-table"))[0] == "points not kept: raise --budget-mb"
        assert "table rows" not in shown(fold.query_one("#fold-title"))[0]
