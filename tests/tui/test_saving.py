"""Saving in the explorer: failures show and keep the steps unsaved, no ctrl+s is dropped, r asks as q does,
and a crash writes unsaved training to an emergency checkpoint before exiting 1 (issue 7, section 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import MODELS
from tests.trust import file_hashes
from tests.tui.conftest import explorer, settled, until
from tui.core.load.checkpoints import read_checkpoint
from tui.core.load.model_file import load_model
from tui.screens.confirm import QuitScreen

pytestmark = pytest.mark.asyncio
SIMPLE = str(MODELS / "simple.py")




async def step(pilot: object, screen: object, times: int) -> None:
    for _ in range(times):
        await pilot.press("s")  # type: ignore[attr-defined]
        await settled(pilot)  # type: ignore[attr-defined]
        assert screen.trainer is not None and not screen.training


def status(screen: object) -> str:
    return " ".join(str(screen.query_one("#training-status").content).split())  # type: ignore[attr-defined]


def saved(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.safetensors"))


async def test_a_failing_ctrl_s_shows_the_error_and_keeps_the_steps_unsaved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("checkpoints").write_text("a file where nnview wants a folder\n")  # root or not, no folder fits here
    before = file_hashes(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        await step(pilot, screen, 2)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "save failed" in status(screen))
        assert f"cannot save in checkpoints/: {tmp_path / 'checkpoints'} is a file, not a folder" in status(screen)
        assert screen.unsaved_steps == 2
        assert pilot.app.is_running and pilot.app.screen is screen
        await pilot.press("q")  # quitting still asks: the 2 steps are not saved
        assert isinstance(pilot.app.screen, QuitScreen)
        await pilot.press("s")  # save and quit: the save fails, so nnview stays open with the error
        await until(pilot, lambda: "save failed, still open" in status(screen))
        assert pilot.app.is_running and pilot.app.screen is screen and screen.unsaved_steps == 2
        Path("checkpoints").unlink()  # the user fixes it; ctrl+s now works
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.unsaved_steps == 0)
    assert saved(tmp_path / "checkpoints") == ["simple-step2.safetensors"]
    assert set(file_hashes(tmp_path)) - set(before) == {
        "checkpoints/simple-step2.safetensors",
        "checkpoints/simple-step2.safetensors.json",
    }


@pytest.mark.parametrize(("keys", "steps"), [(("s", "ctrl+s"), 1), (("t", "ctrl+s"), None)])
async def test_ctrl_s_in_the_same_burst_as_t_or_s_is_never_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...], steps: int | None
) -> None:
    monkeypatch.chdir(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        await pilot.press(*keys)  # no pause between the keys: ctrl+s lands before the trainer exists
        await until(pilot, lambda: (tmp_path / "checkpoints").is_dir() and screen.unsaved_steps == 0)
        await settled(pilot)
        assert not screen.training
        count = screen.trainer.step_count
        assert count >= 1 and (steps is None or count == steps)
        assert saved(tmp_path / "checkpoints") == [f"simple-step{count}.safetensors"]
        fresh = load_model(SIMPLE).model
        info = read_checkpoint(tmp_path / "checkpoints" / f"simple-step{count}.safetensors", fresh).info
        assert info["step"] == count
        trained = screen.trainer.model.state_dict()
        assert all(torch.equal(v, trained[k]) for k, v in fresh.state_dict().items())


async def test_r_with_unsaved_steps_asks_as_q_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        await step(pilot, screen, 3)
        trainer = screen.trainer
        await pilot.press("r")
        dialog = pilot.app.screen
        assert isinstance(dialog, QuitScreen)
        texts = [" ".join(str(w.content).split()) for w in dialog.query("Static")]
        assert texts == ["3 training steps are not saved.", "s save and reload d reload without saving esc stay"]
        await pilot.press("escape")  # stay: nothing is dropped
        assert pilot.app.screen is screen and screen.trainer is trainer and screen.unsaved_steps == 3

        await pilot.press("r", "s")  # save and reload
        await until(pilot, lambda: screen.trainer is None and screen.shown == "trace")
        assert saved(tmp_path / "checkpoints") == ["simple-step3.safetensors"]

        await step(pilot, screen, 2)
        await pilot.press("r", "d")  # reload without saving
        await until(pilot, lambda: screen.trainer is None and screen.shown == "trace")
        assert saved(tmp_path / "checkpoints") == ["simple-step3.safetensors"]
        await pilot.press("r")  # nothing unsaved: reloads at once
        assert pilot.app.screen is screen


async def test_ctrl_r_with_unsaved_steps_says_how_many_are_lost() -> None:
    async with explorer(SIMPLE) as (pilot, screen):
        await step(pilot, screen, 2)
        await pilot.press("ctrl+r")
        question = " ".join(str(pilot.app.screen.query("Static").first().content).split())
        assert question == (
            "Reset the weights to where training started? 2 training steps are not saved (n, then ctrl+s saves them)."
        )
        await pilot.press("n")
        assert screen.unsaved_steps == 2


async def test_an_unexpected_exception_writes_an_emergency_checkpoint_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="nnview bug"):
        async with explorer(SIMPLE) as (pilot, screen):
            await step(pilot, screen, 4)

            def broken() -> None:
                raise RuntimeError("nnview bug")

            monkeypatch.setattr(screen, "action_next_layer", broken)
            await pilot.press("n")
            await until(pilot, lambda: not pilot.app.is_running)
    app = pilot.app
    assert app.return_code == 1
    assert app.rescued is not None and app.rescued.parent == Path("checkpoints")
    assert app.rescued.name.startswith("nnview-rescue-simple-step4-")
    info = read_checkpoint(app.rescued, load_model(SIMPLE).model).info
    assert info["step"] == 4 and info["emergency"] is True


async def test_a_training_worker_dying_of_an_unexpected_error_shows_it_and_keeps_the_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        await step(pilot, screen, 3)

        def broken_step() -> None:
            raise ZeroDivisionError("inside nnview's trainer")

        monkeypatch.setattr(screen.trainer, "step_in_guest", broken_step)
        await pilot.press("s")
        await until(pilot, lambda: "training stopped" in status(screen))
        assert "inside nnview's trainer" in status(screen)
        assert pilot.app.is_running and pilot.app.screen is screen and screen.unsaved_steps == 3
        await pilot.press("ctrl+s")  # the 3 steps trained before the failure are still there to save
        await until(pilot, lambda: screen.unsaved_steps == 0)
    assert saved(tmp_path / "checkpoints") == ["simple-step3.safetensors"]


async def test_terminate_saves_then_exits_128_plus_the_signal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    monkeypatch.chdir(tmp_path)
    async with explorer(SIMPLE) as (pilot, screen):
        await step(pilot, screen, 2)
        pilot.app.terminate(signal.SIGHUP)  # what the loop's SIGHUP handler calls
        await until(pilot, lambda: not pilot.app.is_running)
    assert pilot.app.return_code == 129
    assert pilot.app.rescued is not None and pilot.app.rescued.name.startswith("nnview-rescue-simple-step2-")
