"""Plotext plots that own their data: set it, and they redraw (textual-plotext)."""

from __future__ import annotations

from textual_plotext import PlotextPlot


class HistogramPlot(PlotextPlot):
    """Bars of (bin centre, count): the distribution of one sample's output values."""

    DEFAULT_CSS = """
    HistogramPlot { height: 12; min-height: 8; }
    """

    def show_histogram(self, bins: tuple[tuple[float, int], ...], title: str) -> None:
        """Replace the bars and redraw."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if bins:
            # Numeric positions with explicit ticks: string labels make plotext pick ticks from
            # state left over by earlier plots in the process.
            centres = [centre for centre, _ in bins]
            plt.bar(centres, [count for _, count in bins], width=0.8)
            step = max(1, len(centres) // 4)
            ticks = centres[::step]
            plt.xticks(ticks, [f"{t:.2g}" for t in ticks])
        self.refresh()


class ScatterPlot(PlotextPlot):
    """Point clouds in the plane, for the fold view."""

    def show_points(
        self, title: str, series: list[tuple[str, list[tuple[float, float]], str]], colors: list[str] | None = None
    ) -> None:
        """Each series is (label, points, plotext marker), optionally coloured; redraw with all of them."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        for i, (label, points, marker) in enumerate(series):
            if points:
                color = colors[i] if colors else None
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                plt.scatter(xs, ys, label=label, marker=marker, color=color)
        self.refresh()
