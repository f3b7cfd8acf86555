"""The watch screen on hand-written run folders: the architecture's rows with live statistics and ⚠, the ranks,
the layer view, pause / resume / stop written to control.json (stop asks first), and nothing redrawn when idle."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static, TabbedContent

from tests.core.test_run_reader import FC1, FC3, line, step, write_run
from tests.tui.conftest import settled, until
from tui.screens.confirm import ConfirmScreen
from tui.screens.watch import WatchScreen
from tui.screens.watch_app import WatchApp, WatchHelpScreen
from tui.widgets.run_table import STATS, RunTable

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def watching(folder: Path, size: tuple[int, int] = (120, 40)) -> AsyncIterator[tuple[Pilot[None], WatchScreen]]:
    """The viewer on ``folder``, once its first look at the folder is on screen."""
    app = WatchApp(folder)
    async with app.run_test(size=size) as pilot:
        await settled(pilot, "hints")  # the health thresholds are imported (torch) in a worker
        await until(pilot, lambda: isinstance(app.screen, WatchScreen) and app.screen.hint_rule is not None)
        assert isinstance(app.screen, WatchScreen)
        yield pilot, app.screen


def cells(table: RunTable, key: str) -> list[str]:
    return [str(table.get_cell(key, title)) for title in STATS]


def text(screen: WatchScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def append(path: Path, *lines: str) -> None:
    with path.open("a") as out:
        out.write("".join(lines))


def control(folder: Path) -> dict[str, Any] | None:
    path = folder / "control.json"
    return json.loads(path.read_text()) if path.exists() else None


async def test_the_table_shows_the_architecture_rows_with_rank_0s_statistics_and_warnings(tmp_path: Path) -> None:
    async with watching(write_run(tmp_path / "run")) as (_, screen):
        table = screen.query_one("#run-layers", RunTable)
        assert table.row_count == 4
        assert [str(table.get_cell(str(i), "Layer")) for i in range(4)] == ["▾ SimpleNN", "│ fc1 ⚠", "│ fc2", "│ fc3 ⚠"]
        assert cells(table, "1") == ["0.5", "0.25", "50", "62", "0.12", "0.001"]
        assert cells(table, "2") == ["-"] * 6  # fc2 was not sampled
        assert cells(table, "3") == ["-0.5", "1.5", "0", "-", "inf", "0.062"]
        assert screen.hints["fc1"].startswith("62% of ReLU units are dead")
        assert screen.hints["fc3"] == "gradient is not finite"
        header = text(screen, "#watch-header")
        assert header.startswith("digits  train.py  2 ranks  running  step 3  2 steps/s  last step")
        facts = text(screen, "#watch-facts")
        assert "loss 1 (rank 0), ranks 1.5–1.75 at step 1  accuracy 0.75" in facts
        assert "layers' grad norm, after clipping 0.75  trainer grad norm, before clipping 2.5" in facts


async def test_new_lines_update_the_cells_in_place(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    async with watching(folder) as (pilot, screen):
        table = screen.query_one("#run-layers", RunTable)
        table.move_cursor(row=3)
        append(folder / "rank0.jsonl", step(4, 0.5, 1003.0), line("layers", step=4, layers=[{**FC1, "mean": 0.75}]))
        await until(pilot, lambda: cells(table, "1")[0] == "0.75")
        assert cells(table, "3") == ["-"] * 6 and table.cursor_row == 3  # fc3 not in this sample; cursor kept
        assert "│ fc3 ⚠" not in str(table.get_cell("3", "Layer"))  # its warning went with its statistics
        assert "step 4" in text(screen, "#watch-header")


async def test_a_new_sample_repaints_only_the_cells_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_run(tmp_path / "run")
    async with watching(folder) as (pilot, screen):
        table = screen.query_one("#run-layers", RunTable)
        regions: list[tuple[Any, ...]] = []
        refresh = Widget.refresh

        def recorded(self: Widget, *args: Any, **kwargs: Any) -> Any:
            if self is table:
                regions.append(args)
            return refresh(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", recorded)
        append(folder / "rank0.jsonl", line("layers", step=4, grad_norm=0.75, layers=[{**FC1, "std": 0.5}, FC3]))
        screen.follow()
        await pilot.pause()
        assert cells(table, "1")[1] == "0.5"
        assert len(regions) == 1 and len(regions[0]) == 1, regions  # one region: fc1's std cell, not the table
        cell = regions[0][0]
        assert cell.height == 1 and cell.y == table.header_height + 1


async def test_the_ranks_view_names_the_rank_that_went_nan_first(tmp_path: Path) -> None:
    async with watching(write_run(tmp_path / "run"), size=(80, 24)) as (pilot, screen):
        await pilot.press("r")
        assert screen.query_one("#watch-tabs", TabbedContent).active == "tab-ranks"
        ranks = text(screen, "#ranks-view").splitlines()
        assert ranks[0].split() == ["rank", "step", "loss", "state", "last", "step", "steps/s", "device"]
        assert ranks[1].split()[:4] == ["0", "3", "1", "running"] and ranks[2].split()[:4] == [
            "1",
            "3",
            "nan",
            "running",
        ]
        assert ranks[3].strip() == "⚠ rank 1 first to go NaN: loss became nan at step 2"
        await pilot.press("r")
        assert screen.query_one("#watch-tabs", TabbedContent).active == "tab-curves"


async def test_enter_shows_the_selected_layer_on_every_rank(tmp_path: Path) -> None:
    async with watching(write_run(tmp_path / "run")) as (pilot, screen):
        await pilot.press("j", "enter")
        assert screen.query_one("#watch-tabs", TabbedContent).active == "tab-layer"
        shown = text(screen, "#layer-view")
        assert shown.startswith("fc1  Linear\noutput (4,10)  params 60")
        assert "dead %" in shown and shown.split("dead %")[1].split()[0] == "62"
        assert shown.rstrip().endswith("lower the lr or try LeakyReLU")


async def test_t_asks_the_run_to_pause_then_to_resume(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    async with watching(folder) as (pilot, screen):
        await pilot.press("t")
        assert control(folder) == {"command": "pause", "id": 1, "time": control(folder)["time"]}  # type: ignore[index]
        await pilot.press("t")  # the run has not paused yet: t takes the request back
        assert control(folder)["command"] == "resume" and control(folder)["id"] == 2  # type: ignore[index]
        await pilot.press("t")
        append(folder / "rank0.jsonl", line("event", step=3, time=1003.0, event="paused"))
        append(folder / "rank1.jsonl", line("event", step=3, time=1003.0, event="paused"))
        await until(pilot, lambda: " paused " in text(screen, "#watch-header"))
        await pilot.press("t")  # paused: t resumes
        assert control(folder)["command"] == "resume" and control(folder)["id"] == 4  # type: ignore[index]


async def test_s_asks_before_asking_the_run_to_stop(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    async with watching(folder) as (pilot, _):
        await pilot.press("s")
        assert isinstance(pilot.app.screen, ConfirmScreen) and control(folder) is None
        await pilot.press("n")
        assert isinstance(pilot.app.screen, WatchScreen) and control(folder) is None
        await pilot.press("s", "y")
        assert control(folder)["command"] == "stop"  # type: ignore[index]


async def test_a_finished_run_is_a_record_nothing_to_pause(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    append(folder / "rank0.jsonl", line("event", step=3, time=1003.0, event="stopped"))
    append(folder / "rank0.jsonl", line("event", step=3, time=1003.0, event="closed"))
    append(folder / "rank1.jsonl", line("event", step=3, time=1003.0, event="closed"))
    async with watching(folder) as (pilot, screen):
        assert text(screen, "#watch-header").startswith("digits  train.py  2 ranks  stopped after 3 steps")
        await pilot.press("t", "s")
        assert control(folder) is None and isinstance(pilot.app.screen, WatchScreen)
        assert [n.message for n in pilot.app._notifications][-1] == "The run has ended (stopped): nothing to stop"


async def test_an_idle_run_redraws_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_run(tmp_path / "run")
    append(folder / "rank0.jsonl", line("event", step=3, time=1003.0, event="closed"))
    append(folder / "rank1.jsonl", line("event", step=3, time=1003.0, event="closed"))
    async with watching(folder) as (pilot, screen):
        await pilot.pause(1.2)  # the curves' first redraw is done
        refreshed: list[Widget] = []
        refresh = Widget.refresh

        def recorded(self: Widget, *args: Any, **kwargs: Any) -> Any:
            refreshed.append(self)
            return refresh(self, *args, **kwargs)

        monkeypatch.setattr(Widget, "refresh", recorded)
        screen.follow()
        screen.follow()
        await pilot.pause()
        assert refreshed == []


async def test_help_lists_the_watch_keys(tmp_path: Path) -> None:
    async with watching(write_run(tmp_path / "run"), size=(80, 24)) as (pilot, _):
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, WatchHelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        for widget in pilot.app.screen.query(Static):
            console.print(widget.content)
        shown = console.export_text()
        for words in ("Ask the run to pause, or to resume", "asks first", "fold or unfold", "Quit the viewer"):
            assert words in shown
        await pilot.press("escape")
        assert isinstance(pilot.app.screen, WatchScreen)


async def test_warnings_use_in_place_trainings_thresholds_but_spare_a_saturated_output() -> None:
    from tui.core.health_words import health_hint
    from tui.core.runs.state import LayerSample
    from tui.screens.watch_hints import layer_hints

    def sampled(name: str, saturated: float | None, dead: float | None = None) -> LayerSample:
        return LayerSample(name, "Linear", 0.0, 1.0, 0.0, dead, saturated, 1.0, 0.01)

    rows = [{"name": ""}, {"name": "a"}, {"name": "b"}, {"name": "c"}]
    samples = {"a": sampled("a", None, dead=0.49), "b": sampled("b", 0.5), "c": sampled("c", 0.9)}
    assert layer_hints(rows, samples, health_hint) == {
        "a": "",  # 49% dead: under the 50% in-place training warns at
        "b": "50% of outputs are saturated: gradients vanish there — rescale inputs or use ReLU",
        "c": "",  # the model's output: a confident sigmoid is the goal
    }
