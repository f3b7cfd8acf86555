"""The ``nnview watch`` App: the watch screen, its help, and the app-wide keys (q, ?)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.watch import WatchScreen
from tui.screens.watch_keys import MOVE_KEYS, WATCH_BINDINGS


class WatchHelpScreen(ModalScreen[None]):
    """Every key the viewer answers to; esc, ? or q closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(show_edge=False, pad_edge=False, box=None)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("what it does")
        for key, what in MOVE_KEYS:
            table.add_row(key, what)
        for binding in WATCH_BINDINGS:
            if isinstance(binding, Binding):
                table.add_row(binding.key_display or binding.key.replace("_", " "), binding.tooltip)
        with VerticalScroll(id="help-body"):
            yield Static("nnview watch keys — esc to close", id="help-title")
            yield Static(table)
            yield Static(
                "\nPause, resume and stop are requests the run's probe reads at its next step; every rank obeys "
                "at the same step. A script without a probe is not affected. Quitting the viewer leaves the run "
                "running."
            )


class WatchApp(App[None]):
    """Follow a training run's folder live: its layers, curves and ranks."""

    CSS_PATH = str(Path(__file__).parents[1] / "app.tcss")  # the explorer's dialogs and help look the same here
    TITLE = "nnview watch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # 80x24: the table above the curves
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Quit the viewer (the run goes on)", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key", id="help"),
    ]

    def __init__(self, path: Path, *more: Path) -> None:
        super().__init__()
        self.paths = [path, *more]

    def on_mount(self) -> None:
        self.push_screen(WatchScreen(*self.paths))

    def action_help(self) -> None:
        """Show the help screen."""
        if not isinstance(self.screen, WatchHelpScreen):
            self.push_screen(WatchHelpScreen())


def run_watch_app(paths: list[Path]) -> int:
    """Run the viewer on ``paths`` (one run's folders, already checked); the exit status."""
    app = WatchApp(*paths)
    app.run()
    return app.return_code or 0
