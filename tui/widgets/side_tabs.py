"""The side panel's tabs: the selected layer's detail, and training's curves, health and decision boundary.

Each gets the whole side panel, so each is readable at 80x24; ``v`` (or a click on a tab) switches.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from tui.widgets.detail import DetailPanel
from tui.widgets.plots import ScatterPlot
from tui.widgets.training_panel import TrainingPanel

NO_HEALTH = "Layer health shows here while the model trains (t trains, s takes one step)."


def side_tabs() -> Iterator[Widget]:
    """The tabbed side panel (compose it inside the side container)."""
    with TabbedContent(id="side-tabs", initial="tab-detail"):
        with TabPane("Detail", id="tab-detail"):
            yield DetailPanel(id="detail")
        with TabPane("Curves", id="tab-curves"):
            yield TrainingPanel(id="training")
        with TabPane("Health", id="tab-health"):
            yield Static(NO_HEALTH, id="training-health")
        with TabPane("Boundary", id="tab-boundary"):
            yield ScatterPlot(id="boundary-plot")


def next_tab(tabs: TabbedContent) -> None:
    """Open the tab after the active one (hidden tabs skipped, the last wraps to the first)."""
    shown = [pane.id for pane in tabs.query(TabPane) if pane.id and not tabs.get_tab(pane.id).has_class("-hidden")]
    if tabs.active in shown:
        tabs.active = shown[(shown.index(tabs.active) + 1) % len(shown)]
