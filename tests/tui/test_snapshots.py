"""SVG snapshots of every screen at 80x24 (SSH) and 120x40; look at them as PNGs before accepting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.conftest import ROOT
from tests.tui.conftest import settled, wait_for_trace
from tui.app import NnviewApp
from tui.core.session import SessionOptions

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

# (model file, keys pressed after the first trace)
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "main": ("models/simple.py", ()),
    "detail": ("models/simple.py", ("n", "right_square_bracket", "enter")),
    "softmax": ("models/simple.py", ("n", "n", "n")),
    "neuron": ("models/simple.py", ("n", "n", "x", "right")),
    "fold": ("models/fold.py", ("n", "f")),
    "error": ("tests/core/broken/deep_sequential.py", ()),
    "help": ("models/simple.py", ("question_mark",)),
    # One training step (deterministic: seed 0, the first rows of dataset()), then each training tab.
    "curves": ("models/simple.py", ("s",)),
    "health": ("models/simple.py", ("s", "v")),
}


def before(keys: tuple[str, ...]) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await wait_for_trace(pilot)
        for key in keys:
            await pilot.press(key)
            await settled(pilot)  # the trace or training step the key started has finished
        await pilot.pause(0.3)

    return run_before


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_screen_snapshot(
    view: str, size: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the header shows the path as given
    target, keys = VIEWS[view]
    app = NnviewApp(SessionOptions(target), watch=False)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before(keys))
