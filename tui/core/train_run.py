"""Headless training, as ``nnview train`` runs it: options -> model, data, trainer, checkpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tui.core.checkpoints import load_checkpoint, save_checkpoint
from tui.core.datasets import TrainingData, load_training_data
from tui.core.loading import LoadedModel, load_model
from tui.core.training import EpochRecord, StepRecord, TrainConfig, Trainer


@dataclass(frozen=True)
class TrainOptions:
    """What ``nnview train`` was asked: the model, the data and the overrides of the file's defaults."""

    target: str
    data: str | None = None
    target_column: str | None = None
    config: TrainConfig = field(default_factory=TrainConfig)
    explicit: tuple[str, ...] = ()  # the config fields the user set on the command line
    weights: str | None = None
    save: str | None = None


def effective_config(options: TrainOptions, namespace: dict[str, Any]) -> TrainConfig:
    """The file's ``hyperparameters`` dict fills every field the command line did not set."""
    defaults = namespace.get("hyperparameters")
    config = options.config
    if isinstance(defaults, dict):
        fields = {k: v for k, v in defaults.items() if k in asdict(config) and k not in options.explicit}
        config = replace(config, **fields)
    return config


@dataclass
class TrainingSession:
    """A loaded model, its data and a trainer, ready to step."""

    loaded: LoadedModel
    data: TrainingData
    trainer: Trainer
    config: TrainConfig


def open_training(options: TrainOptions) -> TrainingSession:
    """Load the model (and ``--weights``), resolve the data and check that it fits, before any step.

    Raises:
        NnviewError: any user mistake (bad file, data that does not fit, refused weights).
    """
    loaded = load_model(options.target)
    if options.weights:
        load_checkpoint(options.weights, loaded.model)
    data = load_training_data(options.data, options.target_column, loaded.namespace, loaded.user_files)
    config = effective_config(options, loaded.namespace)
    trainer = Trainer(loaded.model, data, config, loaded.namespace, loaded.user_files)
    return TrainingSession(loaded, data, trainer, config)


def train(session: TrainingSession, save: str | None) -> Iterator[StepRecord | EpochRecord]:
    """Run every epoch, then save the checkpoint (weights + hyperparameters + last metrics) if asked."""
    last: EpochRecord | None = None
    for event in session.trainer.run():
        if isinstance(event, EpochRecord):
            last = event
        yield event
    if save:
        info: dict[str, Any] = {"hyperparameters": asdict(session.config), "metrics": asdict(last) if last else {}}
        info["model"] = session.loaded.source
        info["data"] = session.data.source
        save_checkpoint(save, session.trainer.model, info)
