"""SVG snapshots of the feature-map and conv neuron views at 80x24 (SSH) and 120x40; look at them as PNGs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from tests.conftest import ROOT
from tests.tui.conftest import settled, wait_for_trace
from tui.app import NnviewApp
from tui.core.session import SessionOptions
from tui.screens.conv_neuron import ConvNeuronScreen
from tui.screens.feature_maps import FeatureMapScreen

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

# (screen, layer, keys pressed on it): on models/digits_cnn.py, after b drew a batch of real digits.
VIEWS: dict[str, tuple[type[Screen[None]], str, tuple[str, ...]]] = {
    "feature-maps": (FeatureMapScreen, "features.0", ()),
    "feature-maps-small": (FeatureMapScreen, "features.3", ("a",)),
    "conv-neuron": (ConvNeuronScreen, "features.3", ()),
    "conv-neuron-inside": (ConvNeuronScreen, "features.0", ("down", "down", "right", "right", "right")),
}


def before(view: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await wait_for_trace(pilot)
        await pilot.press("b")  # the file's dataset(): real 8x8 digits, drawn with a fixed seed
        await settled(pilot)
        kind, layer, keys = VIEWS[view]
        assert screen.result is not None and screen.model is not None
        index = screen.result.layer(layer).index
        await pilot.app.push_screen(kind(screen.result, screen.model, index, 0, screen.session.lock))  # type: ignore[call-arg]
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_conv_snapshot(
    view: str, size: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the header shows the path as given
    app = NnviewApp(SessionOptions("models/digits_cnn.py"), watch=False)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before(view))


@pytest.mark.parametrize("view", ["feature-maps", "conv-neuron"])
def test_conv_snapshot_without_colour(
    view: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made: the maps use characters, not colours
    app = NnviewApp(SessionOptions("models/digits_cnn.py"), watch=False)
    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=before(view))
