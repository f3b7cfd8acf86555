"""Training from the keyboard: t starts and pauses, s steps one batch, ctrl+s saves, NaN stops, quit asks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from textual.widgets import Input

from tests.conftest import MODELS
from tests.tui.conftest import explorer, settled, until
from tui.core.load.checkpoints import load_checkpoint
from tui.core.load.model_file import load_model
from tui.screens.confirm import ConfirmScreen, QuitScreen
from tui.screens.hyperparameters import HyperparameterScreen
from tui.widgets.training_panel import TrainingPanel

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")




async def test_t_starts_training_the_curve_gets_points_and_t_pauses() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        before = screen.result.layer("fc1").stats.mean
        await pilot.press("t")
        panel = screen.query_one("#training", TrainingPanel)
        await until(pilot, lambda: len(panel.epochs) >= 2)
        assert panel.display and len(panel.step_losses) >= 50
        await pilot.press("t")
        await settled(pilot)
        assert not screen.training
        steps = screen.trainer.step_count
        await pilot.pause(0.4)
        assert screen.trainer.step_count == steps  # paused means paused
        assert screen.result.layer("fc1").stats.mean != before  # the table shows the trained weights


async def test_s_trains_exactly_one_batch() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        assert screen.trainer.step_count == 1
        assert screen.trainer.position == 32
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer.step_count == 2 and not screen.training


async def test_s_pressed_while_a_step_finishes_is_never_dropped() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s", "s", "s")  # one burst: the 2nd and 3rd arrive while the 1st is still running
        await until(pilot, lambda: screen.trainer is not None and screen.trainer.step_count == 3)
        await settled(pilot)
        assert not screen.training
        await pilot.pause(0.3)
        assert screen.trainer.step_count == 3 and screen.trainer.position == 96  # exactly three batches of 32


async def test_t_pressed_while_a_step_finishes_starts_training_after_it() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s", "t")  # t lands while the single step is still running
        # Dropped, t would leave the trainer at 1 step; taken, it trains on (simple.py runs all 2,500 fast).
        await until(pilot, lambda: screen.trainer is not None and screen.trainer.step_count > 1)
        await settled(pilot)
        assert not screen.training
        assert screen.trainer.step_count in (2500, *range(2, 2500))
        assert not screen.running_single


async def test_ctrl_s_writes_a_checkpoint_that_loads_back_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        for _ in range(3):
            await pilot.press("s")
            await settled(pilot)
            assert not screen.training
        await pilot.press("ctrl+s")
        path = tmp_path / "checkpoints" / "simple-step3.safetensors"
        await until(pilot, lambda: path.exists() and screen.unsaved_steps == 0)
        fresh = load_model(SIMPLE).model
        info = load_checkpoint(path, fresh)
        assert info["step"] == 3
        trained = screen.trainer.model.state_dict()
        assert all(torch.equal(v, trained[k]) for k, v in fresh.state_dict().items())


async def test_nan_in_training_stops_and_names_the_layer() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        trainer = screen.trainer
        with torch.no_grad():  # a weight blew up: every output of fc1 is nan from the next step on
            screen.model.fc1.weight[0, 0] = float("nan")
        await pilot.press("t")
        await settled(pilot)
        assert not screen.training
        status = str(screen.query_one("#training-status").content)
        assert "training stopped: the loss became nan at step 2" in status
        assert "fc1 (Linear)" in status
        assert trainer.step_count == 1


async def test_reset_asks_first_and_restores_the_weights() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        start = screen.model.fc1.weight.detach().clone()
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        assert not torch.equal(screen.model.fc1.weight, start)
        await pilot.press("ctrl+r")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: screen.trainer.step_count == 0 and torch.equal(screen.model.fc1.weight, start))


async def test_quitting_with_unsaved_training_asks_and_can_cancel() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("t")
        await until(pilot, lambda: screen.trainer is not None and screen.trainer.step_count > 5)
        await pilot.press("q")
        assert isinstance(pilot.app.screen, QuitScreen)
        await settled(pilot)  # stopped at a step boundary
        assert not screen.training
        await pilot.press("escape")
        assert pilot.app.screen is screen
        assert pilot.app.is_running


async def test_e_edits_hyperparameters_and_refuses_bad_values() -> None:
    from textual.widgets import Input

    from tui.screens.hyperparameters import HyperparameterScreen

    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        await pilot.press("e")
        form = pilot.app.screen
        assert isinstance(form, HyperparameterScreen)
        form.query_one("#lr", Input).value = "-1"
        await pilot.press("enter")
        assert pilot.app.screen is form
        assert "the learning rate must be a finite number above 0" in str(form.query_one("#form-error").content)
        form.query_one("#lr", Input).value = "0.001"
        form.query_one("#batch-size", Input).value = "16"
        await pilot.press("enter")
        assert pilot.app.screen is screen
        assert (screen.trainer.config.lr, screen.trainer.config.batch_size) == (0.001, 16)
        assert screen.trainer.optimizer.param_groups[0]["lr"] == 0.001
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer.step_count == 2 and not screen.training
        assert screen.trainer.position == 16


async def test_an_exception_inside_forward_mid_epoch_shows_the_error_and_keeps_the_app_up(tmp_path) -> None:
    path = tmp_path / "flaky.py"
    path.write_text(
        "import torch\nfrom torch import nn\n"
        "class Flaky(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(5, 3)\n"
        "        self.calls = 0\n"
        "    def forward(self, x):\n"
        "        self.calls += 1\n"
        "        if self.training and self.calls > 8:\n"
        "            raise ValueError('sensor glitch')\n"
        "        return self.fc(x)\n"
    )
    async with explorer(str(path), data="classification") as (pilot, screen):
        await pilot.press("t")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        status = str(screen.query_one("#training-status").content)
        assert "training stopped" in status and "sensor glitch" in status
        assert pilot.app.is_running and pilot.app.screen is screen
        await pilot.press("n")
        assert screen.result.layers[screen.selected].name == "fc"


async def test_minus_caps_the_pace_so_a_tiny_model_can_be_watched() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("minus", "minus", "minus", "minus")  # 300, 100, 30, then 10 steps/s
        assert screen.steps_per_second_cap() == 10.0
        began = time.monotonic()
        await pilot.press("t")
        await pilot.pause(0.6)
        await pilot.press("t")  # pause
        await settled(pilot)
        took = time.monotonic() - began
        # At most 10 a second (full speed would be ~1,500 in that time), whatever a busy machine made of 0.6 s.
        assert 2 <= screen.trainer.step_count <= 10 * took + 1
        await pilot.press("plus", "plus", "plus", "plus")
        assert screen.steps_per_second_cap() is None


async def test_e_before_training_opens_the_form_and_the_status_says_what_t_will_do() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press("e")
        await settled(pilot)
        form = pilot.app.screen
        assert isinstance(form, HyperparameterScreen) and screen.trainer is not None
        assert screen.trainer.step_count == 0
        form.query_one("#lr", Input).value = "0.05"
        form.query_one("#epochs", Input).value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.trainer.config.lr == 0.05 and screen.trainer.config.epochs == 3
        status = str(screen.query_one("#training-status").render())
        assert "ready:" in status and "lr 0.05" in status and "3 epochs" in status
