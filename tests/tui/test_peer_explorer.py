"""Pilot tests for issue 7, section 5: the explorer on the peer corpus stays up and shows what it found."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.conftest import ROOT
from tests.tui.conftest import explorer
from tui.widgets.layer_table import LayerTable

pytestmark = pytest.mark.asyncio
PEER = ROOT / "tests" / "corpus" / "peer"


def row_text(table: LayerTable, index: int) -> list[str]:
    return [str(cell) for cell in table.get_row(str(index))]


async def test_a_distribution_output_shows_its_type_in_the_table() -> None:
    async with explorer(str(PEER / "out_normal.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        assert row_text(table, 0)[4] == "Normal (4,3) (4,3)"
        await pilot.press("n", "n", "p")
        assert screen.shown == "trace"
        assert screen.result.layers[screen.selected].name == "mu"


async def test_a_scripted_model_lists_its_submodules_and_every_key_stays_up() -> None:
    async with explorer(str(PEER / "scripted.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        assert table.row_count == 6  # Net, fc1, block, block.0, block.1, fc2
        assert row_text(table, 1)[1:5] == ["Linear", "-", "(16,20)", "-"]
        await pilot.press("n")  # fc1: listed, never called, nothing captured
        assert screen.result.layers[screen.selected].name == "fc1"
        await pilot.press("x", "escape", "f", "escape", "b")
        await pilot.pause(0.3)
        assert screen.app.is_running
        assert screen.result is not None and screen.result.layers[1].scripted


async def test_a_lazy_first_layer_shows_the_refusal_in_the_error_view() -> None:
    async with explorer(str(PEER / "lazy_first_linear.py")) as (_pilot, screen):
        assert screen.shown == "error"
        message = str(screen.query_one("#error-message", Static).content)
        assert "cannot infer the input: the first layer, fc (LazyLinear)" in message
        assert "pass --input, e.g. --input 4x20" in message


async def test_new_batches_of_a_pack_padded_model_keep_its_lengths() -> None:
    async with explorer(str(PEER / "pack_padded_lstm.py")) as (pilot, screen):
        first = screen.result
        await pilot.press("b")
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.result is not first:
                break
        assert screen.shown == "trace"
        assert screen.result is not first
        assert screen.result.layer("lstm").outputs[0].shape == (26, 32)  # 10 + 8 + 5 + 3 steps again
