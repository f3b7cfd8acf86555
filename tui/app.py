"""The nnview App: app-wide keys, styles and screen routing."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui.core.session import SessionOptions
from tui.screens.confirm import QuitScreen
from tui.screens.explorer import ExplorerScreen
from tui.screens.help import HelpScreen


class NnviewApp(App[None]):
    """See inside a PyTorch model: layers, activations, neurons."""

    CSS_PATH = "app.tcss"
    TITLE = "nnview"
    # Narrow terminals (80x24 over SSH) stack the table above the detail panel.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Quit nnview", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key", id="help"),
    ]

    def __init__(self, options: SessionOptions, watch: bool = True) -> None:
        super().__init__()
        self.options = options
        self.watch_file = watch

    def on_mount(self) -> None:
        self.push_screen(ExplorerScreen(self.options, self.watch_file))

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit; with unsaved training, pause at the next step and ask whether to save first."""
        explorer = next((s for s in self.screen_stack if isinstance(s, ExplorerScreen)), None)
        if explorer is None or explorer.unsaved_steps == 0:
            self.exit()
            return
        explorer.pause_requested.set()

        def chosen(choice: str | None) -> None:
            if choice == "save":
                explorer.save_worker(then_exit=True)
            elif choice == "discard":
                self.exit()

        if not isinstance(self.screen, QuitScreen):
            self.push_screen(QuitScreen(explorer.unsaved_steps), chosen)

    def action_help(self) -> None:
        """Show the help screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
