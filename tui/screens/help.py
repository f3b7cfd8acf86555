"""The help screen: every key, from the bindings themselves (one place to change them)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

MOVE_KEYS = [
    ("↑/↓, j/k", "select a layer"),
    ("home/end, g/G", "the first / the last layer"),
    ("space", "fold or unfold the selected layer's children"),
]


def key_table(groups: list[tuple[str, list[Binding]]]) -> Table:
    """A two-column table of key and what it does, grouped by screen."""
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what it does")
    for title, bindings in groups:
        # The title in the wide column: in the key column it would widen it for every row.
        table.add_row("", f"[bold underline]{title}[/]", end_section=False)
        if title == "Explorer":
            for key, what in MOVE_KEYS:
                table.add_row(key, what)
        for binding in bindings:
            key = binding.key_display or binding.key.replace("_", " ")
            table.add_row(key, binding.tooltip or binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    """Every key nnview answers to; any key closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        from tui.app import NnviewApp
        from tui.screens.attention import AttentionScreen
        from tui.screens.conv_neuron import ConvNeuronScreen
        from tui.screens.explorer import ExplorerScreen
        from tui.screens.feature_maps import FeatureMapScreen
        from tui.screens.fold import FoldScreen
        from tui.screens.neuron import NeuronScreen

        groups = [
            ("Explorer", list(ExplorerScreen.BINDINGS)),
            ("Neuron view (x on a Linear layer)", list(NeuronScreen.BINDINGS)),
            ("Conv neuron view (x on a Conv2d layer)", list(ConvNeuronScreen.BINDINGS)),
            ("Feature maps (m)", list(FeatureMapScreen.BINDINGS)),
            ("Attention map (a)", list(AttentionScreen.BINDINGS)),
            ("Fold view (f)", list(FoldScreen.BINDINGS)),
            ("Everywhere", list(NnviewApp.BINDINGS)),
        ]
        with VerticalScroll(id="help-body"):
            yield Static("nnview keys — esc to close", id="help-title")
            yield Static(key_table(groups))  # type: ignore[arg-type]
