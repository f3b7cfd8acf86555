"""The explorer: header, layer table and detail panel; loads, traces and reloads in workers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Static, TabbedContent
from textual.worker import Worker, WorkerState, get_current_worker

from tui.core.guest.threads import Abandoned, call_bounded, current_activity
from tui.core.records import NnviewError, TraceResult
from tui.core.session import ModelSession, SessionOptions, partial_trace
from tui.messages import ModelFileChanged, TraceFailed, TraceReady, TrainingStopped
from tui.screens.explorer_keys import EXPLORER_BINDINGS
from tui.screens.onnx_export import OnnxExportScreen
from tui.screens.training import TrainingScreen
from tui.screens.worker_failures import worker_failure
from tui.text import header_notes
from tui.widgets.detail import DetailPanel
from tui.widgets.error_view import ErrorView
from tui.widgets.header import header_line, still_running_line
from tui.widgets.layer_table import LayerTable
from tui.widgets.redraw import show_text
from tui.widgets.side_tabs import NO_HEALTH, next_tab, side_tabs
from tui.widgets.training_panel import TrainingPanel

# torch loads in the trace worker, never before the first frame ("loading …"): whatever imports it is
# imported where it is used, after a trace (or in a worker).
if TYPE_CHECKING:
    from torch import nn

STILL_RUNNING_AFTER = 2.0  # seconds before the header says what the model's code is still doing


class ExplorerScreen(OnnxExportScreen, TrainingScreen):
    """Browse every layer of the model, sample by sample, and train it in place."""

    BINDINGS = [*EXPLORER_BINDINGS, *TrainingScreen.TRAINING_BINDINGS]

    def __init__(self, options: SessionOptions, watch: bool = True) -> None:
        super().__init__(ModelSession(options))
        self.watch_file = watch
        self.result: TraceResult | None = None
        self.model: nn.Module | None = None
        self.selected = 0
        self.sample = 0
        self.position = 0  # of a sequence output (N, T, C): which of its T positions the detail panel shows
        self.keep: tuple[str, int] | None = None
        self.shown: str | None = None  # "trace" or "error": what the body shows now
        self.stop_watching = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static(Text(f"nnview  loading {self.session.options.model_ref} …"), id="model-header")
        yield Static("", id="model-notes")  # what the figures leave out; shown only when there is something
        with ContentSwitcher(initial="explorer", id="body"):
            with Horizontal(id="explorer"):
                yield LayerTable(id="layers")
                with Vertical(id="side"):
                    yield Static(id="training-status")  # above the tabs: seen whichever tab is open
                    yield from side_tabs()
            yield ErrorView(id="error")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still opens the palette

    def on_mount(self) -> None:
        self.query_one("#training-status", Static).display = False
        self.query_one("#side-tabs", TabbedContent).hide_tab("tab-boundary")  # until there is one to draw
        self.set_interval(1.0, self._show_still_running)
        self.trace("open")
        if self.watch_file and Path(self.session.options.model_ref).is_file():
            self.watch_model_file()

    def on_unmount(self) -> None:
        self.stop_watching.set()

    # --- workers -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="trace", exit_on_error=False)
    def trace(self, reason: str) -> None:
        """Load and trace (or draw a new batch) off the UI thread; post the outcome."""
        worker = get_current_worker()
        work = self.session.new_batch if reason == "batch" else self.session.open
        try:
            # In a daemon thread of its own: a forward that never returns cannot hold up q or a reload.
            result = call_bounded(work, cancelled=lambda: worker.is_cancelled)
        except Abandoned:
            return
        except NnviewError as exc:
            if not get_current_worker().is_cancelled:
                self.post_message(TraceFailed(exc.record, reason))
            return
        if not get_current_worker().is_cancelled:  # a newer reload superseded this one
            assert self.session.loaded is not None
            self.post_message(TraceReady(result, self.session.loaded.model, reason))
        if reason in ("open", "reload") and not worker.is_cancelled:
            self._trace_first_rows(worker)

    def _trace_first_rows(self, worker: Worker[None]) -> None:
        """Then the first rows of the file's dataset(), where the input was inferred (see ModelSession.first_rows)."""
        try:
            result = call_bounded(self.session.first_rows, cancelled=lambda: worker.is_cancelled)
        except Abandoned:
            return
        except NnviewError as exc:  # the inferred trace stays on screen; say why real rows could not be shown
            message = f"showing an inferred input: {exc.record.message}"
            self.app.call_from_thread(self.notify, message, title="dataset()", severity="warning")
            return
        if result is not None and not worker.is_cancelled and self.session.loaded is not None:
            self.post_message(TraceReady(result, self.session.loaded.model, "rows"))

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def watch_model_file(self) -> None:
        """Post ModelFileChanged each time the model file or a module it imported from its folder is saved."""
        from watchfiles import watch

        path = Path(self.session.options.model_ref).resolve()
        for changes in watch(path.parent, stop_event=self.stop_watching, rust_timeout=500, yield_on_timeout=False):
            # session.watched is replaced (never changed in place) by each load: blocks.py beside the model
            watched = {path, *(Path(f).resolve() for f in self.session.watched)}
            changed = [Path(name).resolve() for _, name in changes]
            if any(name in watched for name in changed):
                self.post_message(ModelFileChanged(str(next(n for n in changed if n in watched))))

    # --- messages ----------------------------------------------------------------------------

    def on_trace_ready(self, message: TraceReady) -> None:
        self.result, self.model = message.result, message.model
        table = self.query_one("#layers", LayerTable)
        select = self._index_of(self.keep) if self.keep else self.selected
        if message.reason == "training" and table.selected is not None:
            select = table.selected  # the cursor may be ahead of `keep` (a key still in flight)
        self.query_one("#body", ContentSwitcher).current = "explorer"
        if message.reason == "reload":  # the old run's curves were of another model
            self.query_one("#training", TrainingPanel).forget(NO_HEALTH)
        self.shown = "trace"
        table.show_result(message.result, select=select, live=(live := message.reason in ("training", "rows")))
        self._fit_table()
        if not live:  # a new table: lay it out again once its rows are measured (stacked, its height is auto)
            self.call_after_refresh(table.refresh, layout=True)
        self._show_header(message.result)
        self._show_detail()
        if message.reason != "training":  # live updates must not pull the focus away
            table.focus()

    def on_trace_failed(self, message: TraceFailed) -> None:
        self.query_one("#body", ContentSwitcher).current = "error"
        self.shown = "error"
        self.query_one("#error", ErrorView).show(message.error, partial_trace(message.error))
        header = Text(f"nnview  {self.session.options.model_ref}  ", style="bold")
        header.append(f"error [{message.error.kind}]", style="bold red")
        show_text(self.query_one("#model-header", Static), header)
        self.query_one("#model-notes", Static).display = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker raised past the core's error records: show it, and keep every key answering."""
        failed = worker_failure(event)
        if failed is None:
            return
        event.prevent_default()  # the app stays up: the model, the trained weights and ctrl+s are all still there
        group, record = failed
        if group == "trace":  # else the header says "loading …" forever
            self.post_message(TraceFailed(record, "crash"))
        elif group == "train":  # else `training` stays set and t / s are dead keys
            self.post_message(TrainingStopped("error", record))
        else:
            self.notify(f"{record.message} — {record.hint}", severity="error", timeout=30)

    def on_model_file_changed(self, message: ModelFileChanged) -> None:
        if self.trainer is not None:  # reloading would replace the model being trained
            self.notify("The model file changed: press r to reload (training progress is dropped)")
            return
        self.action_reload()

    def on_layer_table_layer_selected(self, message: LayerTable.LayerSelected) -> None:
        if self.result is None or message.table.id != "layers":
            return
        self.selected = message.index
        rec = self.result.layers[message.index]
        self.keep = (rec.name, rec.call)
        self._show_detail()

    # --- helpers -----------------------------------------------------------------------------

    def _catch_up_with_cursor(self) -> None:
        """Take the row under the cursor: a key typed fast can land before LayerSelected arrives."""
        current = self.query_one("#layers", LayerTable).selected
        if current is not None and current != self.selected:
            self.selected = current
            self._show_detail()

    def _index_of(self, key: tuple[str, int]) -> int:
        assert self.result is not None
        return next((r.index for r in self.result.layers if (r.name, r.call) == key), 0)

    def _show_still_running(self) -> None:
        """While a load or trace takes long, say what is running and where (q still quits)."""
        busy = any(w.group == "trace" and w.state == WorkerState.RUNNING for w in self.workers)
        text = still_running_line(current_activity(), STILL_RUNNING_AFTER) if busy else None
        if text is not None:
            show_text(self.query_one("#model-header", Static), text)

    def _show_header(self, result: TraceResult) -> None:
        """What was traced (one line), and below it, only when there is any, what the figures leave out."""
        text = header_line(result)
        notes = header_notes(result)
        if self.session.options.weights:
            notes = [f"weights from {self.session.options.weights}", *self.session.notes, *notes]
        show_text(self.query_one("#model-header", Static), text)
        shown = self.query_one("#model-notes", Static)
        show_text(shown, Text("  ".join(notes)))
        shown.display = bool(notes)

    def _show_detail(self) -> None:
        if self.result is None or self.selected >= len(self.result.layers):
            return
        from tui.core.explain.sample_view import sample_view

        names = self.session.loaded.namespace.get("classes") if self.session.loaded is not None else None
        labels = self.session.labels_of(self.result)
        view = sample_view(self.result, self.selected, self.sample, self.position, labels=labels, names=names)
        self.sample = view.sample
        self.position = view.position if view.positions else self.position  # other layers keep the position
        self.query_one("#detail", DetailPanel).show(self.result.layers[self.selected], view)

    # --- actions -----------------------------------------------------------------------------

    def action_next_layer(self) -> None:
        """Select the next layer in execution order."""
        self.query_one("#layers", LayerTable).step(1)

    def action_previous_layer(self) -> None:
        """Select the previous layer in execution order."""
        self.query_one("#layers", LayerTable).step(-1)

    def action_sample(self, step: int) -> None:
        """Show another sample of the batch (``]`` the next, ``[`` the previous)."""
        self.sample = max(0, self.sample + step)
        self._show_detail()

    def action_position(self, step: int) -> None:
        """Move the detail panel along a sequence output's positions (tiny_gpt's tokens) by ``step``."""
        self.position = max(0, self.position + step)
        self._show_detail()

    def action_new_batch(self) -> None:
        """Trace a new batch: from the file's dataset() if it has one, else new random input."""
        self.trace("batch")

    def action_reload(self) -> None:
        """Reload the model file and trace it again, keeping the selected layer (stops training)."""
        if self.confirm_unsaved("reload"):  # unsaved steps: ask save / discard / stay, as q does
            return
        if self.training:
            self.notify("Pause training (t) before reloading", severity="warning")
            return
        self.drop_trainer()
        reloading = Text(f"nnview  reloading {self.session.options.model_ref} …")
        show_text(self.query_one("#model-header", Static), reloading)
        self.trace("reload")

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_table)  # after the breakpoint classes follow the new size

    def _fit_table(self) -> None:
        self.query_one("#layers", LayerTable).fit(self.size.width, stacked=self.has_class("-narrow"))

    def action_focus_detail(self) -> None:
        """Open the detail tab and move the focus to it (scroll it with the arrows)."""
        self.query_one("#side-tabs", TabbedContent).active = "tab-detail"
        self.query_one("#detail", DetailPanel).focus()

    def action_next_view(self) -> None:
        """The side panel's next tab: detail, curves, health, boundary (when there is one)."""
        next_tab(self.query_one("#side-tabs", TabbedContent))

    def action_focus_table(self) -> None:
        """Move the focus back to the layer table."""
        self.query_one("#layers", LayerTable).focus()

    def action_view(self, kind: str) -> None:
        """Open the ``kind`` view of the selected layer (x neuron, m maps, f fold, a attention)."""
        self._open_view(kind)

    def _open_view(self, kind: str) -> None:
        """Push the ``kind`` view of the selected layer, or say why the layer has none."""
        from tui.screens.layer_views import layer_view

        if self.result is None or self.model is None:
            return
        self._catch_up_with_cursor()
        view = layer_view(kind, self.result, self.model, self.selected, self.sample, self.session.lock)
        if isinstance(view, str):
            self.notify(view, severity="warning")
        else:
            self.app.push_screen(view)
