"""The attention screen on models/tiny_gpt.py: the weights, positions and tokens on screen are the trace's."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.conftest import MODELS
from tests.tui.conftest import explorer
from tui.core.explain.attention import attention_map, top_keys
from tui.screens.attention import RAMP, AttentionScreen
from tui.screens.layer_views import layer_view

pytestmark = pytest.mark.asyncio
GPT = str(MODELS / "tiny_gpt.py")


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)  # type: ignore[attr-defined]


async def test_the_attention_of_the_first_block_with_its_top_keys_and_moves() -> None:
    async with explorer(GPT, size=(80, 24)) as (pilot, screen):
        assert screen.result is not None and screen.model is not None
        index = screen.result.layer("blocks.0.attn").index
        await pilot.app.push_screen(AttentionScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        view = pilot.app.screen
        assert isinstance(view, AttentionScreen)
        title, grid = text_of(view, "#attention-title"), text_of(view, "#attention-grid")
        assert title == "blocks.0.attn  head 0 (of 0–3)  query 15  sample 1 of 4\nsoftmax over (4, 4, 16, 16); causal"
        expected = attention_map(screen.result, screen.model, index, 0)
        ids = screen.result.captured_inputs[screen.result.layer("tok").index][0][0].tolist()
        assert expected.tokens == tuple(ids)
        assert f"query 15 (token {ids[15]}) takes from" in grid and "key  token  weight" in grid
        for key, weight in top_keys(expected.row(0, 15), 10):
            assert f"{key:>4}  {ids[key]:>5}  {weight:.4f} █" in grid
        assert "Σ row = 1.000000" in grid and "masked" not in grid  # the last query sees every key
        assert grid.splitlines()[0].startswith("q\\k  0       4       8       12")
        assert "▶ 15 " in grid and "weight ██ 0.01  ██ 0.05  ██ 0.25  ██ 0.5  ██ 1  blank: exactly 0" in grid

        await pilot.press("left", "up", "up", "up", "right_square_bracket")
        assert (view.head, view.selected_query, view.sample) == (3, 12, 1)
        moved = attention_map(screen.result, screen.model, index, 1)
        title, grid = text_of(view, "#attention-title"), text_of(view, "#attention-grid")
        assert title.startswith("blocks.0.attn  head 3 (of 0–3)  query 12  sample 2 of 4")
        first_key, first_weight = top_keys(moved.row(3, 12), 1)[0]
        assert f"{first_key:>4}  {moved.tokens[first_key]:>5}  {first_weight:.4f} ██████████" in grid
        assert "3 keys at exactly 0 (masked)" in grid and "▶ 12 " in grid
        assert moved.row(3, 12)[13:] == (0.0, 0.0, 0.0)
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_the_view_key_opens_attention_for_a_block_and_says_why_not_for_a_linear_layer() -> None:
    async with explorer(GPT) as (pilot, screen):
        assert screen.result is not None and screen.model is not None
        block = layer_view(
            "attention", screen.result, screen.model, screen.result.layer("blocks.1").index, 2, screen.session.lock
        )
        assert isinstance(block, AttentionScreen) and block.amap.source == "blocks.1.attn" and block.sample == 2
        fc = layer_view(
            "attention", screen.result, screen.model, screen.result.layer("blocks.1.fc").index, 0, screen.session.lock
        )
        assert fc == (
            "blocks.1.fc is a Linear: no softmax over scores and no scaled_dot_product_attention ran in it "
            "(select an attention layer: one whose forward runs softmax(q·kᵀ) or F.scaled_dot_product_attention)"
        )
        whole = layer_view("attention", screen.result, screen.model, 0, 0, screen.session.lock)
        assert whole == "TinyGPT holds 2 attention layers: blocks.0.attn, blocks.1.attn (select one of them)"
        await pilot.app.push_screen(block)
        await pilot.pause()
        title = text_of(block, "#attention-title")
        assert title.startswith("blocks.1  head 0 (of 0–3)  query 15  sample 3 of 4\nin blocks.1.attn: softmax over")


async def test_under_no_color_the_map_is_a_ramp_of_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with explorer(GPT, size=(80, 24)) as (pilot, screen):
        assert screen.result is not None and screen.model is not None
        index = screen.result.layer("blocks.0.attn").index
        await pilot.app.push_screen(AttentionScreen(screen.result, screen.model, index, 0, screen.session.lock))
        await pilot.pause()
        lines = text_of(pilot.app.screen, "#attention-grid").splitlines()
        rows = [line[:37] for line in lines[1:17]]  # the map: a label of 5, then 16 keys of 2 columns
        assert rows[0].startswith("   0 @") and rows[15].startswith("> 15 ")
        assert all("█" not in row and "▀" not in row for row in rows)
        assert set("".join(row[5:] for row in rows)) <= set(RAMP)
        assert [len(row[5:].rstrip()) for row in rows] == [2 * i + 1 for i in range(16)]  # causal: a triangle
        assert "weight .  0.01  :  0.05  =  0.25  *  0.5  @  1  blank: exactly 0" in lines[-1]
