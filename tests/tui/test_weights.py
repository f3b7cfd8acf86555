"""``nnview FILE --weights CKPT`` opens a checkpoint saved by ctrl+s or ``nnview train --save``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from textual.widgets import Static

from tests.conftest import MODELS
from tests.tui.conftest import explorer
from tui.commands.main import main
from tui.core.load.checkpoints import save_checkpoint
from tui.core.load.model_file import load_model

SIMPLE = str(MODELS / "simple.py")


def text(screen: object, selector: str) -> str:
    return " ".join(str(screen.query_one(selector, Static).render()).split())  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_the_explorer_opens_with_the_checkpoint_s_weights(tmp_path: Path) -> None:
    model = load_model(SIMPLE).model
    with torch.no_grad():
        model.fc1.weight.fill_(0.25)  # weights no fresh SimpleNN has
    path = save_checkpoint(tmp_path / "simple.safetensors", model, {"model": SIMPLE, "step": 7})
    async with explorer(SIMPLE, weights=str(path)) as (_pilot, screen):
        assert torch.equal(screen.model.fc1.weight, torch.full((10, 5), 0.25))
        assert f"weights from {path}" in text(screen, "#model-notes")
        # the table's figures are the checkpoint's: fc1's output is 0.25 x (sum of the inputs) + bias
        x = screen.session.example.args[0]
        expected = x.sum(dim=1, keepdim=True) * 0.25 + model.fc1.bias
        assert torch.allclose(screen.result.captured[screen.result.layer("fc1").index][0], expected)


@pytest.mark.asyncio
async def test_weights_that_do_not_fit_the_model_show_the_error_and_the_app_stays_up(tmp_path: Path) -> None:
    other = load_model(str(MODELS / "xor.py")).model
    path = save_checkpoint(tmp_path / "xor.safetensors", other, {})
    async with explorer(SIMPLE, weights=str(path)) as (pilot, screen):
        assert screen.shown == "error" and pilot.app.is_running
        message = text(screen, "#error-message")
        assert "xor.safetensors" in message and "fc1" in message


def test_a_missing_weights_file_is_refused_before_the_screen_opens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([SIMPLE, "--weights", "no/such.safetensors"]) == 2
    err = capsys.readouterr().err
    assert "weights file no/such.safetensors does not exist" in err and "Traceback" not in err
    assert main(["train", SIMPLE, "--weights", str(MODELS)]) == 2  # nnview train checks it the same way
    assert f"--weights {MODELS} is a folder" in capsys.readouterr().err


def test_the_header_names_the_bundled_example_by_its_short_name() -> None:
    from tui.commands.arguments import bundled_model
    from tui.widgets.header import shown_path

    assert shown_path(bundled_model()) == "simple.py (bundled example)"
    assert shown_path("models/simple.py") == "models/simple.py"  # the path as the user gave it
