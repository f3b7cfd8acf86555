"""Issue 7, section 3, in the explorer: a mistake or a worker failure shows a message and the app answers.

Never a stuck "loading …", never a dead key, never a crash: after each mistake the test presses a
key and sees the app answer it.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import MODELS, ROOT
from tests.tui.conftest import explorer, settled, until
from tui.core.session import ModelSession
from tui.core.train.trainer import Trainer
from tui.screens.explorer import ExplorerScreen
from tui.screens.help import HelpScreen
from tui.screens.hyperparameters import HyperparameterScreen

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")
XOR = str(MODELS / "xor.py")
CORPUS = ROOT / "tests" / "corpus" / "mistakes"




def text(screen: ExplorerScreen, selector: str) -> str:
    return " ".join(str(screen.query_one(selector, Static).content).split())


def notices(pilot: Pilot[None]) -> list[str]:
    return [notification.message for notification in pilot.app._notifications]


async def answers(pilot: Pilot[None], screen: ExplorerScreen) -> None:
    """``?`` opens the help and escape closes it: the app is up and reading keys."""
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await pilot.press("escape")
    await until(pilot, lambda: pilot.app.screen is screen)


async def test_an_input_too_big_to_allocate_shows_the_error_not_loading_forever() -> None:
    async with explorer(SIMPLE, inputs=("99999999x99999",)) as (pilot, screen):
        assert screen.shown == "error"
        assert text(screen, "#model-header").endswith("error [input]")
        message = text(screen, "#error-message")
        assert "the input 99999999x99999:float32 needs 36.4 TiB of memory" in message
        assert "or --meta to trace shapes and MACs without allocating anything" in message
        await answers(pilot, screen)


async def test_a_batch_of_zero_shows_the_error_and_the_app_stays_up() -> None:
    async with explorer(SIMPLE, batch=0) as (pilot, screen):
        assert screen.shown == "error"
        assert "--batch 0: the batch size must be a whole number of at least 1" in text(screen, "#error-message")
        await answers(pilot, screen)
        assert pilot.app.is_running


async def test_a_crash_in_the_load_worker_shows_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ModelSession) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ModelSession, "open", broken)
    async with explorer(SIMPLE) as (pilot, screen):
        assert screen.shown == "error"
        assert text(screen, "#model-header").endswith("error [internal]")
        message = text(screen, "#error-message")
        assert "nnview failed while loading and tracing the model: RuntimeError: disk on fire" in message
        assert "This is a bug in nnview, not in your model" in message
        await answers(pilot, screen)


async def test_a_dataset_of_strings_says_so_and_t_keeps_answering() -> None:
    async with explorer(str(CORPUS / "ds_strings.py")) as (pilot, screen):
        for _ in range(2):  # the second t is answered too: the key is not dead
            await pilot.press("t")
            await until(pilot, lambda: not screen.training and "x_train" in text(screen, "#training-status"))
            status = text(screen, "#training-status")
            assert "training stopped: dataset() in the model file: x_train is a list of str, not numbers" in status
            assert "encode text labels as class ids" in status
        assert screen.trainer is None
        await answers(pilot, screen)


async def test_bad_hyperparameters_in_the_file_are_named_when_training_starts() -> None:
    async with explorer(str(CORPUS / "hp_lr_string.py")) as (pilot, screen):
        await pilot.press("s")
        await until(pilot, lambda: not screen.training and "drop the quotes" in text(screen, "#training-status"))
        assert "\"lr\": '0.01'" in text(screen, "#training-status")
        await answers(pilot, screen)


async def test_a_loss_that_cannot_take_the_targets_is_explained_before_step_1() -> None:
    async with explorer(XOR, data="moons") as (pilot, screen):
        await pilot.press("t")
        await until(pilot, lambda: not screen.training and "BCELoss" in text(screen, "#training-status"))
        status = text(screen, "#training-status")
        assert "make the last layer output 2 values and use --loss cross_entropy" in status
        assert screen.trainer is None  # refused before any step
        await answers(pilot, screen)


async def test_the_e_form_refuses_a_nan_learning_rate_and_keeps_the_training() -> None:
    async with explorer(XOR) as (pilot, screen):
        await pilot.press("s")
        await settled(pilot)
        assert screen.trainer is not None and not screen.training
        trainer = screen.trainer
        assert trainer is not None and trainer.step_count == 1
        config = trainer.config
        await pilot.press("e")
        form = pilot.app.screen
        assert isinstance(form, HyperparameterScreen)
        for bad, phrase in (
            ("nan", "learning rate nan: the learning rate must be a finite number above 0, not nan"),
            ("inf", "learning rate inf:"),
            ("0", "learning rate 0:"),
            ("fast", "learning rate fast:"),
        ):
            form.query_one("#lr", Input).value = bad
            await pilot.press("enter")
            assert pilot.app.screen is form  # the form stays open
            assert phrase in text(form, "#form-error")  # type: ignore[arg-type]
        form.query_one("#lr", Input).value = "0.05"
        form.query_one("#epochs", Input).value = "2.5"
        await pilot.press("enter")
        assert pilot.app.screen is form
        assert "epochs 2.5: the number of epochs must be a whole number of at least 1" in text(form, "#form-error")  # type: ignore[arg-type]
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen)
        assert screen.trainer is trainer and trainer.config == config and trainer.step_count == 1
        assert screen.unsaved_steps == 1  # the step trained before the form is still there, unsaved
        await pilot.press("s")
        await until(pilot, lambda: trainer.step_count == 2 and not screen.training)


async def test_a_crash_in_the_training_worker_stops_training_and_s_answers_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def broken(self: Trainer) -> object:
        calls.append(1)
        raise RuntimeError("cuda went away")

    async with explorer(XOR) as (pilot, screen):
        monkeypatch.setattr(Trainer, "step_in_guest", broken)
        await pilot.press("t")
        await until(pilot, lambda: len(calls) == 1 and not screen.training)
        status = text(screen, "#training-status")
        assert "nnview failed while training: RuntimeError: cuda went away" in status
        assert any("cuda went away" in notice for notice in notices(pilot))
        await pilot.press("s")  # not a dead key: the worker runs again (and fails again)
        await until(pilot, lambda: len(calls) == 2 and not screen.training)
        await answers(pilot, screen)
