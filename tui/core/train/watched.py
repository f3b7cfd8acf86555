"""``nnview train`` writing a run folder for ``nnview watch``: the probe on the trainer's hook point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from tui.core.probe.probe import Probe
from tui.core.probe.run_files import default_run_dir
from tui.core.records import ErrorRecord, NnviewError
from tui.core.runs.layout import DEFAULT_ROOT, is_run_folder
from tui.core.train.trainer import Trainer


def run_folder_name(model_ref: str, root: str = DEFAULT_ROOT, now: float | None = None) -> str:
    """``runs/<model stem>-<YYYYmmdd-HHMMSS>``, the probe's naming after the model file rather than the script
    (``sys.argv[0]`` is ``__main__`` under ``-m tui``). Under torchrun rank 0 picks the name and shares it."""
    return str(default_run_dir(root, now, Path(model_ref.split(":")[0]).stem or "model"))


def check_run_dir(run_dir: str) -> None:
    """Refuse a ``--run-dir`` that is a file, or a folder holding files that are not a run's, before any work.

    A new or empty folder is fine; so is an earlier run's folder (each rank appends to its file).

    Raises:
        NnviewError: kind ``input`` naming the folder and what to pass instead.
    """
    path = Path(run_dir)
    problem = None
    if path.exists() and not path.is_dir():
        problem = "is a file, not a folder"
    elif path.is_dir() and any(path.iterdir()) and not is_run_folder(path):
        problem = "holds files that are not a run's (nnview writes run.json and rank files there)"
    if problem is not None:
        raise NnviewError(
            ErrorRecord(kind="input", message=f"--run-dir {run_dir} {problem}", hint="name a new folder for the run")
        )


def attach_probe(trainer: Trainer, run_dir: str, stop: Callable[[], None]) -> Probe:
    """A probe on ``trainer``'s model, stepped after each backward; a stop asked from the viewer calls ``stop``.

    The probe only flags the viewer's stop (``on_stop="flag"``): the trainer stops at the next step
    boundary as it does for Ctrl+C, every rank at the same step, and the trained steps are kept.
    """
    try:
        probe = Probe(trainer.model, run_dir, framework="nnview", on_stop="flag")
    except OSError as exc:
        message = f"cannot write the run folder {run_dir}: {exc.strerror or exc}"
        raise NnviewError(ErrorRecord(kind="input", message=message, hint="name a folder you can write to")) from exc

    def after_backward(loss: torch.Tensor, accuracy: float | None) -> None:
        if accuracy is None:
            probe.step(loss)
        else:
            probe.step(loss, accuracy=accuracy)
        if probe.stop_requested:
            stop()

    trainer.after_backward = after_backward
    return probe
