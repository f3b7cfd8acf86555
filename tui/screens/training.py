"""Training inside the explorer: t / s / ctrl+r / e, and a worker that walks the core's training loop.

The worker only checks cancellation, posts each update the core yields, and says when it stopped;
the handlers render the frozen snapshot they are given and never read the live trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.worker import get_current_worker

from tui.core.records import NnviewError
from tui.messages import TraceReady, TrainingLiveView, TrainingProgress, TrainingStopped
from tui.screens.confirm import ConfirmScreen
from tui.screens.saving import SavingScreen
from tui.widgets.training_panel import TrainingPanel

# Steps per second that - and + step through: full speed, then caps slow enough to watch a tiny model learn
# (models/simple.py runs its 100 epochs in about a second at full speed).
PACES: tuple[float | None, ...] = (None, 300.0, 100.0, 30.0, 10.0, 3.0, 1.0)

# The training core imports torch: it loads in the workers, never before the explorer's first frame.
if TYPE_CHECKING:
    from tui.core.live_training import LiveView
    from tui.core.session import ModelSession
    from tui.core.tensorboard.writer import TensorBoardLog
    from tui.core.train.loop import TrainingUpdate
    from tui.core.train.trainer import TrainConfig


class TrainingScreen(SavingScreen):
    """A screen that trains its session's model in place, step by step or until paused."""

    # The explorer lists these after its own keys (a base screen's BINDINGS would come first in the footer).
    TRAINING_BINDINGS: list[BindingType] = [
        Binding("t", "train", "Train", tooltip="Start or pause training", id="train"),
        Binding("s", "step", "Step", tooltip="Train exactly one batch", id="train-step"),
        Binding("ctrl+s", "save", "Save", tooltip="Save a checkpoint (safetensors)", id="save"),
        Binding("ctrl+r", "reset_weights", "Reset", tooltip="Reset the weights (asks first)", id="reset"),
        Binding(
            "e", "edit_hyperparameters", "Hyper", tooltip="Edit optimizer, lr, batch size, epochs, loss", id="edit"
        ),
        Binding(
            "minus", "pace(-1)", "Slower", key_display="-", tooltip="Train slower (a steps per second cap)", id="slower"
        ),
        Binding("plus,equals_sign", "pace(1)", "Faster", key_display="+", tooltip="Train faster", id="faster"),
    ]

    def __init__(self, session: ModelSession) -> None:
        super().__init__(session)
        # `s` pressed while a single step is still finishing (its live re-trace) runs next, never dropped.
        self.queued_steps = 0
        self.queued_train = False  # `t` pressed while a single step was finishing
        self.running_single = False  # whether the running worker trains one batch (s) or until paused (t)
        self.pace_level = 0  # index into PACES: full speed, or a cap a learner can watch
        self.tensorboard: TensorBoardLog | None = None  # --log-dir's event files, once training started

    # --- actions -----------------------------------------------------------------------------

    def action_train(self) -> None:
        """Start training, or pause it at the next step boundary; during a single step, start right after it."""
        if self.training and self.running_single:
            self.queued_train = not self.queued_train
            return
        if self.training:
            self.pause_requested.set()
            return
        self.pause_requested.clear()
        self.training, self.running_single = True, False
        self.train_worker(single=False)

    def action_step(self) -> None:
        """Train exactly one batch; pressed while a step is still finishing, it runs right after it."""
        if not self.training:
            self.pause_requested.clear()
            self.training, self.running_single = True, True
            self.train_worker(single=True)
        elif self.running_single:
            self.queued_steps += 1

    def action_reset_weights(self) -> None:
        """Ask, then put the weights back to where training started."""
        if self.trainer is None or self.training:
            self.notify("Pause training (t) before resetting", severity="warning")
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.reset_worker()

        question = "Reset the weights to where training started?"
        if self.unsaved_steps > 0:
            question += f" {self.unsaved_steps} training steps are not saved (n, then ctrl+s saves them)."
        self.app.push_screen(ConfirmScreen(question), confirmed)

    def action_pace(self, change: int) -> None:
        """Cap training at fewer (or more) steps per second, so a tiny model's run can be watched."""
        self.pace_level = max(0, min(len(PACES) - 1, self.pace_level + (-change)))
        pace = PACES[self.pace_level]
        self.notify("full speed" if pace is None else f"at most {pace:g} steps/s", timeout=2)

    def steps_per_second_cap(self) -> float | None:
        """The pace the training loop keeps (read by the worker between steps)."""
        return PACES[self.pace_level]

    def action_edit_hyperparameters(self) -> None:
        """Open the hyperparameter form (before or during training); applying it rebuilds the optimizer."""
        trainer = self.trainer
        if trainer is None:  # not trained yet: build the trainer (it reads the data) off the UI thread first
            self.prepare_worker()
            return
        self.pause_requested.set()

        def applied(config: TrainConfig | None) -> None:
            if config is not None:
                with self.session.lock:  # the step in flight finishes first
                    trainer.reconfigure(config)
                lr = config.lr if config.lr is not None else 0.01
                settings = f"{config.optimizer or 'adam'} lr {lr:g}, batch {config.batch_size}, {config.epochs} epochs"
                self.notify(settings)
                if not self.training:  # the status line says what t will do, at once
                    panel = self.query_one("#training", TrainingPanel)
                    panel.reveal()
                    panel.show_status(Text(f"ready: {settings} (t trains)", style="bold"))

        from tui.screens.hyperparameters import HyperparameterScreen

        # The settings and the loss only change here, on this thread: reading them is not reading a moving trainer.
        self.app.push_screen(HyperparameterScreen(trainer.config, trainer.loss_name), applied)

    # --- workers -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def prepare_worker(self) -> None:
        """Build the trainer (the file's data, checked against the model), then open the form."""
        try:
            self.session.ensure_trainer()
        except NnviewError as exc:
            self.post_message(TrainingStopped("error", exc.record))
            return
        self.app.call_from_thread(self.action_edit_hyperparameters)

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def train_worker(self, single: bool) -> None:
        """Walk the core's training loop; post every update and live view; then say why it stopped."""
        from tui.core.live_training import live_training
        from tui.core.train.loop import TrainingUpdate

        worker = get_current_worker()
        try:
            trainer = self.session.ensure_trainer()
        except NnviewError as exc:
            self.post_message(TrainingStopped("error", exc.record))
            return
        stopped = TrainingStopped("paused")
        steps = 1 if single else None
        pace = self.steps_per_second_cap
        log = self._tensorboard_log()
        for item in live_training(self.session, trainer, pause=self.pause_requested, max_steps=steps, pace=pace):
            if worker.is_cancelled:
                break  # still say so: `training` must not stay set
            if log is None:  # --log-dir: the same figures as event files, written on this worker's thread
                pass
            elif isinstance(item, TrainingUpdate):
                log.update(item)
            else:
                log.layers(trainer.step_count, item.health)
            self._post(item)
            if isinstance(item, TrainingUpdate) and item.final:
                stopped = TrainingStopped(item.reason, item.error)
        self.post_message(stopped)

    def on_unmount(self) -> None:
        if self.tensorboard is not None:  # --log-dir: what the last second of training wrote reaches the disk
            self.tensorboard.close()

    def _tensorboard_log(self) -> TensorBoardLog | None:
        """The ``--log-dir`` event files (one per explorer), opened by the first training worker."""
        folder = self.session.options.log_dir
        if folder is not None and self.tensorboard is None:
            from tui.core.tensorboard.writer import TensorBoardLog

            self.tensorboard = TensorBoardLog(folder)  # checked before the screen opened: a failure is a bug
        return self.tensorboard

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def reset_worker(self) -> None:
        """Reset the weights and optimizer, then show the reset model."""
        from tui.core.live_training import sample_live_view
        from tui.core.train.health import weights_snapshot

        trainer = self.trainer
        assert trainer is not None
        with self.session.lock:
            trainer.reset_weights()
            before = weights_snapshot(trainer.model)
        self.post_message(TrainingStopped("reset"))
        try:
            view, _ = sample_live_view(self.session, trainer, before)
        except NnviewError as exc:
            self.post_message(TrainingStopped("error", exc.record))
            return
        self._post(view)

    def _post(self, item: TrainingUpdate | LiveView) -> None:
        """One message per item: an update, a re-trace for the table, health and boundary for the panel."""
        from tui.core.train.loop import TrainingUpdate

        if isinstance(item, TrainingUpdate):
            self.post_message(TrainingProgress(item))
            return
        if item.result is not None:
            self.post_message(TraceReady(item.result, item.model, "training"))
        self.post_message(TrainingLiveView(item))

    # --- messages ----------------------------------------------------------------------------

    def on_training_progress(self, message: TrainingProgress) -> None:
        """Render the snapshot: the curves, the status line; count its steps as trained."""
        update = message.update
        self.trained_steps = update.step
        panel = self.query_one("#training", TrainingPanel)
        panel.reveal()
        panel.show_update(update, running=self.training and not update.final)

    def on_training_live_view(self, message: TrainingLiveView) -> None:
        """Layer health and the decision boundary, whichever came with this view."""
        panel = self.query_one("#training", TrainingPanel)
        view = message.view
        if view.health:
            panel.show_health(list(view.health))
        if view.boundary is not None:
            panel.show_boundary(view.boundary, view.epoch)

    def on_training_stopped(self, message: TrainingStopped) -> None:
        """Run a queued t or s; else show why training stopped and run what waited for it."""
        self.training = False
        queued, self.queued_steps = self.queued_steps, 0
        start, self.queued_train = self.queued_train, False
        asked_to_stop = self.pause_requested.is_set() or self.pending_save is not None or self.pending_reload
        if (queued or start) and message.reason == "paused" and message.error is None and not asked_to_stop:
            if start:
                self.action_train()
            else:
                self.queued_steps = queued - 1
                self.action_step()
            return
        panel = self.query_one("#training", TrainingPanel)
        if message.reason == "reset":
            self.trained_steps = self.saved_at_step = 0
            panel.reset()
            panel.show_status(Text("weights reset: step 0", style="bold"))
        elif message.error is not None:
            panel.reveal()
            panel.show_status(
                Text(f"training stopped: {message.error.message} — {message.error.hint}", style="bold red")
            )
            self.notify(message.error.message, severity="error")
        elif message.reason == "done":
            self.notify("Training finished")
        self.after_training_stopped()
