"""Where an ONNX file may go, checked before any work, and writing it without ever replacing a file unasked.

The rules are ``--save``'s (:mod:`tui.core.load.save_path`): no system folder, no folder as a name, the
right suffix, an existing file only with ``force``, a folder that can really be written. The file is
written through a temporary beside it, fsynced, then linked into place (never over a file that appeared
meanwhile) or, with ``force``, renamed over the old one.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.core.load.checkpoints import temporary_beside
from tui.core.load.save_path import SYSTEM_FOLDERS, probe_folder
from tui.core.records import ErrorRecord, NnviewError

_FULL = "free some space or choose another folder"
_ELSEWHERE = "write under your project or home folder, e.g. --onnx exports/model.onnx"


def _refuse(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="save", message=message, hint=hint))


def check_onnx_path(path: str | Path, *, force: bool = False) -> Path:
    """Check an ``--onnx`` path before the model is loaded; returns it as a ``Path``.

    Raises:
        NnviewError: kind ``save``, naming what is wrong with the path and what to do instead.
    """
    target, shown = Path(path), str(path)
    if not shown.strip():
        raise _refuse("--onnx was given an empty path", "name a file: --onnx model.onnx")
    real = Path(os.path.realpath(target))
    system = next((f for f in SYSTEM_FOLDERS if real == f or f in real.parents), None)
    if system is not None and Path("/dev/shm") not in (real, *real.parents):
        raise _refuse(f"--onnx {shown} is under {system}, a system folder, not a place for files", _ELSEWHERE)
    if target.is_dir():
        raise _refuse(f"--onnx {shown} is a folder", f"name a file inside it: --onnx {target / 'model.onnx'}")
    if target.suffix != ".onnx" or target.name == ".onnx":
        better = (target.with_suffix(".onnx") if target.suffix else Path(shown + ".onnx")).name
        raise _refuse(f"--onnx {shown}: an ONNX file must end in .onnx", f"name it like --onnx {better}")
    if target.exists() or target.is_symlink():
        if not target.is_file():
            raise _refuse(f"--onnx {shown} exists and is not a regular file", "choose another name")
        if not force:
            raise _refuse(f"--onnx {shown} already exists", "pass --force to replace it, or choose another name")
    probe_folder(target.parent, f"--onnx {shown}", ".onnx", _ELSEWHERE)
    return target


def free_name_beside(model_file: Path) -> Path:
    """``<stem>.onnx`` beside ``model_file``, or ``<stem>-2.onnx``, ``<stem>-3.onnx``… when taken."""
    path, counter = model_file.with_suffix(".onnx"), 1
    while path.exists() or path.is_symlink():
        counter += 1
        path = model_file.with_name(f"{model_file.stem}-{counter}.onnx")
    return path


def write_onnx(data: bytes, target: Path, *, replace: bool = False, beside: Path | None = None) -> Path:
    """Write ``data`` to ``target`` through a synced temporary; returns the path written.

    Args:
        data: the serialized model.
        target: the file to write.
        replace: replace ``target`` if it exists (``--force``); otherwise never write over a file.
        beside: the model file, when ``target`` was picked by :func:`free_name_beside`: if that name was
            taken meanwhile, the next free one is used instead of failing.

    Raises:
        NnviewError: kind ``save`` when the folder refuses the write, or ``target`` exists (without
            ``replace`` or ``beside``); nothing is left behind.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_beside(target)
    except OSError as exc:
        raise _refuse(f"cannot write in {target.parent}: {exc.strerror or exc}", _ELSEWHERE) from exc
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        target = _put_in_place(temporary, target, replace, beside)
        _fsync_folder(target.parent)
    except OSError as exc:
        raise _refuse(f"cannot write {target}: {exc.strerror or exc}", _FULL) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _put_in_place(temporary: Path, target: Path, replace: bool, beside: Path | None) -> Path:
    """Rename over ``target`` (``replace``), else hard-link it, which fails rather than replace a file."""
    if replace:
        os.replace(temporary, target)
        return target
    while True:
        try:
            os.link(temporary, target)
            return target
        except FileExistsError:
            if beside is None:
                raise _refuse(f"{target} appeared while exporting", "pass --force to replace it") from None
            target = free_name_beside(beside)
        except OSError:  # no hard links on this file system (FAT, some network mounts): claim the name, then rename
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            os.replace(temporary, target)
            return target


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
