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
    """Quitting (or reloading) with unsaved training: save first, go ahead without saving, or stay."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save first"),
        Binding("d", "choose('discard')", "Don't save"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]

    VERBS = {"exit": "quit", "reload": "reload"}

    def __init__(self, steps: int, then: str = "exit") -> None:
        super().__init__()
        self.steps = steps
        self.verb = self.VERBS.get(then, then)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body"):
            yield Static(f"{self.steps} training steps are not saved.")
            yield Static(f"s save and {self.verb}   d {self.verb} without saving   esc stay", classes="confirm-keys")

    def action_choose(self, choice: str) -> None:
        """Close with the choice."""
        self.dismiss(choice)
