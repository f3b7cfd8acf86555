"""The TensorBoard view's plot: the series of one tag group (or one tag in every run), told apart by glyph."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tui.widgets.run_plots import GLYPHS
from tui.widgets.training_panel import loss_limits


class TbPlot(PlotextPlot):
    """Named series of (step, value) points, drawn as lines, redrawn together."""

    DEFAULT_CSS = """
    TbPlot { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = ""  # what it shows: the title and the series it was given
        self.series: dict[str, list[tuple[float, float]]] = {}

    def show_series(self, title: str, series: dict[str, list[tuple[float, float]]]) -> None:
        """Replace every series and redraw; the y range leaves out the noisiest 10% of points."""
        self.title, self.series = title, series
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("step")
        for i, (label, points) in enumerate(series.items()):
            if points:  # each its own glyph, so they read without colour (NO_COLOR)
                plt.plot([x for x, _ in points], [y for _, y in points], label=label, marker=GLYPHS[i % len(GLYPHS)])
        xs = [x for points in series.values() for x, _ in points]
        if xs:  # whole steps on the axis (plotext would write 50.8)
            low, high = min(xs), max(xs)
            ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
            plt.xticks([float(t) for t in ticks], [str(t) for t in ticks])
        limits = loss_limits([p for points in series.values() for p in points], [])
        if limits is not None:
            plt.ylim(*limits)
        self.refresh()
