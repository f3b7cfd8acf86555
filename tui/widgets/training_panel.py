"""The training panel: progress, loss and accuracy curves, and layer health warnings."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui.core.health import LayerHealth
from tui.core.training import EpochRecord, StepRecord


class CurvePlot(PlotextPlot):
    """Named series of (x, y) points, redrawn together."""

    DEFAULT_CSS = """
    CurvePlot { height: 1fr; min-height: 6; }
    """

    def show_series(
        self, title: str, series: dict[str, list[tuple[float, float]]], ylim: tuple[float, float] | None = None
    ) -> None:
        """Replace every series and redraw."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        for label, points in series.items():
            if points:
                plt.plot([p[0] for p in points], [p[1] for p in points], label=label)
        if ylim is not None:
            plt.ylim(*ylim)
        self.refresh()


def health_text(health: list[LayerHealth]) -> Text:
    """One line per weighted layer: dead %, saturated %, grad norm, update ratio; warnings in red."""
    text = Text()
    text.append("layer        dead  sat   grad     upd/w\n", style="bold")
    for h in health:
        dead = f"{h.dead_frac:4.0%}" if h.dead_frac is not None else "   -"
        sat = f"{h.saturated_frac:4.0%}" if h.saturated_frac is not None else "   -"
        grad = f"{h.grad_norm:8.2g}" if h.grad_norm is not None else "       -"
        update = f"{h.update_ratio:8.2g}" if h.update_ratio is not None else "       -"
        text.append(f"{h.layer:<12.12} {dead}  {sat} {grad} {update}\n", style="red" if h.hint else "")
        if h.hint:
            text.append(f"  ⚠ {h.hint}\n", style="bold red")
    return text


class TrainingPanel(Vertical):
    """Shown while the model trains: where it is, how fast, and how the curves go."""

    def compose(self) -> ComposeResult:
        yield Static(id="training-status")
        yield CurvePlot(id="loss-plot")
        yield CurvePlot(id="accuracy-plot")
        yield Static(id="training-health")

    def on_mount(self) -> None:
        self.step_losses: list[tuple[float, float]] = []
        self.epochs: list[EpochRecord] = []

    def reset(self) -> None:
        """Forget the curves (after the weights were reset)."""
        self.step_losses, self.epochs = [], []
        self._redraw()

    def add(self, steps: list[StepRecord], epoch: EpochRecord | None, steps_per_epoch: int) -> None:
        """Add new points and redraw the curves."""
        self.step_losses.extend((s.step / steps_per_epoch, s.loss) for s in steps)
        self.step_losses = self.step_losses[-2000:]
        if epoch is not None:
            self.epochs.append(epoch)
        self._redraw()

    def _redraw(self) -> None:
        loss = {
            "step": self.step_losses,
            "train": [(e.epoch, e.train_loss) for e in self.epochs],
            "val": [(e.epoch, e.val_loss) for e in self.epochs],
        }
        self.query_one("#loss-plot", CurvePlot).show_series("loss by epoch", loss)
        accuracy = {
            "train": [(e.epoch, e.train_accuracy) for e in self.epochs if e.train_accuracy is not None],
            "val": [(e.epoch, e.val_accuracy) for e in self.epochs if e.val_accuracy is not None],
        }
        self.query_one("#accuracy-plot", CurvePlot).show_series("accuracy", accuracy, (0.0, 1.0))

    def show_status(self, text: Text) -> None:
        """The progress line: state, epoch, step, rate, lr, last losses."""
        self.query_one("#training-status", Static).update(text)

    def show_health(self, health: list[LayerHealth]) -> None:
        """The per-layer health lines."""
        self.query_one("#training-health", Static).update(health_text(health))
