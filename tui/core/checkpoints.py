"""Checkpoints: weights in safetensors plus a JSON of hyperparameters and metrics, written atomically.

Nothing is ever loaded with pickle code execution: safetensors files hold only tensors, and other
files go through ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model as load_safetensors_model
from safetensors.torch import save_model as save_safetensors_model
from torch import nn

from tui.core.records import ErrorRecord, NnviewError


def _atomic_write(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, fsync it, then rename over ``path``.

    A crash or SIGTERM at any point leaves either the old file or the new one, never a partial one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def sidecar(path: Path) -> Path:
    """The JSON beside a checkpoint: ``model.safetensors`` -> ``model.json``."""
    return path.with_suffix(".json")


def save_checkpoint(path: str | Path, model: nn.Module, info: dict[str, Any]) -> Path:
    """Save ``model``'s weights (tied tensors once) and ``info`` (hyperparameters, metrics) atomically."""
    target = Path(path)
    _atomic_write(target, lambda tmp: save_safetensors_model(model, tmp))
    _atomic_write(sidecar(target), lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2, default=str)))
    return target


def _shape_error(path: Path, exc: Exception) -> NnviewError:
    return NnviewError(
        ErrorRecord(
            kind="load",
            message=f"the weights in {path} do not fit this model: {' '.join(str(exc).split())[:400]}",
            hint="load weights saved from the same architecture, or retrain",
        )
    )


def load_checkpoint(path: str | Path, model: nn.Module) -> dict[str, Any]:
    """Load weights into ``model`` after checking every name and shape; return the sidecar's info.

    Raises:
        NnviewError: kind ``load`` for a missing file, shapes that do not fit, or a pickle that would
            need code execution.
    """
    source = Path(path)
    if not source.is_file():
        raise NnviewError(
            ErrorRecord(kind="load", message=f"weights file {source} does not exist", hint="check --weights")
        )
    if source.read_bytes()[:8] and _is_safetensors(source):
        try:
            missing, unexpected = load_safetensors_model(model, source, strict=False)
        except RuntimeError as exc:
            raise _shape_error(source, exc) from exc
        if missing or unexpected:
            raise _shape_error(
                source, RuntimeError(f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
            )
    else:
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
            raise NnviewError(
                ErrorRecord(
                    kind="load",
                    message=f"refused to load {source}: it is not a plain tensor file "
                    f"(loading it would run pickled code, or it is damaged)",
                    hint="save weights with safetensors (ctrl+s in nnview, or nnview train --save)",
                )
            ) from exc
        if not isinstance(state, dict):
            raise NnviewError(
                ErrorRecord(kind="load", message=f"{source} holds no state dict", hint="save model.state_dict()")
            )
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise _shape_error(source, exc) from exc
    info = sidecar(source)
    return json.loads(info.read_text()) if info.is_file() else {}


def _is_safetensors(path: Path) -> bool:
    """A safetensors file starts with an 8-byte little-endian header length, then a JSON header."""
    with path.open("rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < size < path.stat().st_size
