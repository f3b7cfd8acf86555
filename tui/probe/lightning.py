"""PyTorch Lightning adapter: ``Trainer(callbacks=[NnviewCallback("runs/digits")])`` writes a run folder.

Needs Lightning 2.2 or newer (``pip install -e ".[lightning]"``): the unified ``lightning`` package
(``lightning.pytorch``) when installed, else ``pytorch_lightning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from tui.core.probe.probe import Probe
from tui.core.probe.step_values import check_every

if TYPE_CHECKING:
    from pytorch_lightning import Callback, LightningModule, Trainer
else:
    try:
        from lightning.pytorch import Callback, LightningModule, Trainer
    except ImportError:
        try:
            from pytorch_lightning import Callback, LightningModule, Trainer
        except ImportError as error:
            raise ImportError(
                "tui.probe.lightning needs PyTorch Lightning, which is not installed: "
                'run `pip install -e ".[lightning]"` (or `pip install pytorch-lightning`).'
            ) from error


class NnviewCallback(Callback):
    """Probe a Lightning run: the loss, logged metrics and per-layer statistics of every rank.

    The probe starts in ``on_fit_start`` (after DDP is set up, so each rank writes its own ``rankN.jsonl``;
    the LightningModule itself is probed, so layer names carry no ``module.`` prefix) and takes a step in
    ``on_before_optimizer_step``: after backward, after AMP unscaling and *before* gradient clipping, so the
    per-layer gradient norms are the raw ones. The step's loss is the one ``training_step`` returned (the mean over
    the step's micro-batches under ``accumulate_grad_batches``); the numbers logged with ``self.log`` go with it
    as metrics. When ``nnview watch`` asks the run to stop, ``trainer.should_stop`` ends it at that step on
    every rank. The run folder is closed when fitting ends or fails.

    Args:
        run_dir: the run folder; ``None`` for ``runs/<script>-<time>``.
        every: steps between per-layer samples; ``None`` for the probe's default.
    """

    def __init__(self, run_dir: str | Path | None = None, *, every: int | None = None) -> None:
        super().__init__()
        check_every(every, "NnviewCallback")
        self.run_dir = run_dir
        self.every = every
        self.probe: Probe | None = None
        self._losses: list[torch.Tensor] = []

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Start the probe on this rank, now that the trainer knows its rank and DDP is up."""
        self._close()
        self._losses.clear()
        self.probe = Probe(
            pl_module,
            self.run_dir,
            every=self.every,
            rank=trainer.global_rank,
            world_size=trainer.world_size,
            framework="lightning",
            on_stop="flag",
        )

    def on_before_backward(self, trainer: Trainer, pl_module: LightningModule, loss: torch.Tensor) -> None:
        """Keep the loss about to be back-propagated (divided for accumulation, scaled under AMP)."""
        if self.probe is not None:
            self._losses.append(loss.detach())

    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Any) -> None:
        """One probe step: the gradients are there and not yet clipped; the logged numbers go with it."""
        if self.probe is None:
            return
        loss = self._step_loss(trainer)
        self.probe.step(loss, **logged_numbers(trainer.callback_metrics))
        if self.probe.stop_requested:
            trainer.should_stop = True

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        """Close the run folder."""
        self._close()

    def teardown(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Close the run folder (if ``on_fit_end`` did not: an interrupted fit)."""
        self._close()

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        """Record the failure in the run folder and close it."""
        self._close(exception)

    def _step_loss(self, trainer: Trainer) -> torch.Tensor | None:
        """The step's loss as ``training_step`` returned it, from the losses kept since the last step."""
        if not self._losses:
            return None  # training_step returned None: Lightning skipped backward
        # Lightning divides each micro-batch's loss by accumulate_grad_batches, so their sum is the mean.
        total = torch.stack(self._losses).sum() if len(self._losses) > 1 else self._losses[0]
        self._losses.clear()
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        if scaler is not None and scaler.is_enabled():  # AMP scaled it before on_before_backward
            # The scale as a device tensor when GradScaler has one: get_scale() would wait for the device.
            scale = getattr(scaler, "_scale", None)
            total = (total / scale).reshape(()) if isinstance(scale, torch.Tensor) else total / scaler.get_scale()
        return total

    def _close(self, error: BaseException | None = None) -> None:
        """Close the probe once; with ``error``, the run folder records it first."""
        probe, self.probe = self.probe, None
        if probe is None:
            return
        if error is None:
            probe.close()
        else:
            probe.__exit__(type(error), error, error.__traceback__)


def logged_numbers(metrics: Mapping[str, Any]) -> dict[str, float | torch.Tensor]:
    """The one-number values of Lightning's ``callback_metrics``, tensors left on their device.

    The probe reads them with the loss, in its one host copy per flush, so a step costs no synchronisation;
    each is a copy, since Lightning may update its own tensors in place later.
    """
    numbers: dict[str, float | torch.Tensor] = {}
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            numbers[name] = value.detach().reshape(()).clone()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers[name] = float(value)
    return numbers
