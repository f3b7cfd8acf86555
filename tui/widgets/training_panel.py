"""The training panel: progress, loss and accuracy curves, and layer health warnings."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from tui.core.boundary import DecisionBoundary
from tui.core.health import LayerHealth
from tui.core.training import EpochRecord, StepRecord
from tui.widgets.plots import ScatterPlot

REDRAW_EVERY = 0.5  # seconds between plot redraws while training
MAX_STEP_POINTS = 300  # the step-loss series is thinned to this many points for drawing


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
        yield ScatterPlot(id="boundary-plot")
        yield Static(id="training-health")

    def on_mount(self) -> None:
        self.query_one("#boundary-plot", ScatterPlot).display = False
        self.last_redraw = 0.0
        self.step_losses: list[tuple[float, float]] = []
        self.epochs: list[EpochRecord] = []

    def reset(self) -> None:
        """Forget the curves (after the weights were reset)."""
        self.step_losses, self.epochs = [], []
        self._redraw()

    def add(self, steps: list[StepRecord], epoch: EpochRecord | None, steps_per_epoch: int, final: bool) -> None:
        """Add new points; redraw the curves at most REDRAW_EVERY seconds apart (and on the last batch).

        Plotext renders in Python on the UI thread: redrawing on every message would hold the GIL
        the training thread needs, and training would crawl.
        """
        self.step_losses.extend((s.step / steps_per_epoch, s.loss) for s in steps)
        if epoch is not None:
            self.epochs.append(epoch)
        now = time.monotonic()
        if final or now - self.last_redraw >= REDRAW_EVERY:
            self.last_redraw = now
            self._redraw()

    def _redraw(self) -> None:
        stride = max(1, len(self.step_losses) // MAX_STEP_POINTS)
        loss = {
            "step": self.step_losses[::stride],
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

    def show_boundary(self, boundary: DecisionBoundary, epoch: int) -> None:
        """The predicted class over the plane (dots) with the validation points (x), per class."""
        plot = self.query_one("#boundary-plot", ScatterPlot)
        plot.display = True
        classes = sorted({c for *_, c in boundary.points} | {c for *_, c in boundary.samples})
        palette = ["blue", "red", "green", "magenta", "cyan", "yellow"]
        series, colors = [], []
        for c in classes:
            color = palette[c % len(palette)]
            series.append((f"region {c}", [(x, y) for x, y, k in boundary.points if k == c], "dot"))
            series.append((f"class {c}", [(x, y) for x, y, k in boundary.samples if k == c], "x"))
            colors += [color, color]
        title = f"decision boundary, epoch {epoch} (val acc {boundary.accuracy:.2f})"
        plot.show_points(title, series, colors)

    def show_health(self, health: list[LayerHealth]) -> None:
        """The per-layer health lines."""
        self.query_one("#training-health", Static).update(health_text(health))
