"""The error view: what went wrong, where, the fix, and the layers traced before the failure."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.core.records import ErrorRecord, TraceResult
from tui.report import error_view
from tui.widgets.layer_table import LayerTable


def error_text(error: ErrorRecord) -> Text:
    """The same account of the error as ``nnview summary`` prints, and how to get back."""
    text = error_view(error)
    text.append("\nSave the file to reload, or press r.", style="italic")
    return text


class ErrorView(Vertical):
    """Shown instead of the explorer while the model fails to load or run."""

    def compose(self) -> ComposeResult:
        yield Static(id="error-message")
        yield LayerTable(id="error-layers")

    def show(self, error: ErrorRecord, partial: TraceResult | None) -> None:
        """Display ``error``; for a forward failure, the partial table with the failing row marked."""
        self.query_one("#error-message", Static).update(error_text(error))
        table = self.query_one("#error-layers", LayerTable)
        table.display = partial is not None
        if partial is not None:
            failing = next((r.index for r in partial.layers if r.name == error.layer and not r.outputs), None)
            table.show_result(partial, select=failing or 0, marked=failing)
