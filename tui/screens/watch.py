"""``nnview watch``: a run someone else's script is writing, followed live from its folder.

A timer polls the folder (a ``stat`` per file when nothing changed); what changed is drawn, and nothing
else: the table rewrites the statistic cells that changed, text lines are skipped when equal, the curves
are redrawn at most every ``CURVES_EVERY`` seconds and only after new steps. An idle run sends nothing to
the terminal but a stalled run's "last step … ago", once a second.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TabbedContent, TabPane

from tui.core.health_words import health_hint
from tui.core.records import NnviewError
from tui.core.runs.curves import curves, metric_names
from tui.core.runs.notes import rank_notes, run_notes
from tui.core.runs.reader import RunReader, write_control
from tui.screens.confirm import ConfirmScreen
from tui.screens.watch_hints import HintRule, layer_hints
from tui.screens.watch_keys import WATCH_BINDINGS
from tui.widgets.redraw import show_text
from tui.widgets.run_plots import RunCurves
from tui.widgets.run_table import RunTable
from tui.widgets.run_text import facts_text, header_text, layer_text, ranks_text, warnings_text
from tui.widgets.side_tabs import next_tab

POLL_EVERY = 0.5  # seconds between looks at the run folder
CURVES_EVERY = 1.0  # seconds between curve redraws while steps arrive
# Bytes per rank file per poll: about 8 ms of parsing on the UI thread; a long run's backlog is read over
# several polls, and keys are answered between them.
READ_PER_POLL = 256 << 10


class WatchScreen(Screen[None]):
    """The run's header, its layer table with live statistics, and its curves, ranks and selected layer."""

    BINDINGS = WATCH_BINDINGS
    SCOPED_CSS = False  # the -narrow class is on the screen itself
    DEFAULT_CSS = """
    #watch-header { height: 1; background: $panel; padding: 0 1; }
    #watch-facts { height: auto; max-height: 2; padding: 0 1; }
    #watch-warnings { height: auto; max-height: 3; padding: 0 1; display: none; }
    #watch-header, #watch-warnings { text-wrap: nowrap; text-overflow: ellipsis; }  /* one line each, cut */
    #watch-body { height: 1fr; }
    #run-layers { width: 3fr; height: 1fr; }
    #watch-tabs { width: 1fr; height: 1fr; border-left: solid $primary-background; }
    #watch-tabs ContentSwitcher, #watch-tabs TabPane { height: 1fr; padding: 0; }
    #curves { height: 1fr; layout: vertical; }
    #ranks-view, #layer-view { height: auto; padding: 0 1; }
    WatchScreen.-narrow #watch-body { layout: vertical; }
    WatchScreen.-narrow #run-layers { width: 1fr; height: auto; max-height: 50%; }
    WatchScreen.-narrow #watch-tabs { width: 1fr; border-left: none; }
    WatchScreen.-narrow #curves { layout: horizontal; }
    """

    def __init__(self, path: Path, *more: Path) -> None:
        super().__init__()
        self.reader = RunReader(path, *more)
        self.rows: list[dict[str, Any]] | None = None  # the architecture rows the table shows
        self.rows_source: object = None  # what they came from: the architecture, or the sampled layers' names
        self.hints: dict[str, str] = {}  # layer name -> its warning, for the shown rank's latest statistics
        self.hint_rule: HintRule = health_hint  # the same words and thresholds as in-place training
        self.metric = 0  # which metric the second plot shows (c: the next)
        self.requested: str | None = None  # the last pause/resume asked for, until the run's state shows it
        self.curves_drawn = 0.0
        self.curves_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"nnview watch  reading {self.reader.path} …", id="watch-header")
        yield Static("", id="watch-facts")
        yield Static("", id="watch-warnings")
        with Horizontal(id="watch-body"):
            yield RunTable(id="run-layers")
            with TabbedContent(id="watch-tabs", initial="tab-curves"):
                with TabPane("Curves", id="tab-curves"), Horizontal(id="curves"):
                    yield RunCurves(id="loss-curves")
                    yield RunCurves(id="metric-curves")
                with TabPane("Ranks", id="tab-ranks"), VerticalScroll():
                    yield Static("", id="ranks-view")
                with TabPane("Layer", id="tab-layer"), VerticalScroll():
                    yield Static("", id="layer-view")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#metric-curves", RunCurves).display = False  # until a metric arrives
        self.follow()
        self.set_interval(POLL_EVERY, self.follow)
        self.query_one("#run-layers", RunTable).focus()

    # --- following the run -------------------------------------------------------------------

    def follow(self) -> None:
        """Read what the run wrote since the last look; draw what changed (and the ages, which tick)."""
        changed = self.reader.poll(max_bytes=READ_PER_POLL)
        if self.reader.backlog:
            self.set_timer(0.01, self.follow)  # the rest of a long run's lines, without holding the keys up
        now = time.time()
        state = self.reader.state
        if changed:
            self._show_layers()
            show_text(self.query_one("#watch-facts", Static), facts_text(state))
            self._schedule_curves()
            if self.requested and state.status == {"pause": "paused", "resume": "running"}[self.requested]:
                self.requested = None
        show_text(self.query_one("#watch-header", Static), header_text(state, now))
        notes = rank_notes(state, now)
        warnings = run_notes(state, now) + [f"rank {rank} {note}" for rank, note in sorted(notes.items())]
        warnings += [f"{name or 'model'}: {hint}" for name, hint in self.hints.items() if hint]
        shown = self.query_one("#watch-warnings", Static)
        show_text(shown, warnings_text(warnings, 2 if self.has_class("-narrow") else 3))
        shown.display = bool(warnings)
        show_text(self.query_one("#ranks-view", Static), ranks_text(state, now, notes))
        if changed:
            self._show_layer()

    def _show_layers(self) -> None:
        """The table's rows (when the architecture arrived) and the shown rank's latest statistics."""
        state = self.reader.state
        first = state.first_rank()
        sample = first.layers if first is not None else None
        # The architecture once it is there (read once: the same object), else the sampled layers, flat.
        source: object = state.architecture or tuple(layer.name for layer in (sample.layers if sample else ()))
        table = self.query_one("#run-layers", RunTable)
        if self.rows is None or (source is not self.rows_source and source != self.rows_source):
            self.rows_source = source
            self.rows = state.layer_rows or [
                {"name": layer.name, "type": layer.type, "depth": 0} for layer in (sample.layers if sample else ())
            ]
            table.show_rows(self.rows)
        rows = self.rows
        samples = sample.by_name() if sample is not None else {}
        self.hints = layer_hints(rows, samples, self.hint_rule)
        width = table.natural_width
        table.show_stats(samples, {name for name, hint in self.hints.items() if hint})
        if table.natural_width != width:
            self._fit_table()

    def _show_layer(self) -> None:
        """The layer tab: the selected row, every rank's statistics for it, its warning."""
        position = self.query_one("#run-layers", RunTable).selected
        row = self.rows[position] if self.rows and position is not None and position < len(self.rows) else None
        ranks = sorted(self.reader.state.ranks.values(), key=lambda r: r.rank)
        hint = self.hints.get(str(row.get("name") or ""), "") if row else ""
        view = self.query_one("#layer-view", Static)
        show_text(view, layer_text(row, ranks, hint, view.content_size.width or 44))

    def _schedule_curves(self) -> None:
        """Redraw the curves now, or once ``CURVES_EVERY`` after the last redraw (plotext draws in Python)."""
        wait = CURVES_EVERY - (time.monotonic() - self.curves_drawn)
        if wait <= 0:
            self._draw_curves()
        elif self.curves_timer is None:
            self.curves_timer = self.set_timer(wait, self._draw_curves)

    def _draw_curves(self) -> None:
        self.curves_timer = None
        self.curves_drawn = time.monotonic()
        state = self.reader.state
        self.query_one("#loss-curves", RunCurves).show_curves("loss by step", curves(state))
        names = metric_names(state)
        plot = self.query_one("#metric-curves", RunCurves)
        plot.display = bool(names)
        if names:
            name = names[self.metric % len(names)]
            more = "  (c: next)" if len(names) > 1 else ""
            plot.show_curves(f"{name}{more}", curves(state, name))

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_table)  # after the breakpoint classes follow the new size

    def _fit_table(self) -> None:
        self.query_one("#run-layers", RunTable).fit(self.size.width, stacked=self.has_class("-narrow"))

    # --- messages ----------------------------------------------------------------------------

    def on_run_table_layer_selected(self, message: RunTable.LayerSelected) -> None:
        self._show_layer()

    # --- actions -----------------------------------------------------------------------------

    def action_pause_resume(self) -> None:
        """Ask the run to pause at its next step, or to resume when it is paused (or a pause was asked)."""
        state = self.reader.state
        if self._refused("pause"):
            return
        paused = self.requested == "pause" if self.requested else state.status == "paused"
        self._send("resume" if paused else "pause")

    def action_stop(self) -> None:
        """Ask first, then ask the run to stop at its next step."""
        if self._refused("stop"):
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._send("stop")

        question = (
            f"Stop the run {self.reader.state.name}? Every rank stops at its next step: the probe ends the "
            "script there (exit status 0), or a Lightning / Hugging Face fit ends. The viewer stays open."
        )
        self.app.push_screen(ConfirmScreen(question), confirmed)

    def _refused(self, what: str) -> bool:
        """Say why the run cannot be asked to ``what`` (it has not started, or has ended); whether it was."""
        state = self.reader.state
        if not state.ranks:
            self.notify(f"The run has not started yet: nothing to {what}", severity="warning")
            return True
        if state.finished:
            self.notify(f"The run has ended ({state.status}): nothing to {what}", severity="warning")
            return True
        return False

    def _send(self, command: str) -> None:
        try:
            for folder in self.reader.folders:  # the folder holding rank 0 reads it; the others are harmless
                write_control(folder, command)
        except NnviewError as exc:
            self.notify(f"{exc.record.message} — {exc.record.hint}", severity="error", timeout=15)
            return
        if command != "stop":
            self.requested = command
        self.notify(f"Asked the run to {command} at its next step")

    def action_ranks(self) -> None:
        """Show each rank's state; pressed again, back to the curves."""
        tabs = self.query_one("#watch-tabs", TabbedContent)
        tabs.active = "tab-curves" if tabs.active == "tab-ranks" else "tab-ranks"

    def action_next_view(self) -> None:
        """The side panel's next tab: curves, ranks, layer."""
        next_tab(self.query_one("#watch-tabs", TabbedContent))

    def action_next_metric(self) -> None:
        """Plot the next metric beside the loss."""
        self.metric += 1
        self._draw_curves()

    def action_layer_view(self) -> None:
        """The selected layer's statistics on every rank."""
        self.query_one("#watch-tabs", TabbedContent).active = "tab-layer"
        self._show_layer()

    def action_focus_table(self) -> None:
        """Back to the layer table."""
        self.query_one("#run-layers", RunTable).focus()
