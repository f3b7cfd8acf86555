"""Hugging Face adapter: ``Trainer(..., callbacks=[NnviewCallback("runs/bert")])`` writes a run folder.

Needs ``transformers`` 4.45 or newer and ``accelerate`` (``pip install -e ".[hf]"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tui.core.probe.probe import Probe
from tui.core.probe.step_values import check_every

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
except ImportError as error:
    raise ImportError(
        "tui.probe.hf needs Hugging Face transformers, which is not installed: "
        'run `pip install -e ".[hf]"` (or `pip install transformers accelerate`).'
    ) from error
if not hasattr(TrainerCallback, "on_pre_optimizer_step"):
    raise ImportError(
        "tui.probe.hf needs transformers 4.45 or newer (its Trainer calls on_pre_optimizer_step): "
        'run `pip install -U "transformers>=4.45"`.'
    )


class NnviewCallback(TrainerCallback):
    """Probe a Hugging Face Trainer run: loss, the Trainer's logs and per-layer statistics of every rank.

    Two gradient norms, on purpose:

    - ``"layers"`` lines (the probe's per-layer ``grad_norm`` and their total) are taken in
      ``on_pre_optimizer_step``, which the Trainer calls *after* clipping to ``max_grad_norm``: they are the
      clipped gradients the optimizer uses (with the default ``max_grad_norm=1.0`` their total is at most 1).
    - ``"log"`` lines hold the Trainer's own logs from ``on_log``: ``grad_norm`` there is the total norm
      *before* clipping, ``loss`` the mean over ``logging_steps`` steps and all ranks, and ``learning_rate``.

    The ``"step"`` lines' loss is this rank's loss of that step as the Trainer counts it (what its logged ``loss``
    averages), read from the model's own ``loss`` output; it is ``null`` when the model returns none (a custom
    ``compute_loss_func`` or label smoothing). When ``nnview watch`` asks the run to stop, training ends at that
    step on every rank. The run folder is closed in ``on_train_end`` (the Trainer has no hook for a failure: then
    the probe closes it when the process exits).

    Args:
        run_dir: the run folder; ``None`` for ``runs/<script>-<time>``.
        every: steps between per-layer samples; ``None`` for the probe's default.
    """

    def __init__(self, run_dir: str | Path | None = None, *, every: int | None = None) -> None:
        check_every(every, "NnviewCallback")
        self.run_dir = run_dir
        self.every = every
        self.probe: Probe | None = None
        self._losses: list[torch.Tensor] = []
        self._normalised_over_step = False
        self._hook: torch.utils.hooks.RemovableHandle | None = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Start the probe on this rank and listen for the model's loss."""
        model = kwargs.get("model")
        if not isinstance(model, nn.Module):
            raise TypeError(f"NnviewCallback needs the Trainer's model (a torch.nn.Module), got {type(model).__name__}")
        self._close()
        self.probe = Probe(
            model,
            self.run_dir,
            every=self.every,
            rank=args.process_index,
            world_size=args.world_size,
            framework="hf",
            on_stop="flag",
        )
        self._losses.clear()
        self._hook = model.register_forward_hook(self._keep_loss, with_kwargs=True)

    def on_pre_optimizer_step(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """One probe step: the gradients are there (already clipped)."""
        if self.probe is None:
            return
        self.probe.step(self._step_loss(args))
        if self.probe.stop_requested:
            control.should_training_stop = True

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """The Trainer's own numbers (pre-clip ``grad_norm``, ``loss``, ``learning_rate``...) as a "log" line."""
        if self.probe is None or not logs:
            return
        values = {
            name: float(value)
            for name, value in logs.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        if values:
            self.probe.log(values)

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Close the run folder and stop listening to the model."""
        self._close()

    def _keep_loss(self, module: nn.Module, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        """Keep the loss of a training forward pass (evaluation passes run in eval mode and are left out)."""
        if self.probe is None or not module.training or not isinstance(output, Mapping):
            return
        loss = output.get("loss")
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            self._losses.append(loss.detach().reshape(()))
            # With num_items_in_batch the model divides by the item count of the whole step (not the micro-batch).
            self._normalised_over_step = kwargs.get("num_items_in_batch") is not None

    def _step_loss(self, args: TrainingArguments) -> torch.Tensor | None:
        """The step's loss, combined from its micro-batches the way the Trainer adds up its logged loss."""
        losses, self._losses = self._losses, []
        if not losses:
            return None
        total = torch.stack(losses).sum()
        if not self._normalised_over_step:
            return total / len(losses)  # the Trainer divides each micro-batch's mean by the accumulation steps
        if getattr(args, "average_tokens_across_devices", False) and args.world_size > 1:
            total = total * args.world_size  # the item count was summed over ranks; the Trainer scales back
        return total

    def _close(self) -> None:
        """Remove the loss hook and close the probe, once."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        probe, self.probe = self.probe, None
        if probe is not None:
            probe.close()
