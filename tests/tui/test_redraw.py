"""Drawing only what changed: the live table repaints the changed cells, text widgets skip repeats and
relayout only when their height changes (the bytes a learner over SSH waits on; bench/train.py measures them)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from tests.conftest import MODELS
from tests.tui.conftest import explorer
from tui.messages import TraceReady
from tui.widgets.layer_table import STATS, LayerTable
from tui.widgets.redraw import release_height, show_text

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")


def record_refreshes(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Region, ...], bool]]:
    """Every refresh that reaches Textual's ``Widget.refresh`` for this widget: (regions, layout)."""
    calls: list[tuple[tuple[Region, ...], bool]] = []
    refresh = Widget.refresh

    def recorded(self: Widget, *regions: Region, **kwargs: Any) -> Any:
        if self is widget:
            calls.append((regions, bool(kwargs.get("layout"))))
        return refresh(self, *regions, **kwargs)

    monkeypatch.setattr(Widget, "refresh", recorded)
    return calls


async def test_a_live_retrace_repaints_only_the_statistic_cells_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        with torch.no_grad():
            screen.model.fc3.bias.add_(1.0)  # changes the root's and fc3's outputs only
        result = screen.session.retrace()
        calls = record_refreshes(table, monkeypatch)
        screen.post_message(TraceReady(result, screen.model, "training"))
        await pilot.pause()
        await pilot.pause()
        regions = [r for rs, _ in calls for r in rs]
        assert calls and all(rs for rs, _ in calls), "a whole-table repaint was asked for"
        assert all(r.height == 1 for r in regions)
        rows = sorted({r.y - table.header_height for r in regions})
        assert rows == [0, 3]  # SimpleNN (the root) and fc3: fc1 and fc2 are as they were
        stats_start = sum(table.columns[key].get_render_width(table) for key in list(table.columns)[: -len(STATS)])
        assert all(r.x >= stats_start for r in regions)  # only cells right of the structure columns


async def test_show_text_skips_repeats_and_relayouts_only_when_the_height_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        facts = screen.query_one("#detail-facts", Static)
        await pilot.pause()
        show_text(facts, Text("first\nsecond"))
        await pilot.pause()
        calls = record_refreshes(facts, monkeypatch)
        show_text(facts, Text("first\nsecond"))  # the same text again
        assert calls == []
        lines = facts.size.height  # rows on screen (a long line wraps)
        show_text(facts, Text("\n".join(f"line {i}" for i in range(lines))))  # same height
        assert [layout for _, layout in calls] == [False]
        calls.clear()
        show_text(facts, Text("\n".join(f"line {i}" for i in range(lines + 2))))  # taller: one relayout
        assert True in [layout for _, layout in calls]
        await pilot.pause()
        assert facts.size.height == lines + 2


async def test_a_grow_only_line_keeps_its_height_for_shorter_text_until_released() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s")  # one step: the training panel and its status line show
        status = screen.query_one("#training-status", Static)
        await pilot.pause()
        await pilot.pause()
        show_text(status, Text("one\ntwo\nthree"), grow_only=True)
        await pilot.pause()
        assert status.size.height == 3
        show_text(status, Text("one"), grow_only=True)  # shorter: the height stays, nothing moves
        await pilot.pause()
        assert status.size.height == 3 and str(status.render()).startswith("one")
        release_height(status)
        await pilot.pause()
        assert status.size.height == 1
