"""Headless training, as ``nnview train`` runs it: options -> model, data, trainer, checkpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tui.core.load.checkpoints import read_checkpoint, save_checkpoint
from tui.core.load.datasets import TrainingData, load_training_data
from tui.core.load.model_file import LoadedModel, load_model
from tui.core.load.save_path import SaveFailed, check_save_path, check_save_space, save_rescue
from tui.core.load.validate import check_hyperparameters
from tui.core.records import ErrorRecord, NnviewError
from tui.core.train.loop import TrainingUpdate, training_updates
from tui.core.train.records import EpochRecord
from tui.core.train.trainer import TrainConfig, Trainer

if TYPE_CHECKING:
    from tui.core.probe.probe import Probe
    from tui.core.train.distributed import Ranks

T = TypeVar("T")


@dataclass(frozen=True)
class TrainOptions:
    """What ``nnview train`` was asked: the model, the data and the overrides of the file's defaults."""

    model_ref: str
    data: str | None = None
    target_column: str | None = None
    config: TrainConfig = field(default_factory=TrainConfig)
    explicit: tuple[str, ...] = ()  # the config fields the user set on the command line
    weights: str | None = None
    save: str | None = None


def effective_config(options: TrainOptions, namespace: dict[str, Any]) -> TrainConfig:
    """The file's ``hyperparameters`` dict fills every field the command line did not set.

    Raises:
        NnviewError: kind ``input`` when the dict has an unknown key or a value nnview cannot use
            (``batch_size: 0``, ``lr: "0.01"``, ``epochs: 2.5``, ``optimizer: "sgdd"``).
    """
    config = options.config
    if "hyperparameters" in namespace:
        known = tuple(asdict(config))
        defaults = check_hyperparameters(namespace["hyperparameters"], known, options.model_ref, options.explicit)
        fields = {k: v for k, v in defaults.items() if k not in options.explicit}
        config = replace(config, **fields)
    return config


@dataclass
class TrainingSession:
    """A loaded model, its data and a trainer, ready to step."""

    loaded: LoadedModel
    data: TrainingData
    trainer: Trainer
    config: TrainConfig
    notes: tuple[str, ...] = ()  # warnings about --weights (a stale or damaged sidecar) to show the user
    probe: Probe | None = None  # writing the run folder for ``nnview watch`` (``--run-dir``, torchrun)


def build_trainer(loaded: LoadedModel, options: TrainOptions) -> TrainingSession:
    """The data, the settings (the file's ``hyperparameters`` under the overrides) and a checked trainer.

    ``nnview train`` and the explorer both build their trainer here.

    Raises:
        NnviewError: data that cannot be read or does not fit the model, or refused settings.
    """
    data = load_training_data(options.data, options.target_column, loaded.namespace, loaded.user_files)
    config = effective_config(options, loaded.namespace)
    trainer = Trainer(loaded.model, data, config, loaded.namespace, loaded.user_files)
    return TrainingSession(loaded, data, trainer, config)


def open_training(options: TrainOptions) -> TrainingSession:
    """Load the model (and ``--weights``), resolve the data and check that it fits, before any step.

    Raises:
        NnviewError: any user mistake (bad file, data that does not fit, refused weights).
    """
    loaded = load_model(options.model_ref)
    notes: tuple[str, ...] = ()
    if options.weights:
        notes = read_checkpoint(options.weights, loaded.model).notes
    return replace(build_trainer(loaded, options), notes=notes)


def open_checked(
    options: TrainOptions,
    force: bool,
    ranks: Ranks | None = None,
    run_dir: str | None = None,
    viewer_stop: Callable[[], None] = lambda: None,
) -> TrainingSession:
    """Check ``options.save`` (on rank 0 only), :func:`open_training`, and put the probe on if ``run_dir``.

    Under torchrun the ranks agree on the outcome before DDP's first broadcast, so one rank's
    failure ends every rank with its message instead of leaving them waiting; then the trainer is
    attached to the ranks (its share of the data, DDP).

    Args:
        options: what to train, and ``--save``.
        force: ``--force``: an existing ``--save`` file may be replaced.
        ranks: this rank under torchrun, else ``None``.
        run_dir: write a run folder here for ``nnview watch``.
        viewer_stop: called when ``nnview watch`` asks the run to stop.

    Raises:
        NnviewError: a refused ``--save`` path, any :func:`open_training` error or a run folder that
            cannot be written (under torchrun, naming the rank that failed).
    """
    from tui.core.train.watched import attach_probe

    main = ranks is None or ranks.is_main

    def load() -> TrainingSession:
        if options.save is not None and main:  # refuse a path that cannot be written before any work
            check_save_path(options.save, force=force)
        session = open_training(options)
        if options.save and main:
            check_save_space(options.save, session.trainer.model)
        return session

    session = on_every_rank(ranks, load)
    if run_dir:
        probe = on_every_rank(ranks, lambda: attach_probe(session.trainer, run_dir, viewer_stop), lambda p: p.close())
        session.probe = probe
    if ranks is not None:
        ranks.attach(session.trainer)
    return session


def on_every_rank(ranks: Ranks | None, action: Callable[[], T], undo: Callable[[T], None] | None = None) -> T:
    """``action()``; under torchrun, every rank raises if it raised a user error on any (then ``undo`` its result).

    Raises:
        NnviewError: the error ``action`` raised here or, under torchrun, on the first rank where it did.
    """
    if ranks is None:
        return action()
    failure: NnviewError | None = None
    try:
        result = action()
    except NnviewError as exc:
        failure = exc
    try:
        ranks.agree(failure.record if failure else None)
    except NnviewError as agreed:
        if failure is None and undo is not None:
            undo(result)
        raise agreed from failure
    return result


def train(session: TrainingSession, save: str | None, pause: threading.Event | None = None) -> Iterator[TrainingUpdate]:
    """Walk the one training loop to the end, then save the checkpoint (weights + settings + metrics) if asked.

    Stops after an update with an error (nothing is saved), or when ``pause`` is set (nothing is saved:
    training did not finish).
    """
    last: EpochRecord | None = None
    try:
        for update in training_updates(session.trainer, pause=pause):
            last = update.epoch_record or last
            yield update
            if not update.done and update.final:
                return
    finally:
        session.trainer.close()  # the thread count the trainer chose is for its steps only
    if save:
        info: dict[str, Any] = {"hyperparameters": asdict(session.config), "metrics": asdict(last) if last else {}}
        info["model"] = session.loaded.source
        info["data"] = session.data.source
        save_or_rescue(save, session, info)


def save_or_rescue(save: str, session: TrainingSession, info: dict[str, Any]) -> None:
    """Save to ``save``; if that fails now (disk full, folder gone), save to a rescue path instead.

    Raises:
        SaveFailed: the checkpoint is not at ``save``; ``rescued`` says where it went (``None``: nowhere).
    """
    model = session.trainer.model
    try:
        save_checkpoint(save, model, info)
        return
    except NnviewError as exc:
        failure = exc.record.message
    name = Path(session.loaded.source.split(":")[0]).stem
    try:
        rescued: Path | None = save_rescue(model, info, name)
    except NnviewError as exc:
        rescued, failure = None, f"{failure}; {exc.record.message}"
    where = f"the trained weights were saved to {rescued} instead" if rescued else "the trained weights are lost"
    hint = f"move {rescued} where you want it" if rescued else "free some disk space and train again"
    raise SaveFailed(ErrorRecord(kind="save", message=f"{failure}. {where}", hint=hint), rescued)
