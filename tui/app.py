"""The nnview App: app-wide keys, styles and screen routing."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tui.core.options import SessionOptions  # torch-free: the first frame must not wait for torch
from tui.screens.explorer import ExplorerScreen
from tui.screens.help import HelpScreen
from tui.terminal import draw_through_own_fd


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

    def __init__(self, options: SessionOptions, watch: bool = True, handle_signals: bool = False) -> None:
        super().__init__()
        self.options = options
        self.watch_file = watch
        self.handle_signals = handle_signals  # only the real program: a pilot test must keep pytest's handlers
        self.explorer: ExplorerScreen | None = None
        self.signalled: int | None = None
        self.rescued: Path | None = None  # the emergency checkpoint, when one was written
        self.rescue_error = ""  # why the emergency checkpoint could not be written
        self._rescue_tried = False

    def on_mount(self) -> None:
        self.explorer = ExplorerScreen(self.options, self.watch_file)
        self.push_screen(self.explorer)
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self.terminate, signum)

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit; with unsaved training, pause at the next step and ask whether to save first."""
        if self.explorer is None or not self.explorer.confirm_unsaved("exit"):
            self.exit()

    def emergency_save(self) -> None:
        """Write unsaved training to a rescue checkpoint, once (a crash or a signal is on its way out)."""
        if self._rescue_tried or self.explorer is None:
            return
        self._rescue_tried = True
        self.rescued, self.rescue_error = self.explorer.emergency_save()

    def terminate(self, signum: int) -> None:
        """SIGTERM or SIGHUP: keep unsaved training first (the terminal may be gone), then exit 128+signum."""
        self.signalled = signum
        self.emergency_save()
        self.exit(return_code=128 + signum)

    def _handle_exception(self, error: Exception) -> None:
        """An unexpected exception: save unsaved training before Textual restores the terminal and exits 1."""
        try:
            self.emergency_save()
        finally:
            super()._handle_exception(error)

    def action_help(self) -> None:
        """Show the help screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_app(options: SessionOptions, watch: bool = True) -> int:
    """Run the explorer; the exit status: 0, 1 after a crash, 128+N after signal N (143 SIGTERM, 129 SIGHUP).

    After the terminal is restored, say where unsaved training went if nnview had to write it.
    """
    app = NnviewApp(options, watch=watch, handle_signals=True)
    draw_through_own_fd(app)  # the model's own writes to fds 1 and 2 go to a file, not over the screen
    app.run()
    if app.return_code:
        app.emergency_save()  # a crash the handler did not see still keeps the training
    try:
        if app.rescued is not None:
            print(f"nnview: unsaved training was written to {app.rescued}", file=sys.stderr, flush=True)
        elif app.rescue_error:
            print(f"nnview: unsaved training could not be written: {app.rescue_error}", file=sys.stderr, flush=True)
    except OSError:  # SIGHUP: the terminal is gone; the checkpoint is on disk all the same
        pass
    return app.return_code or 0
