"""The feature-map and conv neuron screens on models/digits_cnn.py: the numbers on screen are the trace's."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import MODELS
from tests.tui.conftest import explorer
from tui.core.explain.conv import explain_conv_neuron, feature_maps
from tui.screens.conv_neuron import ConvNeuronScreen, cell
from tui.screens.explorer import ExplorerScreen
from tui.screens.feature_maps import RAMP, FeatureMapScreen, short

pytestmark = pytest.mark.asyncio
DIGITS = str(MODELS / "digits_cnn.py")


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)  # type: ignore[attr-defined]


async def select(pilot: Pilot[None], screen: ExplorerScreen, name: str) -> int:
    """Step down the layer table (n) to layer ``name``; its index."""
    while screen.result is not None and screen.result.layers[screen.selected].name != name:
        await pilot.press("n")
        await pilot.pause()
    return screen.selected


async def test_feature_maps_show_every_channel_with_its_range_and_the_input_image() -> None:
    async with explorer(DIGITS) as (pilot, screen):
        index = await select(pilot, screen, "features.0")
        await pilot.app.push_screen(FeatureMapScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        maps = pilot.app.screen
        assert isinstance(maps, FeatureMapScreen)
        title, grid = text_of(maps, "#maps-title"), text_of(maps, "#maps-grid")
        assert title.startswith("features.0  8 channels of 8×8  sample 1 of 4  before relu (a)")
        expected = feature_maps(screen.result, index, 0)
        assert f"shading: one scale {short(expected.low)} … {short(expected.high)} (s)" in title
        for c, channel in enumerate(expected.channels):
            assert f"ch {c}" in grid and f"{short(channel.low)} {short(channel.high)}" in grid
        assert "input" in grid and "input as features.0 saw it" in grid and "▀" in grid
        await pilot.press("a")
        after = feature_maps(screen.result, index, 0, activated=True)
        assert "after relu (a)" in text_of(maps, "#maps-title") and after.low == 0.0
        assert f"one scale +0.00 … {short(after.high)}" in text_of(maps, "#maps-title")
        await pilot.press("s", "right_square_bracket")
        title = text_of(maps, "#maps-title")
        assert "sample 2 of 4" in title and "each channel its own range" in title
        assert maps.maps.sample == 1 and maps.maps.activated
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_feature_maps_under_no_color_use_a_ramp_of_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with explorer(DIGITS, size=(80, 24)) as (pilot, screen):
        index = await select(pilot, screen, "features.3")
        await pilot.app.push_screen(FeatureMapScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        grid = text_of(pilot.app.screen, "#maps-grid")
        assert "▀" not in grid and "ch 15" in grid
        assert set(grid) >= set(RAMP[1:]) - set("%")  # shades from '.' to '@' (the input's 1.0 is '@')
        assert "' ' lowest … '@' highest" in grid


async def test_conv_neuron_view_redoes_one_output_and_moves_around() -> None:
    async with explorer(DIGITS, size=(80, 24)) as (pilot, screen):
        index = await select(pilot, screen, "features.3")
        await pilot.app.push_screen(ConvNeuronScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        view = pilot.app.screen
        assert isinstance(view, ConvNeuronScreen)
        await pilot.press("right", "down", "down", "full_stop", "full_stop", "right_square_bracket")
        assert (view.channel, view.y, view.x, view.sample) == (2, 2, 1, 1)
        got = explain_conv_neuron(screen.result, screen.model, index, 2, 2, 1, 1)
        assert got.z == pytest.approx(float(screen.result.captured[index][0][1, 2, 2, 1]), abs=1e-5)
        summary = text_of(view, "#conv-summary")
        assert "features.3  channel 2 (of 0–15)  y 2, x 1 (of 4×4)  sample 2 of 4" in summary
        assert "patch: input rows 1…3, cols 0…2 of 8×4×4" in summary
        assert f"= {got.z:+.6f}\n" in summary and f"{got.recorded_z:+.6f}  ✓ matches" in summary
        assert f"relu(z) = {got.activated:+.6f}" in summary
        terms = text_of(view, "#conv-terms")
        first_row = " ".join(cell(v).rjust(6) for v in got.patch[0][0])
        kernel_row = " ".join(cell(v).rjust(6) for v in got.kernel[0][1])
        assert first_row in terms and kernel_row in terms and f"Σ {got.channel_sums[0]:+.6f}" in terms
        assert "pad" not in terms  # rows 1…3, cols 0…2: all inside the 4×4 input
        assert "inputs 0–3 of 0–7  (page 1 of 2: PgDn / PgUp)" in terms  # 80x24: four of eight inputs
        await pilot.press("pagedown")
        terms = text_of(view, "#conv-terms")
        assert "inputs 4–7 of 0–7  (page 2 of 2" in terms and f"Σ {got.channel_sums[7]:+.6f}" in terms
        await pilot.press("left", "left", "up", "up", "up", "comma", "comma", "comma")
        assert (view.channel, view.y, view.x) == (15, 0, 0)  # stops at the edges; channels wrap
        corner = text_of(view, "#conv-terms").splitlines()
        assert corner[1].split()[1:4] == ["pad", "pad", "pad"] and corner[2].split()[0] == "pad"  # row and col -1
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_conv_neuron_view_of_the_first_conv_fits_one_page_at_120_by_40() -> None:
    async with explorer(DIGITS) as (pilot, screen):
        index = await select(pilot, screen, "features.0")
        await pilot.app.push_screen(ConvNeuronScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        terms = text_of(pilot.app.screen, "#conv-terms")
        got = explain_conv_neuron(screen.result, screen.model, index, 0, 0, 0, 0)
        assert "page" not in terms and terms.splitlines()[0].split() == [
            "in",
            "patch",
            "(input)",
            "kernel",
            "(weights)",
            "kernel",
            "×",
            "patch",
        ]
        assert f"Σ {got.channel_sums[0]:+.6f}" in terms
