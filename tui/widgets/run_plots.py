"""The watched run's curves: the loss and one metric, a series per rank (or their spread), told apart by glyph."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tui.widgets.training_panel import loss_limits

# Each series its own glyph, so they read without colour (NO_COLOR): ranks 0-3, or the spread over many ranks.
GLYPHS = ("·", "+", "x", "o")
SPREAD_GLYPHS = {"mean": "·", "lowest": "v", "highest": "^"}


class RunCurves(PlotextPlot):
    """Named series of (step, value) points, redrawn together."""

    DEFAULT_CSS = """
    RunCurves { height: 1fr; min-height: 6; }
    """

    def show_curves(self, title: str, series: dict[str, list[tuple[float, float]]]) -> None:
        """Replace every series and redraw; the y range leaves out the noisiest 10% of points."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("step")
        for i, (label, points) in enumerate(series.items()):
            if points:
                marker = SPREAD_GLYPHS.get(label, GLYPHS[i % len(GLYPHS)])
                plt.scatter([x for x, _ in points], [y for _, y in points], label=label, marker=marker)
        xs = [x for points in series.values() for x, _ in points]
        if xs:  # whole steps on the axis (plotext would write 50.8)
            low, high = min(xs), max(xs)
            ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
            plt.xticks([float(t) for t in ticks], [str(t) for t in ticks])
        limits = loss_limits([p for points in series.values() for p in points], [])
        if limits is not None:
            plt.ylim(*limits)
        self.refresh()
