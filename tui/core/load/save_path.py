"""Where a checkpoint may go: ``--save`` checked before the first step, and a rescue when saving fails.

Refused up front (``NnviewError`` kind ``save``): a name that is not ``.safetensors``, a folder, a system
path (/proc, /sys, /dev), an existing file without ``force``, a sidecar name held by a file nnview did not
write, and a folder that cannot be made or written (probed by really creating and removing a temporary).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from tui.core.load.checkpoints import (
    is_nnview_sidecar,
    remove_stale_temporaries,
    save_checkpoint,
    sidecar,
    temporary_beside,
)
from tui.core.records import ErrorRecord, NnviewError

SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


class SaveFailed(NnviewError):
    """Training finished but the checkpoint could not go where it was asked; ``rescued`` is where it went."""

    def __init__(self, record: ErrorRecord, rescued: Path | None) -> None:
        super().__init__(record)
        self.rescued = rescued


def _refuse(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="save", message=message, hint=hint))


def check_save_path(path: str | Path, *, force: bool = False) -> Path:
    """Check a ``--save`` path before any work; returns it as a ``Path``.

    Raises:
        NnviewError: kind ``save``, naming what is wrong with the path and what to do instead.
    """
    target = Path(path)
    shown = str(path)
    if not shown.strip():
        raise _refuse("--save was given an empty path", "name a file: --save model.safetensors")
    real = Path(os.path.realpath(target))
    system = next((f for f in SYSTEM_FOLDERS if real == f or f in real.parents), None)
    if Path("/dev/shm") in (real, *real.parents):  # a plain memory-backed folder, fine for files
        system = None
    if system is not None:
        raise _refuse(f"--save {shown} is under {system}, a system folder, not a place for files", _ELSEWHERE)
    if target.is_dir():
        raise _refuse(f"--save {shown} is a folder", f"name a file inside it: --save {target / 'model.safetensors'}")
    if target.suffix != ".safetensors" or target.name == ".safetensors":
        better = (target.with_suffix(".safetensors") if target.suffix else Path(shown + ".safetensors")).name
        raise _refuse(
            f"--save {shown}: a checkpoint must be a .safetensors file",
            f"name it like --save {better} (nnview writes {better}.json beside it)",
        )
    if target.exists() or target.is_symlink():
        if not target.is_file():
            raise _refuse(f"--save {shown} exists and is not a regular file", "choose another name")
        if not force:
            raise _refuse(f"--save {shown} already exists", "pass --force to replace it, or choose another name")
    side = sidecar(target)
    if side.exists() or side.is_symlink():
        if not is_nnview_sidecar(side) or side.is_symlink():
            raise _refuse(
                f"--save {shown} would replace {side}, which nnview did not write",
                "move that file away, or choose another --save name",
            )
        if not force:
            raise _refuse(f"{side} (from an earlier save) already exists", "pass --force to replace it")
    probe_folder(target.parent, f"--save {shown}")
    return target


_ELSEWHERE = "save under your project or home folder, e.g. --save checkpoints/model.safetensors"


def probe_folder(folder: Path, flag: str, suffix: str = ".safetensors", elsewhere: str = _ELSEWHERE) -> None:
    """Make ``folder`` (as the write will) and write a temporary in it; undo both. Refuse if either fails.

    ``flag`` is the option as the user typed it (``--save PATH``, ``--onnx PATH``); ``suffix`` names the
    temporary as the real file would be named; ``elsewhere`` is the hint.
    """
    missing: list[Path] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise _refuse(f"{flag}: {probe} is a file, so the folder {folder} cannot be made", elsewhere)
    try:
        for made in reversed(missing):
            made.mkdir()
        remove_stale_temporaries(folder)
        temporary_beside(folder / f"probe{suffix}").unlink()
    except OSError as exc:
        raise _refuse(f"{flag}: cannot write in {folder}: {exc.strerror or exc}", elsewhere) from exc
    finally:
        for made in missing:
            try:
                made.rmdir()
            except OSError:
                pass


def check_save_space(path: str | Path, model: nn.Module) -> None:
    """Refuse before training when the disk under ``path`` cannot hold the weights (plus 1 MiB)."""
    need = sum(t.numel() * t.element_size() for t in {id(t): t for t in model.state_dict().values()}.values())
    folder = Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < need + (1 << 20):
        raise _refuse(
            f"--save {path}: the weights need {need / 2**20:.1f} MiB but only {free / 2**20:.1f} MiB is free there",
            "free some space or choose another folder",
        )


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "model"


def save_rescue(model: nn.Module, info: dict[str, Any], name: str, folders: Sequence[Path] | None = None) -> Path:
    """Save to the first folder that takes it (default: the current folder, then the temp dir).

    The file is ``nnview-rescue-<name>-<YYYYmmdd-HHMMSS>.safetensors`` (with ``-2``, ``-3`` … when taken).

    Raises:
        NnviewError: kind ``save`` when no folder would take it; the message names each reason.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stem = f"nnview-rescue-{_safe_name(name)}-{stamp}"
    reasons: list[str] = []
    for folder in folders or (Path.cwd(), Path(tempfile.gettempdir())):
        path, counter = folder / f"{stem}.safetensors", 1
        while path.exists() or sidecar(path).exists():
            counter += 1
            path = folder / f"{stem}-{counter}.safetensors"
        try:
            return save_checkpoint(path, model, info)
        except NnviewError as exc:
            reasons.append(exc.record.message)
        except OSError as exc:
            reasons.append(f"{folder}: {exc.strerror or exc}")
    raise _refuse(f"the weights could not be saved anywhere: {'; '.join(reasons)}", "free some disk space")
