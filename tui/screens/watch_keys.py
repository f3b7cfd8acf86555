"""The watch screen's own keys, in one place: the footer and the help screen read them from here."""

from __future__ import annotations

from textual.binding import Binding, BindingType

WATCH_BINDINGS: list[BindingType] = [
    # Help and Quit first: the footer shows keys in this order and cuts the end off at 80 columns.
    Binding("question_mark", "app.help", "Help", key_display="?", tooltip="Show every key", id="watch-help"),
    Binding("q", "app.quit", "Quit", tooltip="Quit the viewer (the run goes on)", id="watch-quit"),
    Binding(
        "t",
        "pause_resume",
        "Pause/Resume",
        tooltip="Ask the run to pause, or to resume (at its next step)",
        id="watch-pause",
    ),
    Binding("s", "stop", "Stop", tooltip="Ask the run to stop at its next step (asks first)", id="watch-stop"),
    Binding(
        "r",
        "ranks",
        "Ranks",
        tooltip="Each rank's step, loss, state and last step; back to the curves",
        id="watch-ranks",
    ),
    Binding("v", "next_view", "View", tooltip="Next side tab: curves, ranks, layer", id="watch-view"),
    Binding("c", "next_metric", "Metric", tooltip="Plot the next metric beside the loss", id="watch-metric"),
    Binding(
        "enter",
        "layer_view",
        "Layer",
        show=False,
        tooltip="The selected layer's statistics on every rank",
        id="watch-layer",
    ),
    Binding("escape", "focus_table", "Table", show=False, tooltip="Back to the layer table", id="watch-table"),
]

# The table's own keys, for the help screen (they live on the table widget).
MOVE_KEYS = [
    ("↑/↓, j/k", "select a layer"),
    ("home/end, g/G", "the first / the last layer"),
    ("space", "fold or unfold the selected layer's children"),
]
