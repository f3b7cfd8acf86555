"""Training inside the explorer: t / s / ctrl+r / ctrl+s, a worker that steps, throttled messages."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.worker import get_current_worker

from tui.core.boundary import decision_boundary, has_plane_inputs
from tui.core.datasets import load_training_data
from tui.core.health import layer_health, weights_snapshot
from tui.core.records import NnviewError
from tui.core.session import ModelSession
from tui.core.train_run import TrainOptions, effective_config
from tui.core.training import EpochRecord, StepRecord, TrainConfig, Trainer
from tui.messages import (
    TraceReady,
    TrainingBoundary,
    TrainingHealth,
    TrainingProgress,
    TrainingStopped,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.hyperparameters import HyperparameterScreen
from tui.screens.saving import SavingControls
from tui.widgets.training_panel import TrainingPanel

POST_EVERY = 0.1  # seconds between progress messages: the UI redraws at most 10 times a second
RETRACE_EVERY = 1.0  # seconds between live table updates
BOUNDARY_EVERY = 0.5  # seconds between decision-boundary redraws (at epoch ends only)


class TrainingControls(SavingControls):
    """Mixed into the explorer screen: owns the trainer and the training worker."""

    TRAINING_BINDINGS = [
        Binding("t", "train", "Train", tooltip="Start or pause training", id="train"),
        Binding("s", "step", "Step", tooltip="Train exactly one batch", id="train-step"),
        Binding("ctrl+s", "save", "Save", tooltip="Save a checkpoint (safetensors)", id="save"),
        Binding("ctrl+r", "reset_weights", "Reset", tooltip="Reset the weights (asks first)", show=False, id="reset"),
        Binding(
            "e",
            "edit_hyperparameters",
            "Hyper",
            tooltip="Edit optimizer, lr, batch size, epochs, loss",
            show=False,
            id="edit",
        ),
    ]

    session: ModelSession

    def init_training(self) -> None:
        self.trainer: Trainer | None = None
        self.training = False
        self.pause_requested = threading.Event()
        self.step_lock = threading.Lock()  # one thread touches the weights at a time
        self.saved_at_step = 0
        # A save asked for while a training worker runs waits for it to stop (then "" / "exit" / "reload"),
        # so a ctrl+s typed in the same burst as t or s is never dropped.
        self.pending_save: str | None = None
        self.pending_reload = False  # "reload without saving" asked while a step was still running
        # `s` pressed while a single step is still finishing (its live re-trace) runs next, never dropped.
        self.queued_steps = 0
        self.queued_train = False  # `t` pressed while a single step was finishing
        self.running_single = False  # whether the running worker trains one batch (s) or until paused (t)

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
            self.notify("Pause training (t) before resetting", severity="warning")  # type: ignore[attr-defined]
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.reset_worker()

        question = "Reset the weights to where training started?"
        if self.unsaved_steps > 0:
            question += f" {self.unsaved_steps} training steps are not saved (n, then ctrl+s saves them)."
        self.app.push_screen(ConfirmScreen(question), confirmed)  # type: ignore[attr-defined]

    def action_edit_hyperparameters(self) -> None:
        """Open the hyperparameter form; applying it pauses training and rebuilds the optimizer."""
        if self.trainer is None:
            self.notify("Start training (t or s) first: the form edits the running trainer", severity="warning")  # type: ignore[attr-defined]
            return
        self.pause_requested.set()
        trainer = self.trainer

        def applied(config: TrainConfig | None) -> None:
            if config is not None:
                with self.step_lock:
                    trainer.reconfigure(config)
                lr = config.lr if config.lr is not None else 0.01
                self.notify(f"{config.optimizer} lr {lr:g}, batch {config.batch_size}, {config.epochs} epochs")  # type: ignore[attr-defined]

        self.app.push_screen(HyperparameterScreen(trainer.config, trainer.loss_name), applied)  # type: ignore[attr-defined]

    # --- workers -----------------------------------------------------------------------------

    def _ensure_trainer(self) -> Trainer:
        if self.trainer is None:
            loaded = self.session.loaded
            assert loaded is not None
            options = TrainOptions(loaded.source, self.session.options.data, self.session.options.target_column)
            data = load_training_data(options.data, options.target_column, loaded.namespace, loaded.user_files)
            config = effective_config(options, loaded.namespace)
            self.trainer = Trainer(loaded.model, data, config, loaded.namespace, loaded.user_files)
        return self.trainer

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def train_worker(self, single: bool) -> None:
        """Step until paused, done or cancelled; post progress at most every POST_EVERY seconds."""
        worker = get_current_worker()
        try:
            trainer = self._ensure_trainer()
        except NnviewError as exc:
            self.post_message(TrainingStopped("error", exc.record))  # type: ignore[attr-defined]
            return
        started, first_step = time.monotonic(), trainer.step_count
        last_post = last_trace = last_boundary = 0.0
        pending: list[StepRecord] = []
        before = weights_snapshot(trainer.model)
        reason = "paused"
        while not worker.is_cancelled:
            if trainer.done:
                reason = "done"
                break
            try:
                with self.step_lock:
                    outcome = trainer.step()
            except NnviewError as exc:
                self.post_message(TrainingStopped("error", exc.record))  # type: ignore[attr-defined]
                return
            step, epoch = outcome if isinstance(outcome, tuple) else (outcome, None)
            pending.append(step)
            now = time.monotonic()
            final = single or self.pause_requested.is_set() or trainer.done
            if epoch is not None or final or now - last_post >= POST_EVERY:
                self._post_progress(trainer, pending, epoch, started, first_step)
                pending, last_post = [], now
            # Throttled at epoch ends too: a small model ends an epoch many times a second, and each
            # re-trace rebuilds the table on the UI thread, which holds the GIL the trainer needs.
            if final or now - last_trace >= RETRACE_EVERY:
                self._post_live_view(trainer, before)
                before, last_trace = weights_snapshot(trainer.model), time.monotonic()
            if (
                has_plane_inputs(trainer.data)
                and (epoch is not None or final)
                and now - last_boundary >= BOUNDARY_EVERY
            ):
                boundary = decision_boundary(trainer.model, trainer.data)
                self.post_message(TrainingBoundary(boundary, trainer.epoch))  # type: ignore[attr-defined]
                last_boundary = time.monotonic()
            if single or self.pause_requested.is_set():
                break
        self.post_message(TrainingStopped(reason))  # type: ignore[attr-defined]

    def _post_progress(
        self, trainer: Trainer, steps: list[StepRecord], epoch: EpochRecord | None, started: float, first: int
    ) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        lr = float(trainer.optimizer.param_groups[0]["lr"])
        rate = (trainer.step_count - first) / elapsed
        self.post_message(TrainingProgress(list(steps), epoch, rate, lr))  # type: ignore[attr-defined]

    def _post_live_view(self, trainer: Trainer, before: dict[str, object]) -> None:
        """Re-trace the explorer's batch with the training weights, and sample layer health."""
        try:
            result = self.session.retrace()
            sample = trainer.data.x_val[:256].to(trainer.device)
            health = layer_health(trainer.model, sample, before)  # type: ignore[arg-type]
        except NnviewError as exc:
            self.post_message(TrainingStopped("error", exc.record))  # type: ignore[attr-defined]
            return
        self.post_message(TraceReady(result, trainer.model, "training"))  # type: ignore[attr-defined]
        self.post_message(TrainingHealth(health))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def reset_worker(self) -> None:
        """Reset the weights and optimizer, then show the reset model."""
        assert self.trainer is not None
        with self.step_lock:
            self.trainer.reset_weights()
        self.saved_at_step = 0
        self.post_message(TrainingStopped("reset"))  # type: ignore[attr-defined]
        self._post_live_view(self.trainer, weights_snapshot(self.trainer.model))

    # --- messages ----------------------------------------------------------------------------

    def on_training_progress(self, message: TrainingProgress) -> None:
        panel = self.query_one("#training", TrainingPanel)  # type: ignore[attr-defined]
        panel.display = True
        trainer = self.trainer
        assert trainer is not None
        panel.add(message.steps, message.epoch, trainer.steps_per_epoch, final=not self.training or trainer.done)
        last = message.steps[-1] if message.steps else None
        text = Text()
        text.append("training " if self.training else "paused ", style="bold green" if self.training else "bold")
        text.append(
            f"  epoch {trainer.epoch + (0 if trainer.done else 1)}/{trainer.config.epochs}"
            f"  step {trainer.step_count}  {message.steps_per_second:.0f} steps/s  lr {message.lr:g}"
        )
        if last is not None:
            text.append(f"  loss {last.loss:.4f}")
        if panel.epochs:
            e = panel.epochs[-1]
            acc = f"  val acc {e.val_accuracy:.3f}" if e.val_accuracy is not None else ""
            text.append(f"  val loss {e.val_loss:.4f}{acc}")
        panel.show_status(text)

    def on_training_boundary(self, message: TrainingBoundary) -> None:
        self.query_one("#training", TrainingPanel).show_boundary(message.boundary, message.epoch)  # type: ignore[attr-defined]

    def on_training_health(self, message: TrainingHealth) -> None:
        self.query_one("#training", TrainingPanel).show_health(message.health)  # type: ignore[attr-defined]

    def on_training_stopped(self, message: TrainingStopped) -> None:
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
        panel = self.query_one("#training", TrainingPanel)  # type: ignore[attr-defined]
        if message.reason == "reset":
            panel.reset()
            panel.show_status(Text("weights reset: step 0", style="bold"))
        elif message.error is not None:
            panel.display = True
            panel.show_status(
                Text(f"training stopped: {message.error.message} — {message.error.hint}", style="bold red")
            )
            self.notify(message.error.message, severity="error")  # type: ignore[attr-defined]
        elif message.reason == "done":
            self.notify("Training finished")  # type: ignore[attr-defined]
        self.after_training_stopped()
