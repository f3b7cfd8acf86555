"""The explorer's own keys, in one place: the footer, the help screen and remapping read them from here."""

from __future__ import annotations

from textual.binding import Binding

EXPLORER_BINDINGS = [
    # Help and Quit first: the footer shows keys in this order and cuts the end off at 80 columns.
    Binding("question_mark", "app.help", "Help", key_display="?", tooltip="Show every key", id="explorer-help"),
    Binding("q", "app.quit", "Quit", tooltip="Quit nnview", id="explorer-quit"),
    Binding("n", "next_layer", "Next", tooltip="Next layer in execution order", id="next-layer"),
    Binding("p", "previous_layer", "Prev", tooltip="Previous layer in execution order", id="previous-layer"),
    Binding(
        "right_square_bracket",
        "sample(1)",
        "Sample+",
        key_display="]",
        tooltip="Next sample in the batch",
        id="next-sample",
    ),
    Binding(
        "left_square_bracket",
        "sample(-1)",
        "Sample-",
        key_display="[",
        tooltip="Previous sample",
        id="previous-sample",
    ),
    Binding(
        "full_stop",
        "position(1)",
        "Pos+",
        key_display=".",
        tooltip="Next position of a sequence output",
        show=False,
        id="next-position",
    ),
    Binding(
        "comma",
        "position(-1)",
        "Pos-",
        key_display=",",
        tooltip="Previous position of a sequence output",
        show=False,
        id="previous-position",
    ),
    Binding("b", "new_batch", "Batch", tooltip="Trace a new batch", id="new-batch"),
    Binding(
        "x", "view('neuron')", "Neuron", tooltip="Explain one neuron: w·x + b, or kernel × patch + b", id="neuron-view"
    ),
    Binding("m", "view('maps')", "Maps", tooltip="Each channel of a conv output as an image", id="feature-maps"),
    Binding("f", "view('fold')", "Fold", tooltip="How a 2->2 layer folds the plane", id="fold-view"),
    Binding(
        "a",
        "view('attention')",
        "Attention",
        tooltip="The attention map of the selected layer, head by head",
        id="attention-view",
    ),
    Binding("r", "reload", "Reload", tooltip="Reload the model file", id="reload"),
    Binding(
        "o",
        "export_onnx",
        "ONNX",
        tooltip="Export ONNX beside the model file, for Netron (never overwrites)",
        show=False,
        id="export-onnx",
    ),
    Binding("v", "next_view", "View", tooltip="Next side tab: detail, curves, health, boundary", id="next-view"),
    Binding("enter", "focus_detail", "Detail", show=False, tooltip="Open and focus the detail tab", id="focus-detail"),
    Binding("escape", "focus_table", "Table", show=False, tooltip="Back to the layer table", id="focus-table"),
]
