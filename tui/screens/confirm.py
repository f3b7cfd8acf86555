"""A yes/no question in a small dialog (y / n / esc)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask ``question``; dismiss with True for y, False for n or esc."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body"):
            yield Static(self.question)
            yield Static("y yes   n no", classes="confirm-keys")

    def action_answer(self, answer: bool) -> None:
        """Close with the answer."""
        self.dismiss(answer)


class QuitScreen(ModalScreen[str]):
    """Quitting with unsaved training: save, discard, or stay."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save and quit"),
        Binding("d", "choose('discard')", "Quit without saving"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body"):
            yield Static(f"{self.steps} training steps are not saved.")
            yield Static("s save and quit   d quit without saving   esc stay", classes="confirm-keys")

    def action_choose(self, choice: str) -> None:
        """Close with the choice."""
        self.dismiss(choice)
