"""``nnview watch LOGDIR`` on a TensorBoard log folder: its runs, their scalar tags, one tag group's curves, live.

A thread worker polls the folder (:class:`~tui.core.tensorboard.reader.TensorBoardReader`) and posts each
changed snapshot; the screen rewrites the table cells that changed and redraws the plot when the series
it shows changed, at most every ``CURVES_EVERY`` seconds. Keys pick the tag group, the tag, the run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import get_current_worker

from tui.core.tensorboard.groups import series_label, tag_group, tag_groups, thinned
from tui.core.tensorboard.reader import ScalarSeries, TensorBoardReader, TensorBoardRun, TensorBoardState
from tui.widgets.redraw import show_text
from tui.widgets.tb_plot import TbPlot
from tui.widgets.tb_tables import TbRunTable, TbTagTable
from tui.widgets.tb_text import header_text, keys_table, warnings_text

POLL_EVERY = 1.0  # seconds between looks at the log folder
CURVES_EVERY = 1.0  # seconds between plot redraws while new points arrive
SERIES_AT_MOST = 4  # series in one plot: one glyph each, so they read without colour

TB_BINDINGS: list[BindingType] = [
    Binding("question_mark", "app.help", "Help", key_display="?", tooltip="Show every key", id="tb-help"),
    Binding("q", "app.quit", "Quit", tooltip="Quit the viewer (the training goes on)", id="tb-quit"),
    Binding("right_square_bracket", "group(1)", "Group", key_display="]", tooltip="Plot the next tag group"),
    Binding("left_square_bracket", "group(-1)", "", show=False, key_display="[", tooltip="Plot the previous group"),
    Binding("c", "next_tag", "Tag", tooltip="Select the next tag (its group is plotted)", id="tb-next-tag"),
    Binding("r", "next_run", "Run", tooltip="Show the next run's tags and curves", id="tb-next-run"),
    Binding("a", "all_runs", "All runs", tooltip="Plot the selected tag in every run, or back", id="tb-all-runs"),
]


@dataclass
class Polled(Message):
    """The poll worker read something new: the log folder's state now."""

    state: TensorBoardState


@dataclass
class PollFailed(Message):
    """The poll worker could not read the folder (it tries again at the next poll)."""

    error: str


class TbWatchScreen(Screen[None]):
    """The runs, the shown run's tags with their last step and value, and one tag group's curves."""

    BINDINGS = TB_BINDINGS
    SCOPED_CSS = False  # the -narrow class is on the screen itself
    DEFAULT_CSS = """
    #tb-header { height: 1; background: $panel; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #tb-warnings { height: auto; max-height: 2; padding: 0 1; display: none; }
    #tb-body { height: 1fr; }
    #tb-side { width: 56; height: 1fr; }
    #tb-plot { width: 1fr; border-left: solid $primary-background; }
    TbWatchScreen.-narrow #tb-body { layout: vertical; }
    TbWatchScreen.-narrow #tb-side { width: 1fr; height: auto; max-height: 45%; }
    TbWatchScreen.-narrow #tb-tags { height: auto; max-height: 6; }
    TbWatchScreen.-narrow #tb-plot { border-left: none; }
    """

    def __init__(self, reader: TensorBoardReader, poll_every: float = POLL_EVERY) -> None:
        super().__init__()
        self.reader = reader
        self.poll_every = poll_every
        self.state: TensorBoardState | None = None
        self.run_name: str | None = None
        self.all_runs = False  # a: the selected tag in every run, instead of its group in this run
        self.failure = ""  # the last poll's failure, until a poll succeeds
        self.drawn: object = None  # what the plot shows (titles and series objects): redraw only on a change
        self.curves_drawn = 0.0
        self.curves_due = False
        self._stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static(header_text(self.reader.path, None, None, 0.0), id="tb-header")
        yield Static("", id="tb-warnings")
        with Horizontal(id="tb-body"):
            with Vertical(id="tb-side"):
                yield TbRunTable(id="tb-runs")
                yield TbTagTable(id="tb-tags")
            yield TbPlot(id="tb-plot")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#tb-runs", TbRunTable).display = False  # until a second run appears
        self.query_one("#tb-tags", TbTagTable).focus()
        self.poll_folder()
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self._stop.set()

    @work(thread=True, exclusive=True, group="tb-poll")
    def poll_folder(self) -> None:
        """Poll the folder until the screen goes; post each new snapshot, and any failure."""
        worker, failed = get_current_worker(), False
        while not worker.is_cancelled and not self._stop.is_set():
            try:
                changed = self.reader.poll()
            except Exception as exc:  # noqa: BLE001 - the screen says it and the next poll tries again
                self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))
                failed = True
            else:
                if changed or failed:
                    self.post_message(Polled(self.reader.state))
                failed = False
            self._stop.wait(self.poll_every)

    # --- showing the state -------------------------------------------------------------------

    def on_polled(self, message: Polled) -> None:
        self.state, self.failure = message.state, ""
        runs = list(message.state.runs.values())
        names = [run.name for run in runs]
        if self.run_name not in names:
            self.run_name = names[0] if names else None
        table = self.query_one("#tb-runs", TbRunTable)
        table.show_runs(runs, dict(message.state.errors))
        table.display = len(runs) > 1 or bool(message.state.errors)
        self._show_tags()
        self._tick()
        self._schedule_plot()

    def on_poll_failed(self, message: PollFailed) -> None:
        self.failure = message.error
        self._tick()

    def _run(self) -> TensorBoardRun | None:
        return self.state.runs.get(self.run_name) if self.state and self.run_name is not None else None

    def _tag(self) -> str | None:
        return self.query_one("#tb-tags", TbTagTable).selected

    def _show_tags(self) -> None:
        run = self._run()
        tag = self._tag()
        self.query_one("#tb-tags", TbTagTable).show_tags(dict(run.scalars) if run else {}, tag and tag_group(tag))

    def _tick(self) -> None:
        """The header (its age ticks) and the warnings."""
        state = self.state
        show_text(
            self.query_one("#tb-header", Static), header_text(self.reader.path, state, self.run_name, time.time())
        )
        warnings = warnings_text(state.errors if state else {}, self.failure)
        shown = self.query_one("#tb-warnings", Static)
        show_text(shown, warnings)
        shown.display = bool(warnings.plain)

    def _schedule_plot(self) -> None:
        """Redraw now, or once ``CURVES_EVERY`` after the last redraw (plotext draws in Python)."""
        wait = CURVES_EVERY - (time.monotonic() - self.curves_drawn)
        if wait <= 0:
            self._draw_plot()
        elif not self.curves_due:
            self.curves_due = True
            self.set_timer(wait, self._draw_plot)

    def _draw_plot(self, force: bool = False) -> None:
        self.curves_due = False
        title, shown = self._plot_content()
        plot = self.query_one("#tb-plot", TbPlot)
        key = (title, tuple((label, id(series)) for label, series in shown), plot.size)
        if key == self.drawn and not force:
            return
        self.drawn, self.curves_drawn = key, time.monotonic()
        most = max(8, plot.content_size.width)
        plot.show_series(title, {label: thinned(series.points(), most) for label, series in shown})

    def _plot_content(self) -> tuple[str, list[tuple[str, ScalarSeries]]]:
        """The plot's title and its (label, series) pairs: the selected tag's group, or the tag in every run."""
        run, tag = self._run(), self._tag()
        if run is None or tag is None or tag not in run.scalars:
            return ("no scalars yet" if self.state else "reading …"), []
        if self.all_runs and self.state is not None:
            having = [(name, other.scalars[tag]) for name, other in self.state.runs.items() if tag in other.scalars]
            shown = having[:SERIES_AT_MOST]
            more = f" ({len(shown)} of {len(having)})" if len(having) > len(shown) else ""
            return f"{tag}, every run{more}", list(shown)
        tags = tag_groups(run.scalars)[tag_group(tag)]
        first = max(0, min(tags.index(tag) - 1, len(tags) - SERIES_AT_MOST))  # the selected tag and its neighbours
        shown_tags = tags[first : first + SERIES_AT_MOST]
        more = f" ({len(shown_tags)} of {len(tags)}, c: next tag)" if len(tags) > len(shown_tags) else ""
        return f"{tag_group(tag)}{more}", [(series_label(t), run.scalars[t]) for t in shown_tags]

    def on_resize(self) -> None:
        self.call_after_refresh(self._draw_plot)

    # --- keys and selection ------------------------------------------------------------------

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if message.data_table.id == "tb-runs":
            name = str(message.row_key.value)
            if name != self.run_name:
                tag = self._tag()
                self.run_name = name
                self._show_tags()
                self.query_one("#tb-tags", TbTagTable).select(tag)  # the same tag in the new run, if it has it
        else:
            self._show_tags()  # the plotted group's tags in bold
        self._tick()
        self._draw_plot()

    def action_group(self, offset: int) -> None:
        """Select the first tag of the next (``offset`` 1) or previous (-1) tag group."""
        run, tag = self._run(), self._tag()
        if run is None or tag is None:
            return
        groups = list(tag_groups(run.scalars).items())
        names = [name for name, _ in groups]
        position = (names.index(tag_group(tag)) + offset) % len(groups)
        self.query_one("#tb-tags", TbTagTable).select(groups[position][1][0])

    def action_next_tag(self) -> None:
        """Select the next tag (the first after the last)."""
        table = self.query_one("#tb-tags", TbTagTable)
        if table.row_count:
            table.move_cursor(row=(table.cursor_row + 1) % table.row_count)

    def action_next_run(self) -> None:
        """Show the next run (the first after the last)."""
        table = self.query_one("#tb-runs", TbRunTable)
        if table.row_count > 1:
            table.move_cursor(row=(table.cursor_row + 1) % table.row_count)
        else:
            self.notify("This log folder holds one run", severity="warning")

    def action_all_runs(self) -> None:
        """Plot the selected tag in every run; pressed again, the tag's group in the shown run."""
        self.all_runs = not self.all_runs
        self._draw_plot()


class TbHelpScreen(ModalScreen[None]):
    """Every key of the TensorBoard view; esc, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("nnview watch (TensorBoard logs) keys — esc to close", id="help-title")
            yield Static(keys_table(TB_BINDINGS))


class TbWatchApp(App[None]):
    """Follow a TensorBoard log folder's scalars live."""

    CSS_PATH = str(Path(__file__).parents[1] / "app.tcss")
    TITLE = "nnview watch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # 80x24: the tables above the plot

    def __init__(self, reader: TensorBoardReader, poll_every: float = POLL_EVERY) -> None:
        super().__init__()
        self.reader, self.poll_every = reader, poll_every

    def on_mount(self) -> None:
        self.push_screen(TbWatchScreen(self.reader, self.poll_every))

    def action_help(self) -> None:
        """Show the help screen."""
        if not isinstance(self.screen, TbHelpScreen):
            self.push_screen(TbHelpScreen())


def run_tb_watch_app(reader: TensorBoardReader) -> int:
    """Run the viewer on a checked log folder's reader; the exit status."""
    app = TbWatchApp(reader)
    app.run()
    return app.return_code or 0
