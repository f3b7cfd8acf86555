"""``TensorBoardLog``: training's numbers as TensorBoard event files (``torch.utils.tensorboard.SummaryWriter``).

Tags (TensorBoard groups cards by the part before the first ``/``; ``nnview watch`` plots a group together):

    loss/train, loss/val, accuracy/train, accuracy/val   per epoch (x: the epoch, from 1)
    learning_rate                                        per epoch (x: the epoch)
    layers/grad_norm/<layer>, layers/update_ratio/<layer> per sample (x: the step the caller gives)

A missing number (``None``) is left out; NaN and infinities are written as they are (TensorBoard shows them).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from tui.core.error_records import ErrorRecord, NnviewError
from tui.core.runs.layout import decode_number
from tui.core.tensorboard.package import missing_tensorboard

FLUSH_SECS = 2  # the writer's thread puts events on disk at least this often: a watcher sees them soon
LAYER_FIGURES = ("grad_norm", "update_ratio")
MODEL = "(model)"  # the tag part for the root module, whose name is ""
WHOLE = "(all layers)"  # the tag part for the whole model's gradient norm (a model that is one leaf is "(model)")


class EpochLike(Protocol):
    """An epoch's figures (``tui.core.train.records.EpochRecord`` is one)."""

    @property
    def epoch(self) -> int: ...
    @property
    def train_loss(self) -> float: ...
    @property
    def val_loss(self) -> float: ...
    @property
    def train_accuracy(self) -> float | None: ...
    @property
    def val_accuracy(self) -> float | None: ...


class UpdateLike(Protocol):
    """A training update (``tui.core.train.loop.TrainingUpdate`` is one): the epochs it ended, the rate."""

    @property
    def epoch_records(self) -> tuple[EpochLike, ...]: ...
    @property
    def lr(self) -> float: ...


class LayerLike(Protocol):
    """One layer's health (``tui.core.train.health.LayerHealth`` is one)."""

    @property
    def layer(self) -> str: ...
    @property
    def grad_norm(self) -> float | None: ...
    @property
    def update_ratio(self) -> float | None: ...


def _refuse(kind: str, message: str) -> NnviewError:
    hint = "give a folder for the event files (it is made if missing), e.g. runs/tb; TensorBoard reads it"
    return NnviewError(ErrorRecord(kind=kind, message=message, hint=hint))


def check_log_dir(path: str | Path) -> Path:
    """``path`` as a folder to write event files into, made if missing; call it before any work starts.

    Raises:
        NnviewError: kind ``input`` when ``path`` is a file (or under one); kind ``save`` when the folder
            cannot be made or written to.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise _refuse("input", f"the TensorBoard log folder {folder} is a file, not a folder")
    blocking = next((parent for parent in folder.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise _refuse("input", f"the TensorBoard log folder {folder} cannot be made: {blocking} is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse("save", f"could not make the TensorBoard log folder {folder}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse("save", f"the TensorBoard log folder {folder} is not writable")
    return folder


def check_tensorboard_installed(what: str) -> None:
    """Refuse ``what`` now if the ``tensorboard`` package is missing (found without importing it).

    Raises:
        NnviewError: naming the package and the extra to install.
    """
    if importlib.util.find_spec("tensorboard") is None:
        raise missing_tensorboard(what, ImportError("No module named 'tensorboard'"))


def _layer_figures(row: Mapping[str, Any] | LayerLike) -> tuple[str, dict[str, Any]]:
    """A layer's name and its figures, from a probe ``layers`` row (a dict) or a ``LayerHealth``."""
    if isinstance(row, Mapping):
        return str(row.get("name") or ""), {figure: row.get(figure) for figure in LAYER_FIGURES}
    return row.layer, {"grad_norm": row.grad_norm, "update_ratio": row.update_ratio}


class TensorBoardLog:
    """One TensorBoard run: an event file in ``log_dir`` (a new one each time; none is written over).

    Args:
        log_dir: the run's folder (made if missing); point ``tensorboard --logdir`` at it or its parent.
        flush_secs: the most seconds an event waits before it reaches the disk.

    Raises:
        NnviewError: the folder is refused (:func:`check_log_dir`), or the ``tensorboard`` package is missing.
    """

    def __init__(self, log_dir: str | Path, *, flush_secs: int = FLUSH_SECS) -> None:
        self.log_dir = check_log_dir(log_dir)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise missing_tensorboard("writing TensorBoard logs", exc) from exc
        self._writer = SummaryWriter(str(self.log_dir), flush_secs=flush_secs)
        self.closed = False
        self.written = 0  # scalars written, for a caller's summary line

    def scalar(self, tag: str, value: Any, step: int, wall_time: float | None = None) -> bool:
        """Write one number (a JSON-line string ``"nan"`` counts); whether it was one and was written."""
        number = decode_number(value)
        if number is None or self.closed:
            return False
        self._writer.add_scalar(tag, number, step, walltime=wall_time)
        self.written += 1
        return True

    def epoch(self, record: EpochLike, lr: float | None = None) -> None:
        """An epoch's train and validation loss and accuracy, and the learning rate, at x = the epoch."""
        step = record.epoch
        self.scalar("loss/train", record.train_loss, step)
        self.scalar("loss/val", record.val_loss, step)
        self.scalar("accuracy/train", record.train_accuracy, step)
        self.scalar("accuracy/val", record.val_accuracy, step)
        self.scalar("learning_rate", lr, step)
        self._writer.flush()  # epochs are the run's milestones: on disk now, for a watcher

    def update(self, update: UpdateLike) -> None:
        """Every epoch a training update ended (none for most updates), with the update's learning rate."""
        for record in update.epoch_records:
            self.epoch(record, update.lr)

    def layers(self, step: int, rows: Iterable[Mapping[str, Any] | LayerLike], wall_time: float | None = None) -> int:
        """Each layer's gradient norm and update ratio at ``step``; returns how many numbers were written.

        Args:
            step: the x of the sample (the optimizer step it was taken at).
            rows: probe ``layers`` rows (dicts with ``name``) or ``LayerHealth`` records.
            wall_time: when it was sampled (unix seconds); now if left out.
        """
        written = 0
        for row in rows:
            name, figures = _layer_figures(row)
            for figure, value in figures.items():
                written += self.scalar(f"layers/{figure}/{name or MODEL}", value, step, wall_time)
        return written

    def flush(self) -> None:
        """Put every event written so far on disk."""
        if not self.closed:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file; safe to call twice."""
        if not self.closed:
            self.closed = True
            self._writer.close()

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        self.close()
