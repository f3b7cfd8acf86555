"""Pilot tests of the explorer: the seed's table, moving, samples, neurons, softmax, errors, reload."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from rich.table import Table
from textual.widgets import DataTable, Footer, Static
from textual.widgets._footer import FooterKey

from tests.conftest import MODELS, ROOT
from tests.tui.conftest import explorer, settled, until
from tui.core.explain.views import explain_neuron
from tui.screens.fold import FoldScreen
from tui.screens.help import HelpScreen
from tui.screens.neuron import NeuronScreen
from tui.widgets.detail import DetailPanel
from tui.widgets.layer_table import LayerTable

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")


def cells(table: DataTable, index: int) -> list[str]:
    """The text of the row for layer call ``index``."""
    return [str(cell) for cell in table.get_row(str(index))]


def static_text(screen: object, selector: str) -> str:
    content = screen.query_one(selector, Static).content  # type: ignore[attr-defined]
    return str(content)


async def test_table_shows_the_seed_shapes_and_activations() -> None:
    async with explorer(SIMPLE) as (_pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        assert table.row_count == 4
        by_name = {rec.name: rec.index for rec in screen.result.layers}
        assert cells(table, by_name["fc1"])[1:6] == ["Linear", "(4,5)", "(10,5)", "(4,10)", "relu"]
        assert cells(table, by_name["fc2"])[1:6] == ["Linear", "(4,10)", "(6,10)", "(4,6)", "relu"]
        assert cells(table, by_name["fc3"])[1:6] == ["Linear", "(4,6)", "(3,6)", "(4,3)", "-"]
        header = static_text(screen, "#model-header")
        assert "SimpleNN" in header and "params 147" in header and "(4, 5) float32" in header


async def test_n_and_p_step_through_layers_in_execution_order() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        assert screen.selected == 0
        await pilot.press("n", "n")
        assert screen.result.layers[screen.selected].name == "fc2"
        assert "fc2  Linear" in static_text(screen, "#detail-facts")
        await pilot.press("p")
        assert screen.result.layers[screen.selected].name == "fc1"
        await pilot.press("j", "j", "k")
        assert screen.result.layers[screen.selected].name == "fc2"


async def test_brackets_step_through_samples_and_clamp_at_the_batch() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("n")
        await pilot.press("right_square_bracket")
        assert screen.sample == 1
        assert "sample 2/4" in static_text(screen, "#detail-values")
        await pilot.press(*["right_square_bracket"] * 5)
        assert screen.sample == 3
        await pilot.press("left_square_bracket")
        assert "sample 3/4" in static_text(screen, "#detail-values")
        fc1_out = screen.result.captured[1][0][2]
        assert f"{float(fc1_out[0]):+.4f}" in static_text(screen, "#detail-values")


async def test_neuron_view_numbers_equal_the_captured_output() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("n", "n", "right_square_bracket", "x")
        neuron = pilot.app.screen
        assert isinstance(neuron, NeuronScreen)
        await pilot.press("right", "right")
        assert (neuron.neuron, neuron.sample) == (2, 1)
        got = explain_neuron(screen.result, screen.model, neuron.index, 2, 1)
        recorded = float(screen.result.captured[neuron.index][0][1][2])
        assert got.z == pytest.approx(recorded, abs=1e-5)
        summary = static_text(neuron, "#neuron-summary")
        assert f"= {got.z:+.6f}" in summary and "✓ matches" in summary
        terms = neuron.query_one("#neuron-terms", DataTable)
        assert terms.row_count == 10 + 2  # ten inputs, the bias, z
        assert str(terms.get_row_at(11)[3]) == f"{got.z:+.5f}"
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_neuron_view_on_a_non_linear_layer_warns_and_stays() -> None:
    async with explorer(str(MODELS / "xor.py")) as (pilot, screen):
        await pilot.press("n", "n", "x")  # the ReLU module
        assert pilot.app.screen is screen


async def test_softmax_panel_of_the_last_layer_sums_to_one() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("n", "n", "n")
        table = screen.query_one("#detail-classes", Static).content
        assert isinstance(table, Table)
        assert table.caption == "probabilities sum to 1.0000"
        probabilities = [float(cell) for cell in table.columns[2]._cells]
        assert math.fsum(probabilities) == pytest.approx(1.0, abs=2e-4)  # printed to 4 places
        assert len(probabilities) == 3


async def test_fold_view_opens_for_the_2_by_2_layer() -> None:
    async with explorer(str(MODELS / "fold.py")) as (pilot, screen):
        await pilot.press("f")
        assert pilot.app.screen is screen  # the root is not a 2 -> 2 Linear
        await pilot.press("n", "f")
        fold = pilot.app.screen
        assert isinstance(fold, FoldScreen)
        assert [s[2] for s in fold.view.samples] == [(1.0, 0.0), (0.5, 1.0), (1.5, 0.5)]
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_help_lists_every_explorer_key() -> None:
    async with explorer(SIMPLE) as (pilot, _screen):
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        text = str(pilot.app.screen.query("Static")[1].content.columns[0]._cells)
        for key in ("n", "p", "]", "[", "b", "x", "f", "r", "?", "q", "space"):
            assert f"'{key}'" in text
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_new_batch_draws_from_the_dataset() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        before = screen.result.captured[0][0].clone()
        await pilot.press("b")
        for _ in range(100):
            await pilot.pause(0.05)
            if screen.result.input_origin == "dataset() batch 1":
                break
        assert screen.result.input_origin == "dataset() batch 1"
        assert not screen.result.captured[0][0].equal(before)


async def test_space_folds_the_children_of_a_block() -> None:
    async with explorer(str(MODELS / "tiny_gpt.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        rows = table.row_count
        await pilot.press("n", "n", "n")
        assert screen.result.layers[screen.selected].name == "blocks.0"
        await pilot.press("space")
        assert table.row_count == rows - 7  # ln1, attn, qkv, proj, ln2, fc, out
        await pilot.press("space")
        assert table.row_count == rows


async def test_error_view_names_the_failing_layer() -> None:
    async with explorer(str(ROOT / "tests/core/broken/deep_sequential.py")) as (_pilot, screen):
        assert screen.shown == "error"
        message = static_text(screen, "#error-message")
        assert "error [shape_mismatch] in encoder.2 (Linear)" in message
        assert "change in_features to 16" in message
        partial = screen.query_one("#error-layers", LayerTable)
        assert partial.marked is not None
        assert screen.query_one("#error-layers", LayerTable).result.layers[partial.marked].name == "encoder.2"


GOOD = "from torch import nn\nmodel = nn.Sequential(nn.Linear(3, {h}), nn.ReLU(), nn.Linear({h}, 2))\n"
BAD = "from torch import nn\nmodel = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 2))\n"


async def test_saving_the_file_reloads_shows_errors_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "live.py"
    path.write_text(GOOD.format(h=4))
    async with explorer(str(path), watch=True) as (pilot, screen):
        await pilot.press("n", "n", "n")
        assert screen.result.layers[screen.selected].name == "2"
        await pilot.pause(0.3)  # let the watcher start
        path.write_text(GOOD.format(h=7))
        # A file event, not a key, starts the reload: there is no worker to wait on until it arrives.
        await until(pilot, lambda: screen.result.totals.params == 3 * 7 + 7 + 7 * 2 + 2)
        assert screen.result.layers[screen.selected].name == "2"  # the selection survived the reload
        path.write_text(BAD)
        await until(pilot, lambda: screen.shown == "error")
        assert "in 2 (Linear)" in static_text(screen, "#error-message")
        path.write_text(GOOD.format(h=5))
        await until(pilot, lambda: screen.shown == "trace" and screen.result.totals.params == 15 + 5 + 10 + 2)


async def test_r_reloads_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "manual.py"
    shutil.copy(MODELS / "simple.py", path)
    async with explorer(str(path)) as (pilot, screen):
        path.write_text(path.read_text().replace("nn.Linear(6, 3)", "nn.Linear(6, 4)"))
        await pilot.press("r")
        await settled(pilot)
        assert screen.result.layer("fc3").outputs[0].shape == (4, 4)


async def test_x_typed_right_after_n_opens_the_row_under_the_cursor() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        table.action_cursor_down()  # the cursor moves; LayerSelected is still in the queue
        screen.action_view("neuron")
        await pilot.pause()
        assert isinstance(pilot.app.screen, NeuronScreen)
        assert screen.result.layers[pilot.app.screen.index].name == "fc1"


async def test_enter_focuses_the_detail_panel_and_home_end_go_to_the_first_and_last_layer() -> None:
    async with explorer(str(MODELS / "tiny_gpt.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        await pilot.press("end")
        await pilot.pause()
        assert screen.result.layers[screen.selected].name == "head" and table.scroll_x == 0
        await pilot.press("home")
        await pilot.pause()
        assert screen.selected == 0
        await pilot.press("G")
        await pilot.pause()
        assert screen.result.layers[screen.selected].name == "head"
        await pilot.press("g")
        await pilot.pause()
        assert screen.selected == 0
        await pilot.press("enter")
        await pilot.pause()
        assert pilot.app.focused is screen.query_one("#detail", DetailPanel)
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.focused is table


async def test_the_footer_shows_help_and_quit_first_at_80_columns() -> None:
    async with explorer(str(MODELS / "simple.py"), size=(80, 24)) as (pilot, screen):
        await pilot.pause()
        footer = screen.query_one(Footer)
        shown = [key.key for key in footer.query(FooterKey)]
        assert shown[:3] == ["question_mark", "q", "n"]
        assert not footer.show_command_palette


async def test_a_file_with_dataset_and_no_example_input_is_traced_on_its_first_rows() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await settled(pilot)  # the inferred trace, then the first rows of dataset()
        assert screen.result.input_origin == "first 4 rows of dataset()"
        assert "[first 4 rows of dataset()]" in str(screen.query_one("#model-header", Static).render())
        rows = screen.session.loaded.namespace["dataset"]()[0][:4]  # the file's own training rows
        assert torch.equal(screen.session.example.args[0], rows)
    async with explorer(str(MODELS / "fold.py")) as (pilot, screen):  # example_input still comes first
        await settled(pilot)
        assert screen.result.input_origin == "example_input"


async def test_the_table_takes_the_width_its_columns_need_beside_the_panel() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        await pilot.pause()
        assert table.size.width == table.natural_width < 120 - 40  # whole columns, the rest for the panel
    async with explorer(str(MODELS / "tiny_gpt.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        await pilot.pause()
        assert table.natural_width > 80 and table.size.width == 120 - 40  # the panel keeps 40 columns
        assert "CausalSelfAtt…" in [str(table.get_cell_at((r, 1))) for r in range(table.row_count)]
    async with explorer(str(MODELS / "tiny_gpt.py"), size=(80, 24)) as (pilot, screen):
        await pilot.pause()
        assert screen.query_one("#layers", LayerTable).size.width == 80  # stacked: the whole width


async def test_at_80_columns_the_header_wraps_rather_than_cutting_the_input_s_origin() -> None:
    async with explorer(SIMPLE, size=(80, 24)) as (pilot, screen):
        await pilot.pause()
        header = screen.query_one("#model-header", Static)
        assert header.size.height == 2
        assert "[first 4 rows of dataset()]" in " ".join(str(header.render()).split())
    async with explorer(SIMPLE, size=(120, 40)) as (pilot, screen):
        await pilot.pause()
        assert screen.query_one("#model-header", Static).size.height == 1  # one line where it fits
