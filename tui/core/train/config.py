"""The hyperparameters of a training run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters.

    ``optimizer=None`` and ``lr=None`` use the file's ``optimizer(params)`` when it has one, else
    Adam at 0.01 (the seed's); ``loss=None`` uses the file's ``loss``, else infers one from the data
    (integer labels -> cross-entropy on raw logits, float targets -> MSE). ``threads=None`` runs
    small steps (under SMALL_STEP_MACS) on one CPU thread and leaves torch's default otherwise.
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float | None = None
    optimizer: str | None = None
    loss: str | None = None
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None
