"""The training panel: the status line and the curves of a training update, the boundary, layer health."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static, TabbedContent
from textual_plotext import PlotextPlot

from tui.widgets.layer_table import LayerTable
from tui.widgets.plots import ScatterPlot
from tui.widgets.redraw import release_height, show_text

if TYPE_CHECKING:
    from tui.core.train.boundary import DecisionBoundary
    from tui.core.train.health import LayerHealth
    from tui.core.train.loop import TrainingUpdate
    from tui.core.train.records import EpochRecord

REDRAW_EVERY = 1.0  # seconds between curve redraws while training
STATUS_EVERY = 0.5  # seconds between status-line redraws while training (the last update always shows)
# Glyphs of the series: loose dots for every step's loss, + and x for the epochs' train and val figures.
MARKERS = {"step": "·", "train": "+", "val": "x"}
REGION_GLYPHS = ("·", ":", "-", "~", "=", "'")  # the predicted class over the plane, per class
POINT_GLYPHS = ("x", "o", "+", "*", "#", "@")  # the validation points, per true class
MAX_STEP_POINTS = 300  # the step-loss series is thinned to this many points for drawing


class CurvePlot(PlotextPlot):
    """Named series of (x, y) points, redrawn together."""

    DEFAULT_CSS = """
    CurvePlot { height: 1fr; min-height: 6; }
    """

    def show_series(
        self, title: str, series: dict[str, list[tuple[float, float]]], ylim: tuple[float, float] | None = None
    ) -> None:
        """Replace every series and redraw: each with its own glyph (``MARKERS``), so they read without colour.

        The per-step series is drawn as loose points, the per-epoch ones as lines.
        """
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        for label, points in series.items():
            if points:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                draw = plt.scatter if label == "step" else plt.plot
                draw(xs, ys, label=label, marker=MARKERS.get(label))  # the legend shows each marker
        if ylim is not None:
            plt.ylim(*ylim)
        self.refresh()


def loss_limits(steps: list[tuple[float, float]], epochs: list[tuple[float, float]]) -> tuple[float, float] | None:
    """A y range that shows every epoch loss and the middle 90% of the noisy step losses.

    One early step loss of 3.0 would otherwise squash the epoch curves into the bottom rows.
    """
    values = sorted(y for _, y in steps if y == y)  # NaN never compares equal to itself
    kept = values[len(values) // 20 : len(values) - len(values) // 20] or values
    every = kept + [y for _, y in epochs if y == y]
    if not every:
        return None
    low, high = min(every), max(every)
    margin = (high - low) * 0.05 or abs(high) * 0.05 or 0.05
    return low - margin, high + margin


def cut_left(name: str, most: int) -> str:
    """``name``, or ``…`` and its last ``most - 1`` characters: the end tells siblings apart."""
    return name if len(name) <= most else "…" + name[len(name) - most + 1 :]


def health_text(health: list[LayerHealth], width: int = 80) -> Text:
    """One line per weighted layer: its whole name, dead %, saturated %, grad norm, update ratio; warnings
    marked ⚠ (and red). A name is cut from the left only when it would not fit in ``width`` columns."""
    figures = 31  # "  dead  sat   grad     upd/w" after the name column
    names = max([5, *(len(h.layer) for h in health)])
    column = max(8, min(names, width - figures))
    text = Text()
    text.append(f"{'layer':<{column}}  dead  sat   grad     upd/w\n", style="bold")
    for h in health:
        dead = f"{h.dead_frac:4.0%}" if h.dead_frac is not None else "   -"
        sat = f"{h.saturated_frac:4.0%}" if h.saturated_frac is not None else "   -"
        grad = f"{h.grad_norm:8.2g}" if h.grad_norm is not None else "       -"
        update = f"{h.update_ratio:8.2g}" if h.update_ratio is not None else "       -"
        name = cut_left(h.layer, column)
        text.append(f"{name:<{column}}  {dead}  {sat} {grad} {update}\n", style="red" if h.hint else "")
        if h.hint:
            text.append(f"  ⚠ {h.hint}\n", style="bold red")
    return text


def status_text(update: TrainingUpdate, running: bool, last_epoch: EpochRecord | None) -> Text:
    """``training  epoch 3/20  step 61  950 steps/s  lr 0.01  loss 0.4120  val loss 0.3981  val acc 0.912``."""
    text = Text()
    label = "training " if running else ("finished " if update.done else "paused ")
    text.append(label, style="bold green" if running else "bold")
    text.append(f"  epoch {update.epoch}/{update.epochs}  step {update.step}")
    if len(update.steps) > 1 or (running and update.steps):  # one step (s) has no rate worth showing
        text.append(f"  {update.steps_per_second:.0f} steps/s")
    text.append(f"  lr {update.lr:g}")
    if update.steps:
        text.append(f"  loss {update.steps[-1].loss:.4f}")
    if last_epoch is not None:
        acc = f"  val acc {last_epoch.val_accuracy:.3f}" if last_epoch.val_accuracy is not None else ""
        text.append(f"  val loss {last_epoch.val_loss:.4f}{acc}")
    return text


class TrainingPanel(Vertical):
    """The curves tab, and what training shows elsewhere on the screen: the status line above the side
    panel's tabs, the health tab and the decision boundary tab (see ``side_tabs``)."""

    def compose(self) -> ComposeResult:
        yield CurvePlot(id="loss-plot")
        yield CurvePlot(id="accuracy-plot")

    def on_mount(self) -> None:
        self.revealed = False
        self.last_redraw = self.last_status = 0.0
        self.step_losses: list[tuple[float, float]] = []
        self.epochs: list[EpochRecord] = []
        self.status: Text | None = None  # the newest status line, drawn at most every STATUS_EVERY seconds
        self.status_timer: Timer | None = None

    def reveal(self) -> None:
        """Training started: show the status line, and the curves tab the first time."""
        self.screen.query_one("#training-status", Static).display = True
        if not self.revealed:
            self.revealed = True
            self.screen.query_one("#side-tabs", TabbedContent).active = "tab-curves"

    def forget(self, health_placeholder: str) -> None:
        """A new model (a reload): no curves, no status, no health, no boundary; the detail tab again."""
        self.reset()
        self.revealed = False
        screen = self.screen
        screen.query_one("#training-status", Static).display = False
        show_text(screen.query_one("#training-health", Static), health_placeholder)
        tabs = screen.query_one("#side-tabs", TabbedContent)
        tabs.hide_tab("tab-boundary")
        tabs.active = "tab-detail"

    def reset(self) -> None:
        """Forget the curves (after the weights were reset, or a reload)."""
        self.step_losses, self.epochs = [], []
        for line_id in ("#training-status", "#training-health"):
            release_height(self.screen.query_one(line_id, Static))
        self._redraw()

    def show_update(self, update: TrainingUpdate, running: bool) -> None:
        """Store the update's points and status; draw them at a capped rate (at once for a final update).

        Plotext renders in Python on the UI thread: redrawing on every update would hold the GIL the
        training thread needs, and training would crawl.
        """
        self.step_losses.extend((s.step / update.steps_per_epoch, s.loss) for s in update.steps)
        self.epochs.extend(update.epoch_records)
        now = time.monotonic()
        if update.final or now - self.last_redraw >= REDRAW_EVERY:
            self.last_redraw = now
            self._redraw()
        self.status = status_text(update, running, self.epochs[-1] if self.epochs else None)
        if update.final or now - self.last_status >= STATUS_EVERY:
            self._draw_status()
        elif self.status_timer is None:
            self.status_timer = self.set_timer(STATUS_EVERY - (now - self.last_status), self._draw_status)

    def _draw_status(self) -> None:
        """Draw the newest stored status line."""
        if self.status is not None:
            status = self.status
            self.show_status(status)
            self.last_status = time.monotonic()

    def _redraw(self) -> None:
        stride = max(1, len(self.step_losses) // MAX_STEP_POINTS)
        loss: dict[str, list[tuple[float, float]]] = {
            "step": self.step_losses[::stride],
            "train": [(e.epoch, e.train_loss) for e in self.epochs],
            "val": [(e.epoch, e.val_loss) for e in self.epochs],
        }
        limits = loss_limits(loss["step"], loss["train"] + loss["val"])
        self.query_one("#loss-plot", CurvePlot).show_series("loss by epoch", loss, limits)
        accuracy: dict[str, list[tuple[float, float]]] = {
            "train": [(e.epoch, e.train_accuracy) for e in self.epochs if e.train_accuracy is not None],
            "val": [(e.epoch, e.val_accuracy) for e in self.epochs if e.val_accuracy is not None],
        }
        self.query_one("#accuracy-plot", CurvePlot).show_series("accuracy", accuracy, (0.0, 1.0))

    def show_status(self, text: Text) -> None:
        """The status line now (a stored training status that was waiting to be drawn is dropped)."""
        if self.status_timer is not None:
            self.status_timer.stop()
            self.status_timer = None
        self.status = None
        show_text(self.screen.query_one("#training-status", Static), text, grow_only=True)

    def show_boundary(self, boundary: DecisionBoundary, epoch: int) -> None:
        """The predicted class over the plane (dots) with the validation points (x), per class."""
        plot = self.screen.query_one("#boundary-plot", ScatterPlot)
        self.screen.query_one("#side-tabs", TabbedContent).show_tab("tab-boundary")
        classes = sorted({c for *_, c in boundary.points} | {c for *_, c in boundary.samples})
        palette = ["blue", "red", "green", "magenta", "cyan", "yellow"]
        series, colors = [], []
        for c in classes:
            color = palette[c % len(palette)]
            # A glyph per class, for the regions and for the points: they read without colour too (NO_COLOR).
            region, point = REGION_GLYPHS[c % len(REGION_GLYPHS)], POINT_GLYPHS[c % len(POINT_GLYPHS)]
            series.append((f"region {c}", [(x, y) for x, y, k in boundary.points if k == c], region))
            series.append((f"class {c}", [(x, y) for x, y, k in boundary.samples if k == c], point))
            colors += [color, color]
        title = f"decision boundary, epoch {epoch} (val acc {boundary.accuracy:.2f})"
        plot.show_points(title, series, colors)

    def show_health(self, health: list[LayerHealth]) -> None:
        """The per-layer health lines."""
        widget = self.screen.query_one("#training-health", Static)
        show_text(widget, health_text(health, widget.content_size.width or 80), grow_only=True)
        flagged = {h.layer for h in health if h.hint}
        self.screen.query_one("#layers", LayerTable).flag(flagged)  # the same layers, marked in the table
