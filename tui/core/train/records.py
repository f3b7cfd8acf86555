"""What training reports: one step, one epoch, and what one call of ``Trainer.step`` did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepRecord:
    """One optimizer step: its loss and (for classification) the batch accuracy."""

    step: int
    epoch: int
    loss: float
    accuracy: float | None


@dataclass(frozen=True)
class EpochRecord:
    """The end of an epoch: mean training loss and accuracy, and the validation figures."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float
    train_accuracy: float | None
    val_accuracy: float | None


@dataclass(frozen=True)
class StepOutcome:
    """What one :meth:`Trainer.step` did: its step record, and the epoch record when it ended an epoch."""

    step: StepRecord
    epoch: EpochRecord | None = None
