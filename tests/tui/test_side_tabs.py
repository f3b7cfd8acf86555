"""The side panel's tabs: each view gets the whole panel (readable at 80x24); v cycles, training opens the curves,
a reload forgets the old run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Static, TabbedContent

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled
from tui.widgets.side_tabs import NO_HEALTH
from tui.widgets.training_panel import TrainingPanel

pytestmark = pytest.mark.asyncio


def active(screen: object) -> str:
    return str(screen.query_one("#side-tabs", TabbedContent).active)  # type: ignore[attr-defined]


async def test_v_cycles_the_tabs_and_training_opens_the_curves_at_80x24() -> None:
    async with explorer(str(MODELS / "simple.py"), size=(80, 24)) as (pilot, screen):
        assert active(screen) == "tab-detail"
        assert not screen.query_one("#training-status", Static).display
        await pilot.press("v", "v")
        assert active(screen) == "tab-health"
        assert str(screen.query_one("#training-health", Static).render()).startswith(NO_HEALTH[:20])
        await pilot.press("v")  # no boundary for 5 features: back to the detail
        assert active(screen) == "tab-detail"
        await pilot.press("s")
        await settled(pilot)
        assert active(screen) == "tab-curves" and screen.query_one("#training-status", Static).display
        loss, accuracy = screen.query_one("#loss-plot"), screen.query_one("#accuracy-plot")
        assert loss.size.height >= 8 and accuracy.size.height >= 8  # side by side, each readable
        assert loss.region.y == accuracy.region.y
        await pilot.press("v")
        assert active(screen) == "tab-health" and "fc1" in str(screen.query_one("#training-health", Static).render())
        await pilot.press("enter")  # enter always comes back to the detail
        assert active(screen) == "tab-detail"


PLANE = "from torch import nn\nmodel = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))\n"


async def test_the_boundary_tab_appears_for_inputs_on_a_plane(tmp_path: Path) -> None:
    path = tmp_path / "plane.py"
    path.write_text(PLANE)
    async with explorer(str(path), data="moons") as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        assert active(screen) == "tab-curves"  # training opened the curves
        await pilot.press("v", "v")
        assert active(screen) == "tab-boundary"
        plot = screen.query_one("#boundary-plot")
        assert plot.size.height >= 20 and plot.size.width >= 40  # the whole side panel at 120x40


async def test_a_reload_after_training_forgets_the_old_run(tmp_path: Path) -> None:
    path = tmp_path / "simple.py"
    shutil.copy(MODELS / "simple.py", path)
    async with explorer(str(path)) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        panel = screen.query_one("#training", TrainingPanel)
        assert len(panel.step_losses) == 1
        await pilot.press("r")  # one unsaved step: the quit-style dialog asks first
        await pilot.pause()
        await pilot.press("d")  # discard
        await settled(pilot)
        assert panel.step_losses == [] and panel.epochs == []
        assert active(screen) == "tab-detail" and not screen.query_one("#training-status", Static).display


async def test_health_names_are_whole_and_cut_from_the_left_only_when_they_do_not_fit() -> None:
    from tui.core.train.health import LayerHealth
    from tui.widgets.training_panel import health_text

    rows = [
        LayerHealth("linear_relu_stack.0", "Linear", 0.95, None, 0.1, 0.01, "95% of units never fire"),
        LayerHealth("linear_relu_stack.2", "Linear", 0.0, None, 0.1, 0.01, ""),
    ]
    lines = health_text(rows, width=80).plain.splitlines()
    assert lines[1].startswith("linear_relu_stack.0  ") and lines[3].startswith("linear_relu_stack.2  ")
    assert lines[2] == "  ⚠ 95% of units never fire"
    narrow = health_text(rows, width=40).plain.splitlines()  # 9 columns left for the name
    assert narrow[1].startswith("…_stack.0 ") and narrow[3].startswith("…_stack.2 ")


async def test_a_layer_health_warns_about_is_marked_in_the_table() -> None:
    from tui.core.train.health import LayerHealth
    from tui.widgets.layer_table import LayerTable

    async with explorer(str(MODELS / "simple.py")) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        panel = screen.query_one("#training", TrainingPanel)
        panel.show_health([LayerHealth("fc2", "Linear", 0.9, None, 0.1, 0.01, "90% of fc2's units are dead")])
        await pilot.pause()
        table = screen.query_one("#layers", LayerTable)
        labels = [str(table.get_cell_at((row, 0))) for row in range(table.row_count)]
        assert labels[2].endswith("fc2 ⚠") and not any(label.endswith("⚠") for i, label in enumerate(labels) if i != 2)
        panel.show_health([LayerHealth("fc2", "Linear", 0.0, None, 0.1, 0.01, "")])
        await pilot.pause()
        assert not any(str(table.get_cell_at((row, 0))).endswith("⚠") for row in range(table.row_count))
