"""Checkpoints: weights in safetensors plus a JSON sidecar, written so that every kill leaves a readable pair.

Layout: ``X.safetensors`` holds the tensors and, in its header metadata, the same record as the sidecar
``X.safetensors.json`` (hyperparameters, metrics, when it was saved). The sidecar also holds the sha256
of the weights it describes. Both are written to temporary files first (``.NAME.nnview-PID-RANDOM.tmp``),
fsynced, then renamed: the weights first, the sidecar second. So after a kill at any instant:

- before the first rename: the old pair is untouched (only temporaries are left; the next save removes them);
- between the renames: new weights, old sidecar. The hash does not match, so :func:`read_checkpoint` says the
  sidecar is stale and returns the weights' own embedded record instead;
- after the second rename: the new pair.

The old sidecar name ``X.json`` is never read or written: it could be the user's own ``config.json``.

Nothing is ever loaded with pickle code execution: safetensors files hold only tensors, and other
files go through ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors.torch import save_model as save_safetensors_model
from torch import nn

from tui.core.load.checkpoint_read import MARKER, read_weights
from tui.core.records import ErrorRecord, NnviewError

TEMPORARY = re.compile(r"^\..+\.nnview-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp$")
_in_flight: set[str] = set()  # this process's temporaries being written now (never swept)
_in_flight_lock = threading.Lock()


def sidecar(path: Path) -> Path:
    """The JSON beside a checkpoint: ``model.safetensors`` -> ``model.safetensors.json``."""
    return path.with_name(path.name + ".json")


def is_nnview_sidecar(path: Path) -> bool:
    """Whether ``path`` is a sidecar nnview wrote (a JSON object with the ``nnview_checkpoint`` key)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get(MARKER), dict)


class SaveInterrupted(KeyboardInterrupt):
    """Ctrl+C arrived during a save; ``on_disk`` says exactly what the save left behind."""

    def __init__(self, on_disk: str) -> None:
        super().__init__(on_disk)
        self.on_disk = on_disk


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporaries that a killed nnview save left in ``folder``; returns what was removed.

    Only names of nnview's own pattern (``.NAME.nnview-PID-RANDOM.tmp``) whose writing process is gone
    are removed, so another nnview saving into the same folder at the same time keeps its files.
    """
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = TEMPORARY.match(entry.name)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        pid = int(match["pid"])
        with _in_flight_lock:
            busy = str(entry) in _in_flight
        if busy or (pid != os.getpid() and _pid_alive(pid)):
            continue
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def temporary_beside(path: Path) -> Path:
    """Create an empty temporary of nnview's pattern in ``path``'s folder and mark it as in flight."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.nnview-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(handle)
    with _in_flight_lock:
        _in_flight.add(name)
    return Path(name)


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would race with other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _discard(path: Path | None) -> None:
    if path is None:
        return
    with _in_flight_lock:
        _in_flight.discard(str(path))
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_synced(path: Path, write: Callable[[Path], object]) -> str:
    """Fill ``path`` with ``write``, fsync it, and return its sha256."""
    write(path)
    os.chmod(path, 0o666 & ~_umask())  # mkstemp (and safetensors) make 0600; a checkpoint gets the usual mode
    digest = hashlib.sha256()
    with path.open("rb") as written:
        for block in iter(lambda: written.read(1 << 20), b""):
            digest.update(block)
        os.fsync(written.fileno())
    return digest.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, info: dict[str, Any]) -> Path:
    """Save ``model``'s weights (tied tensors once) and ``info`` as a consistent pair; returns the path.

    Raises:
        SaveInterrupted: Ctrl+C during the save; its ``on_disk`` says what is on disk now.
        NnviewError: kind ``save`` when the folder or disk refuses the write (the message says what is on disk).
    """
    target = Path(path)
    side = sidecar(target)
    saved_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record = json.dumps({"saved_at": saved_at, "info": info}, default=str)
    weights_tmp: Path | None = None
    side_tmp: Path | None = None
    replaced = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)
        weights_tmp = temporary_beside(target)
        digest = _write_synced(
            weights_tmp, lambda tmp: save_safetensors_model(model, str(tmp), metadata={MARKER: record})
        )
        meta = {"version": 1, "weights": target.name, "weights_sha256": digest, "saved_at": saved_at}
        text = json.dumps({**info, MARKER: meta}, indent=2, default=str)
        side_tmp = temporary_beside(side)
        _write_synced(side_tmp, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        os.replace(weights_tmp, target)
        replaced = True
        _fsync_folder(target.parent)
        os.replace(side_tmp, side)
        _fsync_folder(target.parent)
    except KeyboardInterrupt as exc:
        raise SaveInterrupted(_left_behind(target, replaced)) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise NnviewError(
            ErrorRecord(
                kind="save",
                message=f"could not save {target}: {reason}; {_left_behind(target, replaced)}",
                hint="free some space or choose a folder you can write to",
            )
        ) from exc
    finally:
        _discard(weights_tmp)
        _discard(side_tmp)
    return target


def _left_behind(target: Path, replaced: bool) -> str:
    """One sentence that says what an interrupted save left at ``target``."""
    side = sidecar(target)
    if not replaced:
        return f"{target} was not changed" if target.exists() else f"{target} was not written"
    return (
        f"{target} holds the new weights (their hyperparameters and metrics are inside it), "
        f"but {side.name} {'still describes the earlier save' if side.exists() else 'was not written'}"
    )


@dataclass(frozen=True)
class CheckpointRead:
    """What :func:`read_checkpoint` found: the record (hyperparameters, metrics) and notes about the sidecar."""

    info: dict[str, Any]
    notes: tuple[str, ...] = ()


def read_checkpoint(path: str | Path, model: nn.Module) -> CheckpointRead:
    """Load weights into ``model`` after checking every name and shape; return the record and any notes.

    A missing, damaged or stale sidecar never fails the load: the weights' own embedded record is used
    and a note says why.

    Raises:
        NnviewError: kind ``load`` for a missing, empty, damaged or refused weights file, or shapes that
            do not fit.
    """
    source = Path(path)
    embedded, digest = read_weights(source, model)
    side = sidecar(source)
    own = embedded.get("info") if isinstance(embedded.get("info"), dict) else None
    fallback = own if own is not None else {}
    if not side.exists():
        return CheckpointRead(fallback)
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        what = "is a folder" if side.is_dir() else f"is damaged ({type(exc).__name__})"
        return CheckpointRead(fallback, (f"{side} {what}: ignored; {_used(own)}",))
    if not isinstance(data, dict) or not isinstance(data.get(MARKER), dict):
        return CheckpointRead(fallback, (f"{side} was not written by nnview: ignored; {_used(own)}",))
    meta = data.pop(MARKER)
    if digest is not None and meta.get("weights_sha256") != digest:
        when = f" (it is from the save of {meta.get('saved_at')})" if meta.get("saved_at") else ""
        note = f"{side.name} does not describe these weights{when}: the save was interrupted; {_used(own)}"
        return CheckpointRead(fallback, (note,))
    return CheckpointRead(data)


def _used(own: dict[str, Any] | None) -> str:
    return "used the record inside the weights file" if own is not None else "no hyperparameters or metrics known"


def load_checkpoint(path: str | Path, model: nn.Module) -> dict[str, Any]:
    """Load weights into ``model`` (see :func:`read_checkpoint`) and return the record alone."""
    return read_checkpoint(path, model).info
