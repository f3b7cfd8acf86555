"""Saving from the explorer: ctrl+s, save-before-quit/reload, and the emergency checkpoint on a crash or signal.

A save never races training: one asked for while a training worker runs waits until it stops
(``pending_save``), and writing holds the session's model lock. A failing save shows its error and
leaves the steps counted as unsaved; "save and quit" then stays open.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.core.records import ErrorRecord, NnviewError
from tui.messages import CheckpointSaved
from tui.screens.confirm import QuitScreen
from tui.widgets.training_panel import TrainingPanel

# Checkpoints and training import torch: they load when a save runs, never before the explorer's first frame.
if TYPE_CHECKING:
    from tui.core.session import ModelSession
    from tui.core.train.trainer import Trainer

EMERGENCY_LOCK_WAIT = 10.0  # seconds to wait for a step in flight before an emergency save writes anyway


class SavingScreen(Screen[None]):
    """A screen whose session may hold a trainer: every way its training gets written to disk."""

    def __init__(self, session: ModelSession) -> None:
        super().__init__()
        self.session = session
        self.training = False  # a training worker runs (set on the UI thread only)
        self.pause_requested = threading.Event()  # the training loop stops at the next step boundary
        self.trained_steps = 0  # the step count of the latest training update (never read off the trainer)
        self.saved_at_step = 0
        # A save asked for while a training worker runs waits for it to stop (then "" / "exit" / "reload"),
        # so a ctrl+s typed in the same burst as t or s is never dropped.
        self.pending_save: str | None = None
        self.pending_reload = False  # "reload without saving" asked while a step was still running

    @property
    def trainer(self) -> Trainer | None:
        """The session's trainer, once training started (the UI holds it, and never reads its live state)."""
        return self.session.trainer

    @property
    def unsaved_steps(self) -> int:
        """Steps trained since the last save."""
        return 0 if self.trainer is None else self.trained_steps - self.saved_at_step

    def action_reload(self) -> None:
        """Reload the model file (the explorer screen says how)."""
        raise NotImplementedError

    def action_save(self) -> None:
        """Save the weights and hyperparameters; never overwrites an earlier checkpoint."""
        self.request_save()

    def request_save(self, then: str = "") -> None:
        """Save now, or when the running training worker stops; then exit or reload if ``then`` says so."""
        if self.training:  # pause at the next step boundary; on_training_stopped saves
            self.pause_requested.set()
            self.pending_save = then
            return
        if self.trainer is None:
            self.notify("Nothing trained yet: press t or s first", severity="warning")
            return
        self.save_worker(then)

    def confirm_unsaved(self, then: str) -> bool:
        """With unsaved steps, pause and ask: save and ``then``, ``then`` without saving, or stay; False if none."""
        if self.unsaved_steps <= 0 and not self.training:
            return False
        steps = max(self.unsaved_steps, 1)  # a running worker finishes at least the step in flight
        self.pause_requested.set()

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.request_save(then)
            elif choice == "discard":
                self._proceed(then)

        if not isinstance(self.app.screen, QuitScreen):
            self.app.push_screen(QuitScreen(steps, then), chosen)
        return True

    def _proceed(self, then: str) -> None:
        if then == "exit":
            self.app.exit()
        elif then == "reload":
            if self.training:  # the step in flight finishes first
                self.pending_reload = True
            else:
                self.drop_trainer()
                self.action_reload()

    def drop_trainer(self) -> None:
        """Forget the trainer (a reload replaces the model); nothing is unsaved afterwards."""
        self.session.drop_trainer()  # torch's thread count back to what it was before training
        self.trained_steps = self.saved_at_step = 0

    # --- workers -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="save", exit_on_error=False)
    def save_worker(self, then: str = "") -> None:
        """Write a checkpoint under checkpoints/ named by model and step, never over an old one."""
        trainer = self.trainer
        assert trainer is not None
        try:
            with self.session.lock:  # waits for a step in flight to finish
                path, step = self._save(trainer), trainer.step_count
        except NnviewError as exc:
            self.post_message(CheckpointSaved(None, exc.record, then))
            return
        except Exception as exc:  # noqa: BLE001 - a failing save must show, never end the app (the steps stay unsaved)
            record = ErrorRecord(kind="save", message=f"saving failed: {exc}", hint="try ctrl+s again")
            self.post_message(CheckpointSaved(None, record, then))
            return
        self.post_message(CheckpointSaved(str(path), None, then, step))

    def _save(self, trainer: Trainer) -> Path:
        """Write ``trainer``'s weights under checkpoints/ (the caller holds the model lock)."""
        from tui.core.load.checkpoints import save_checkpoint, sidecar

        stem = Path(self.session.options.model_ref.split(":")[0]).stem
        path = Path("checkpoints") / f"{stem}-step{trainer.step_count}.safetensors"
        counter = 1
        while path.exists() or sidecar(path).exists():
            path = path.with_name(f"{stem}-step{trainer.step_count}-{counter}.safetensors")
            counter += 1
        if Path("checkpoints").exists() and not Path("checkpoints").is_dir():
            raise NnviewError(
                ErrorRecord(
                    kind="save",
                    message=f"cannot save in checkpoints/: {Path('checkpoints').resolve()} is a file, not a folder",
                    hint="rename that file, or start nnview from another folder",
                )
            )
        val_loss, val_accuracy = trainer.evaluate()
        info = {"model": self.session.options.model_ref, "step": trainer.step_count, "epoch": trainer.epoch}
        info |= {"val_loss": val_loss, "val_accuracy": val_accuracy, "hyperparameters": trainer.config.__dict__}
        save_checkpoint(path, trainer.model, info)
        return path

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died of an error nnview did not expect is a crash (exit 1, emergency save), not a stall."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and isinstance(error, Exception) and not isinstance(error, NnviewError):
            raise error

    def on_checkpoint_saved(self, message: CheckpointSaved) -> None:
        """Count the steps as saved and run what waited on the save, or show why it failed."""
        panel = self.query_one("#training", TrainingPanel)
        if message.error is not None:
            verb = {"exit": "still open: ", "reload": "not reloaded: "}.get(message.then, "")
            text = f"save failed, {verb}{message.error.message} — {message.error.hint}"
            panel.reveal()
            panel.show_status(Text(text, style="bold red"))
            self.notify(text, severity="error", timeout=15)
            return
        self.saved_at_step = message.step
        self.notify(f"Saved {message.path}")
        self._proceed(message.then)

    def after_training_stopped(self) -> None:
        """Run what waited for the training worker to stop: a save, or a reload without saving."""
        if self.pending_save is not None:
            then, self.pending_save = self.pending_save, None
            self.request_save(then)
        elif self.pending_reload:
            self.pending_reload = False
            self._proceed("reload")

    def emergency_save(self) -> tuple[Path | None, str]:
        """Write unsaved training to a rescue checkpoint (checkpoints/, else here, else the temp dir).

        Runs on the main thread as nnview goes down (a crash, SIGTERM, SIGHUP); returns the path, or
        ``None`` and why it failed. Nothing unsaved: ``(None, "")``. It reads the step count off the
        trainer, holding the model lock: what it writes is what the weights are, not the last update.
        """
        trainer = self.trainer
        if trainer is None or (self.unsaved_steps <= 0 and not self.training):
            return None, ""
        from tui.core.load.save_path import save_rescue  # a trainer exists: torch is loaded already

        self.pause_requested.set()
        lock = self.session.lock
        locked = lock.acquire(timeout=EMERGENCY_LOCK_WAIT)
        try:
            if trainer.step_count <= self.saved_at_step:
                return None, ""
            stem = Path(self.session.options.model_ref.split(":")[0]).stem
            info = {"model": self.session.options.model_ref, "step": trainer.step_count, "epoch": trainer.epoch}
            info |= {"hyperparameters": trainer.config.__dict__, "emergency": True}
            candidates = (Path("checkpoints"), Path.cwd(), Path(tempfile.gettempdir()))
            folders = tuple(f for f in candidates if f.is_dir() or not f.exists())
            path = save_rescue(trainer.model, info, f"{stem}-step{trainer.step_count}", folders)
        except NnviewError as exc:
            return None, exc.record.message
        finally:
            if locked:
                lock.release()
        self.saved_at_step = trainer.step_count
        return path, ""
