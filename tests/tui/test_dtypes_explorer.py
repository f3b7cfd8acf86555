"""The explorer opens float64, float16 and bfloat16 models; every layer shows; x and the histogram work.

Also the table's statistics after the folded activation (issue 7): fc1 of models/simple.py reads
zero% 62 (25 of its 40 values are 0 after ReLU), under a header that says "post act".
"""

from __future__ import annotations

import math

import pytest
from textual.widgets import Static

from tests.conftest import MODELS, ROOT
from tests.tui.conftest import explorer, settled
from tui.core.explain.sample_view import HISTOGRAM_MIN_VALUES
from tui.core.explain.views import explain_neuron
from tui.screens.neuron import NeuronScreen
from tui.widgets.layer_table import LayerTable
from tui.widgets.plots import HistogramPlot

pytestmark = pytest.mark.asyncio
CORPUS = ROOT / "tests" / "corpus" / "dtypes"
# z is recomputed in float64 from the rounded weights and inputs; the layer computed it in its own dtype.
TOLERANCE = {"float64": 1e-12, "float16": 2e-2, "bfloat16": 1e-1}


def _text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(TOLERANCE))
async def test_explorer_opens_each_floating_dtype(name: str) -> None:
    async with explorer(str(CORPUS / f"mlp_{name}.py")) as (pilot, screen):
        assert f"(4, 5) {name}" in _text(screen, "#model-header")
        table = screen.query_one("#layers", LayerTable)
        assert table.row_count == 4
        for layer in ("fc1", "fc2", "fc3"):  # every layer's detail panel, histogram included
            await pilot.press("n")
            rec = screen.result.layers[screen.selected]
            assert rec.name == layer
            facts = _text(screen, "#detail-facts")
            shape_in, shape_out = (
                rec.inputs[0].shape_text().replace(" ", ""),
                rec.outputs[0].shape_text().replace(" ", ""),
            )
            assert f"{layer}  Linear" in facts and f"{shape_in} {name} → {shape_out} {name}" in facts
            assert "batch: mean" in facts
            assert ("after relu: mean" in facts) == (layer != "fc3")
            assert "sample 1/4" in _text(screen, "#detail-values")
            histogram = screen.query_one("#detail-histogram", HistogramPlot)
            values = math.prod(rec.outputs[0].shape[1:])
            assert histogram.display == (values >= HISTOGRAM_MIN_VALUES)  # a few values: the bars say it all
        await pilot.press("p", "p", "x")  # back to fc1, then its neuron view
        neuron = pilot.app.screen
        assert isinstance(neuron, NeuronScreen)
        await pilot.press("right")
        got = explain_neuron(screen.result, screen.model, neuron.index, 1, 0)
        assert got.z == pytest.approx(got.recorded_z, abs=TOLERANCE[name])
        assert f"= {got.z:+.6f}" in _text(neuron, "#neuron-summary")
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_table_statistics_are_after_the_folded_activation() -> None:
    async with explorer(str(MODELS / "simple.py")) as (pilot, screen):
        table = screen.query_one("#layers", LayerTable)
        labels = [str(column.label) for column in table.columns.values()]
        assert labels[7:] == ["mean\npost", "std\nact", "zero%\n"]
        by_name = {rec.name: rec.index for rec in screen.result.layers}
        fc1 = [str(cell) for cell in table.get_row(str(by_name["fc1"]))]
        after = screen.result.layer("fc1").activated_stats
        assert after is not None
        # On the first 4 rows of dataset(), 14 of fc1's 40 values are 0 after ReLU: 35%.
        assert screen.result.input_origin == "first 4 rows of dataset()"
        assert after.zero_frac == 14 / 40 and fc1[5] == "relu" and fc1[9] == "35"
        assert fc1[7:9] == [f"{after.mean:.3g}", f"{after.std:.3g}"]
        fc3 = [str(cell) for cell in table.get_row(str(by_name["fc3"]))]
        raw = screen.result.layer("fc3").stats
        assert raw is not None and fc3[5] == "-" and fc3[7] == f"{raw.mean:.3g}"  # no activation: the raw output
        await pilot.press("n")
        facts = _text(screen, "#detail-facts")
        before = screen.result.layer("fc1").stats
        assert before is not None and f"batch: mean {before.mean:.3g}" in facts and "zero 0%" in facts  # before ReLU
        assert "after relu: mean 0.298" in facts and "zero 35%" in facts


@pytest.mark.parametrize("name", sorted(TOLERANCE))
async def test_b_and_s_feed_the_float32_data_in_the_models_dtype(name: str) -> None:
    async with explorer(str(CORPUS / f"mlp_{name}.py")) as (pilot, screen):
        await pilot.press("b")  # a batch from dataset() (float32 on disk)
        await settled(pilot)
        assert screen.result.input_origin == "dataset() batch 1"
        assert screen.result.inputs[0].dtype == name and screen.shown == "trace"
        await pilot.press("s")  # one training step, then the live re-trace and layer health
        await settled(pilot)
        assert screen.trainer is not None and screen.trainer.step_count == 1 and not screen.training
        assert screen.shown == "trace" and not list(pilot.app._notifications)  # no error, no warning
        assert screen.result.inputs[0].dtype == name and screen.result.layer("fc1").activated_stats is not None
