"""nnview's own training as TensorBoard event files: every epoch's figures and, at most once a second, the
layers' gradient norms and update ratios (``nnview train --log-dir``, the explorer's ``--log-dir``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from tui.core.tensorboard.writer import TensorBoardLog
from tui.core.train.health import LayerHealth, layer_health, weights_snapshot
from tui.core.train.loop import TrainingUpdate
from tui.core.train.trainer import Trainer

LAYERS_EVERY = 1.0  # seconds between layer samples (each traces a validation batch)
HEALTH_SAMPLES = 256  # validation samples a layer sample is measured on


class TrainingLog:
    """The event files of one training run.

    Made before any work (a refused folder, or no ``tensorboard`` package, is a clear error then);
    :meth:`attach` gives it the trainer once it is built.

    Raises:
        NnviewError: the folder is refused, or the ``tensorboard`` package is missing.
    """

    def __init__(self, log_dir: str | Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = TensorBoardLog(log_dir)
        self.clock = clock
        self.trainer: Trainer | None = None
        self._before: dict[str, torch.Tensor] = {}
        self._at = 0
        self._last = 0.0

    def attach(self, trainer: Trainer) -> None:
        """Measure this trainer's model from here on."""
        self.trainer = trainer
        self._before = weights_snapshot(trainer.model)
        self._at, self._last = trainer.step_count, self.clock()

    def update(self, update: TrainingUpdate) -> None:
        """Write the epochs that ended in ``update``; sample the layers if a second has passed (or it is the last)."""
        self.log.update(update)
        if self.trainer is not None and (update.final or self.clock() - self._last >= LAYERS_EVERY):
            self._sample_layers(self.trainer, update.step)

    def layers(self, step: int, rows: Iterable[LayerHealth]) -> None:
        """Write layer health measured elsewhere (the explorer's live view)."""
        self.log.layers(step, rows)

    def _sample_layers(self, trainer: Trainer, step: int) -> None:
        x = trainer.data.x_val[:HEALTH_SAMPLES].to(trainer.device)
        with trainer.guest():
            health = layer_health(trainer.model, x, self._before, max(1, step - self._at))
        self.log.layers(step, health)
        self._before = weights_snapshot(trainer.model)
        self._at, self._last = step, self.clock()

    def close(self) -> None:
        """Write what is pending and close the event file."""
        self.log.close()


def logged(updates: Iterable[TrainingUpdate], log: TrainingLog | None) -> Iterator[TrainingUpdate]:
    """``updates``, each written to ``log`` (when there is one) before it is passed on."""
    for update in updates:
        if log is not None:
            log.update(update)
        yield update
