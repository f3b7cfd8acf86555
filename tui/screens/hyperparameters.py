"""The `e` form: edit optimizer, learning rate, batch size, epochs and loss, then apply."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from tui.core.load.validate import LOSSES, OPTIMIZERS, parse_field
from tui.core.records import NnviewError
from tui.core.train.trainer import TrainConfig

# setting (tui.core.load.validate.RULES) -> the Input's id and its label in messages
FIELDS = (("lr", "#lr", "learning rate"), ("batch_size", "#batch-size", "batch size"), ("epochs", "#epochs", "epochs"))


class HyperparameterScreen(ModalScreen[TrainConfig | None]):
    """A small form; enter applies (invalid values are named and nothing changes), esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("enter", "apply", "Apply", priority=True)]

    def __init__(self, config: TrainConfig, loss_name: str) -> None:
        super().__init__()
        self.config = config
        self.loss_name = loss_name

    def compose(self) -> ComposeResult:
        config = self.config
        with Vertical(id="form-body"):
            yield Static("Hyperparameters — enter applies, esc cancels", id="form-title")
            with Grid(id="form-grid"):
                yield Label("optimizer")
                yield Select(
                    [(o, o) for o in OPTIMIZERS], value=config.optimizer or "adam", allow_blank=False, id="optimizer"
                )
                yield Label("learning rate")
                yield Input(str(config.lr if config.lr is not None else 0.01), id="lr")
                yield Label("batch size")
                yield Input(str(config.batch_size), id="batch-size")
                yield Label("epochs")
                yield Input(str(config.epochs), id="epochs")
                yield Label("loss")
                losses = [(name, name) for name in LOSSES] + (
                    [("the file's", "file")] if self.loss_name not in LOSSES else []
                )
                yield Select(
                    losses, value=self.loss_name if self.loss_name in LOSSES else "file", allow_blank=False, id="loss"
                )
            yield Static(id="form-error")

    def action_cancel(self) -> None:
        """Close without changes."""
        self.dismiss(None)

    def action_apply(self) -> None:
        """Check every field; close with the new config, or say which field is wrong."""
        values: dict[str, int | float] = {}
        for name, selector, label in FIELDS:
            field = self.query_one(selector, Input)
            try:
                values[name] = parse_field(name, field.value, label)
            except NnviewError as exc:  # the same rules as --lr / --batch-size / --epochs
                self.query_one("#form-error", Static).update(f"{exc.record.message} ({exc.record.hint})")
                field.focus()
                return
        lr, batch, epochs = float(values["lr"]), int(values["batch_size"]), int(values["epochs"])
        loss = str(self.query_one("#loss", Select).value)
        optimizer = str(self.query_one("#optimizer", Select).value)
        self.dismiss(
            replace(
                self.config,
                lr=lr,
                batch_size=batch,
                epochs=epochs,
                optimizer=optimizer,
                loss=None if loss == "file" else loss,
            )
        )
