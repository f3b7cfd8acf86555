"""The TensorBoard view on written log folders: the runs, the tags with exact counts, one group's curves, the
keys that pick group, tag and run, new points as the events file grows, and failures on screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.tui.conftest import until
from tui.core.tensorboard.reader import TensorBoardReader
from tui.core.tensorboard.writer import TensorBoardLog
from tui.core.train.records import EpochRecord
from tui.screens.tb_watch import TbHelpScreen, TbWatchApp, TbWatchScreen
from tui.widgets.tb_plot import TbPlot
from tui.widgets.tb_tables import TbRunTable, TbTagTable

pytest.importorskip("tensorboard", reason='pip install -e ".[tensorboard]"')
pytestmark = pytest.mark.asyncio

TAGS = [
    "accuracy/train", "accuracy/val",
    "layers/grad_norm/fc1", "layers/grad_norm/fc2", "layers/grad_norm/fc3", "layers/grad_norm/fc4",
    "layers/grad_norm/fc5", "layers/update_ratio/fc1", "layers/update_ratio/fc2", "layers/update_ratio/fc3",
    "layers/update_ratio/fc4", "layers/update_ratio/fc5", "learning_rate", "loss/train", "loss/val",
]  # fmt: skip


def write_epochs(log: TensorBoardLog, first: int, last: int, scale: float = 1.0) -> None:
    """Epochs ``first..last``: losses 12/e and 24/e (x ``scale``), accuracies e/8, five layers sampled at 10 x e.

    Every number is exact in float32, as event files hold them.
    """
    for e in range(first, last + 1):
        log.epoch(EpochRecord(e, 8, scale * 12 / e, scale * 24 / e, e / 8, e / 16), lr=0.5)
        log.layers(10 * e, [{"name": f"fc{i}", "grad_norm": i / 2, "update_ratio": i / 64} for i in range(1, 6)])
    log.flush()


def write_logs(root: Path) -> Path:
    """Two runs of four epochs: ``base`` and ``wide`` (twice the loss)."""
    for name, scale in (("base", 1.0), ("wide", 2.0)):
        with TensorBoardLog(root / name) as log:
            write_epochs(log, 1, 4, scale)
    return root


@asynccontextmanager
async def viewing(folder: Path, size: tuple[int, int] = (120, 40)) -> AsyncIterator[tuple[Pilot[None], TbWatchScreen]]:
    """The viewer on ``folder``, once its first snapshot is on screen."""
    app = TbWatchApp(TensorBoardReader(folder), poll_every=0.05)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TbWatchScreen) and app.screen.state is not None)
        assert isinstance(app.screen, TbWatchScreen)
        await until(pilot, lambda: app.screen.query_one(TbPlot).series != {})
        yield pilot, app.screen


def rows(table: TbTagTable | TbRunTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def plot(screen: TbWatchScreen) -> TbPlot:
    return screen.query_one("#tb-plot", TbPlot)


async def test_the_tags_of_the_first_run_with_their_counts_and_the_first_groups_curves(tmp_path: Path) -> None:
    async with viewing(write_logs(tmp_path)) as (_, screen):
        assert rows(screen.query_one("#tb-runs", TbRunTable)) == [["base", "15", "40"], ["wide", "15", "40"]]
        tags = rows(screen.query_one("#tb-tags", TbTagTable))
        assert [row[0] for row in tags] == TAGS
        assert tags[TAGS.index("loss/val")] == ["loss/val", "4", "4", "6"]
        assert tags[TAGS.index("layers/update_ratio/fc2")] == ["layers/update_ratio/fc2", "4", "40", "0.03125"]
        assert plot(screen).title == "accuracy"
        assert plot(screen).series == {
            "train": [(1.0, 0.125), (2.0, 0.25), (3.0, 0.375), (4.0, 0.5)],
            "val": [(1.0, 0.0625), (2.0, 0.125), (3.0, 0.1875), (4.0, 0.25)],
        }
        header = str(screen.query_one("#tb-header", Static).render())
        assert header.startswith("TensorBoard  2 runs, showing base  30 tags  newest ")
        assert header.endswith(f" ago  {tmp_path}")


async def test_brackets_pick_the_group_c_the_tag_and_a_long_group_shows_four_around_it(tmp_path: Path) -> None:
    async with viewing(write_logs(tmp_path)) as (pilot, screen):
        await pilot.press("right_square_bracket")
        assert plot(screen).title == "layers/grad_norm (4 of 5, c: next tag)"
        assert list(plot(screen).series) == ["fc1", "fc2", "fc3", "fc4"]
        assert plot(screen).series["fc3"] == [(10.0, 1.5), (20.0, 1.5), (30.0, 1.5), (40.0, 1.5)]
        for _ in range(4):
            await pilot.press("c")
        assert screen.query_one("#tb-tags", TbTagTable).selected == "layers/grad_norm/fc5"
        assert list(plot(screen).series) == ["fc2", "fc3", "fc4", "fc5"]
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        assert (plot(screen).title, list(plot(screen).series)) == ("loss", ["train", "val"])
        await pilot.press("left_square_bracket")
        assert (plot(screen).title, list(plot(screen).series)) == ("learning_rate", ["learning_rate"])
        await pilot.press("right_square_bracket", "right_square_bracket")  # past the last group: the first
        assert plot(screen).title == "accuracy"


async def test_r_shows_the_next_run_and_a_plots_the_tag_in_every_run(tmp_path: Path) -> None:
    async with viewing(write_logs(tmp_path)) as (pilot, screen):
        await pilot.press("left_square_bracket")  # from the first group back to the last: loss
        await pilot.press("r")
        assert screen.run_name == "wide"
        assert screen.query_one("#tb-tags", TbTagTable).selected == "loss/train"  # the same tag, in the new run
        assert plot(screen).series["train"] == [(1.0, 24.0), (2.0, 12.0), (3.0, 8.0), (4.0, 6.0)]
        await pilot.press("a")
        assert plot(screen).title == "loss/train, every run"
        assert plot(screen).series == {
            "base": [(1.0, 12.0), (2.0, 6.0), (3.0, 4.0), (4.0, 3.0)],
            "wide": [(1.0, 24.0), (2.0, 12.0), (3.0, 8.0), (4.0, 6.0)],
        }
        await pilot.press("a")
        assert plot(screen).title == "loss"


async def test_points_written_while_watched_appear_in_the_table_and_the_plot(tmp_path: Path) -> None:
    log = TensorBoardLog(tmp_path / "live")
    write_epochs(log, 1, 2)
    try:
        async with viewing(tmp_path) as (pilot, screen):
            table = screen.query_one("#tb-tags", TbTagTable)
            assert rows(table)[0] == ["accuracy/train", "2", "2", "0.25"]
            assert not screen.query_one("#tb-runs", TbRunTable).display  # one run: no run list
            write_epochs(log, 3, 5)
            await until(pilot, lambda: rows(table)[0] == ["accuracy/train", "5", "5", "0.625"])
            await until(pilot, lambda: len(plot(screen).series["train"]) == 5)
            assert plot(screen).series["train"][-1] == (5.0, 0.625)
            with TensorBoardLog(tmp_path / "second") as other:  # a new run folder appears
                other.scalar("loss/train", 1.0, 1)
            runs = screen.query_one("#tb-runs", TbRunTable)
            await until(pilot, lambda: rows(runs) == [["live", "15", "50"], ["second", "1", "1"]])
            assert runs.display
    finally:
        log.close()


async def test_a_run_that_cannot_be_read_and_a_failed_poll_are_on_screen(tmp_path: Path) -> None:
    write_logs(tmp_path)
    async with viewing(tmp_path) as (pilot, screen):
        reader = screen.reader

        def broken() -> None:
            raise OSError("Input/output error")

        reader._accumulators["wide"].Reload = broken
        with TensorBoardLog(tmp_path / "base") as log:
            log.scalar("loss/train", 1.0, 5)  # something new, so the screen gets a fresh snapshot
        warnings = screen.query_one("#tb-warnings", Static)
        await until(pilot, lambda: "run wide: could not be read: OSError: Input/output error" in str(warnings.render()))
        assert rows(screen.query_one("#tb-runs", TbRunTable))[1] == ["wide", "15", "unreadable"]
        polls = reader.poll

        def failing() -> bool:
            raise PermissionError("Permission denied")

        reader.poll = failing  # type: ignore[method-assign]
        await until(
            pilot, lambda: "the folder could not be read: PermissionError: Permission denied" in str(warnings.render())
        )
        reader.poll = polls  # type: ignore[method-assign]
        await until(pilot, lambda: "the folder could not be read" not in str(warnings.render()))


async def test_at_80x24_without_colour_the_tables_sit_above_a_plot_whose_series_differ_by_glyph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with viewing(write_logs(tmp_path), size=(80, 24)) as (pilot, screen):
        await pilot.pause()
        tags, shown = screen.query_one("#tb-tags", TbTagTable).region, plot(screen).region
        assert tags.bottom <= shown.y and shown.width == 80 and shown.height >= 10
        drawn = plot(screen).render().plain  # type: ignore[union-attr]
        assert "·· train" in drawn and "++ val" in drawn
        await pilot.press("question_mark")
        assert isinstance(screen.app.screen, TbHelpScreen)
