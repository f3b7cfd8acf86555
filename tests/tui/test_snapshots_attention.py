"""SVG snapshots of the attention view on models/tiny_gpt.py at 80x24 (SSH) and 120x40; look at them as PNGs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.conftest import ROOT
from tests.tui.conftest import wait_for_trace
from tui.app import NnviewApp
from tui.core.session import SessionOptions
from tui.screens.attention import AttentionScreen

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

# (layer, keys pressed on the view): the first block's attention as traced; head 2, query 9, sample 2 of the second.
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "attention": ("blocks.0.attn", ()),
    "attention-moved": ("blocks.1.attn", ("right", "right", *["up"] * 6, "right_square_bracket")),
}


def before(view: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await wait_for_trace(pilot)
        layer, keys = VIEWS[view]
        assert screen.result is not None and screen.model is not None
        index = screen.result.layer(layer).index
        await pilot.app.push_screen(AttentionScreen(screen.result, screen.model, index, 0, screen.session.lock))
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_attention_snapshot(
    view: str, size: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the header shows the path as given
    app = NnviewApp(SessionOptions("models/tiny_gpt.py"), watch=False)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before(view))


@pytest.mark.parametrize("size", sorted(SIZES))
def test_attention_snapshot_without_colour(
    size: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made: the map uses characters, not colours
    app = NnviewApp(SessionOptions("models/tiny_gpt.py"), watch=False)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before("attention"))
