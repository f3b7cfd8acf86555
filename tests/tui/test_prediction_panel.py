"""The detail panel's prediction: the truth of dataset() rows (✓/✗), class names, one output's p -> class, positions."""

from __future__ import annotations

import pytest
import torch
from rich.table import Table
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled
from tui.screens.explorer import ExplorerScreen


def text_of(screen: ExplorerScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def class_table(screen: ExplorerScreen) -> Table:
    table = screen.query_one("#detail-classes", Static).content
    assert isinstance(table, Table)
    return table


def cells(table: Table, column: int) -> list[str]:
    return [str(cell) for cell in table.columns[column]._cells]


def batch_labels(model: str) -> torch.Tensor:
    """The labels of the explorer's first b batch, drawn again here: dataset()'s y_train at the picks of seed 1."""
    namespace: dict[str, object] = {}
    exec(compile((MODELS / model).read_text(), str(MODELS / model), "exec"), namespace)
    _, y_train, _, _ = namespace["dataset"]()  # type: ignore[operator]
    picks = torch.randint(0, len(y_train), (4,), generator=torch.Generator().manual_seed(1))
    return y_train[picks]


async def last_layer_of_a_dataset_batch(pilot: Pilot[None], screen: ExplorerScreen) -> torch.Tensor:
    """Press b (rows of dataset()), wait for the trace, select the last layer; its output, traced."""
    await pilot.press("b")
    await settled(pilot, "trace")
    assert screen.result is not None and screen.result.input_origin == "dataset() batch 1"
    await pilot.press("G")
    assert screen.selected == len(screen.result.layers) - 1
    return screen.result.captured[screen.selected][0].detach().double()


async def test_simple_first_rows_say_right_and_wrong_beside_the_softmax() -> None:
    async with explorer(str(MODELS / "simple.py")) as (pilot, screen):
        assert screen.result is not None and screen.result.input_origin == "first 4 rows of dataset()"
        await pilot.press("G")
        logits = screen.result.captured[screen.selected][0].double()
        assert logits.argmax(dim=1).tolist() == [2, 2, 2, 2]  # untrained; the labels are [0, 2, 2, 1]
        assert text_of(screen, "#detail-prediction") == "true: 0 ✗ (predicted 2)"
        table = class_table(screen)
        assert cells(table, 0) == ["0", "1", "2"]
        assert cells(table, 3) == ["true", "", "predicted ✗"]
        assert cells(table, 4) == ["█" * round(float(p) * 16) for p in torch.softmax(logits[0], 0)]
        assert table.caption == "probabilities sum to 1.0000"
        await pilot.press("right_square_bracket")
        assert text_of(screen, "#detail-prediction") == "true: 2 ✓"
        assert cells(class_table(screen), 3) == ["", "", "predicted ✓"]
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert text_of(screen, "#detail-prediction") == "true: 1 ✗ (predicted 2)"
        await pilot.press("p")  # fc2: no classes, no prediction lines
        assert not screen.query_one("#detail-prediction", Static).display


async def test_digits_class_names_stand_beside_the_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # ✓ and ✗ say right and wrong without colour
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    labels = batch_labels("digits_cnn.py").tolist()
    async with explorer(str(MODELS / "digits_cnn.py"), size=(80, 24)) as (pilot, screen):
        logits = await last_layer_of_a_dataset_batch(pilot, screen)
        assert cells(class_table(screen), 0) == [f"{i} {name}" for i, name in enumerate(names)]
        for sample in range(4):
            predicted = int(logits[sample].argmax())
            truth = f"true: {labels[sample]} {names[labels[sample]]} "
            wrong = f"✗ (predicted {predicted} {names[predicted]})"
            assert text_of(screen, "#detail-prediction") == truth + ("✓" if predicted == labels[sample] else wrong)
            await pilot.press("right_square_bracket")


async def test_xor_one_sigmoid_output_reads_p_then_the_class() -> None:
    labels = [int(y) for y in batch_labels("xor.py").reshape(-1).tolist()]
    async with explorer(str(MODELS / "xor.py")) as (pilot, screen):
        out = await last_layer_of_a_dataset_batch(pilot, screen)
        for sample in range(4):
            p = float(out[sample, 0])
            predicted = int(p > 0.5)
            lines = text_of(screen, "#detail-prediction").split("\n")
            assert lines[0] == f"p {p:.4f} → class {predicted}  (p > 0.5 is class 1)"
            right = f"true: {labels[sample]} " + ("✓" if predicted == labels[sample] else f"✗ (predicted {predicted})")
            assert lines[1:] == [right]
            table = class_table(screen)
            assert (table.title, len(table.columns)) == ("one output → class", 4)
            assert cells(table, 1) == [f"{1 - p:.4f}", f"{p:.4f}"]
            await pilot.press("right_square_bracket")


async def test_tiny_gpt_head_moves_along_its_positions_with_comma_and_full_stop() -> None:
    labels = batch_labels("tiny_gpt.py")
    async with explorer(str(MODELS / "tiny_gpt.py")) as (pilot, screen):
        logits = await last_layer_of_a_dataset_batch(pilot, screen)
        assert text_of(screen, "#detail-prediction").startswith("at position 0 of 16 (, . move)\n")
        await pilot.press("full_stop", "full_stop", "full_stop", "comma")
        assert screen.position == 2
        lines = text_of(screen, "#detail-prediction").split("\n")
        predicted, truth = int(logits[0, 2].argmax()), int(labels[0, 2])
        mark = "✓" if predicted == truth else f"✗ (predicted {predicted})"
        assert lines == ["at position 2 of 16 (, . move)", f"true: {truth} {mark}"]
        table = class_table(screen)
        probabilities = torch.softmax(logits[0, 2], 0)
        top = probabilities.argsort(descending=True)[:10].tolist()
        shown = [*top, truth] if truth not in top else top
        assert cells(table, 0) == [str(i) for i in shown]
        assert cells(table, 2) == [f"{float(probabilities[i]):.4f}" for i in shown]
        assert table.caption == "the 10 most probable of 64 shown; probabilities sum to 1.0000"
        assert "(position 2 of 16; , . move)" in text_of(screen, "#detail-values")
        await pilot.press(*["full_stop"] * 20)
        assert screen.position == 15 and "at position 15 of 16" in text_of(screen, "#detail-prediction")
        await pilot.press("p")  # ln_f keeps the position: the same token, one layer earlier
        assert "(position 15 of 16; , . move)" in text_of(screen, "#detail-values")
