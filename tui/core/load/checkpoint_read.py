"""Reading a weights file for ``--weights``: every way it can be wrong becomes one clear ``load`` error.

A ``.safetensors`` file is checked by hand before safetensors reads it (empty, cut short, a header that
claims more bytes than the file has, tensors past the end, not JSON), so the message says which; any
other file goes through ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model as load_safetensors_model
from torch import nn

from tui.core.records import ErrorRecord, NnviewError

MARKER = "nnview_checkpoint"  # the sidecar key (and header metadata key) that says nnview wrote it
HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own cap on the JSON header
REWRITE = "save it again (ctrl+s in nnview, or nnview train --save), or pick an earlier checkpoint"


def _error(message: str, hint: str = REWRITE) -> NnviewError:
    return NnviewError(ErrorRecord(kind="load", message=message, hint=hint))


def _shape_error(path: Path, exc: Exception) -> NnviewError:
    detail = " ".join(str(exc).split())[:400]
    return _error(
        f"the weights in {path} do not fit this model: {detail}",
        "load weights saved from the same architecture, or retrain",
    )


def _start(head: bytes) -> str:
    text = head[:16].decode("latin-1")
    return repr(text) if text.isprintable() else head[:8].hex(" ")


def safetensors_problem(path: Path, size: int) -> str | None:
    """Why ``path`` is not a whole safetensors file, in words; ``None`` if its layout is sound."""
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"it is {size} bytes long, too short to be a safetensors file"
        length = int.from_bytes(head, "little")
        if length > min(size - 8, HEADER_LIMIT):
            first = handle.read(8)
            if not first.startswith(b"{"):
                return f"it is not a safetensors file (it starts with {_start(head + first)})"
            return f"its header claims {length} bytes but the file has only {size}: it was cut short"
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except ValueError:
        return "its header is not valid JSON: the file is damaged or not a safetensors file"
    if not isinstance(header, dict):
        return "its header is not a JSON object: the file is damaged"
    data_size = size - 8 - length
    ends = [
        entry["data_offsets"][1]
        for key, entry in header.items()
        if key != "__metadata__"
        and isinstance(entry, dict)
        and isinstance(entry.get("data_offsets"), list)
        and len(entry["data_offsets"]) == 2
        and isinstance(entry["data_offsets"][1], int)
    ]
    if ends and max(ends) > data_size:
        return f"its tensors need {max(ends)} bytes of data but the file holds {data_size}: it was cut short"
    return None


def _embedded_record(path: Path) -> dict[str, Any]:
    """The record nnview put in the header metadata (``{}`` for files nnview did not write)."""
    with path.open("rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(length))
    text = (header.get("__metadata__") or {}).get(MARKER)
    try:
        record = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _looks_like_safetensors(path: Path, size: int) -> bool:
    with path.open("rb") as handle:
        head = handle.read(9)
    return len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < size


def read_weights(source: Path, model: nn.Module) -> tuple[dict[str, Any], str | None]:
    """Load ``source`` into ``model`` strictly; return the embedded record and the file's sha256 (safetensors).

    Raises:
        NnviewError: kind ``load`` naming what is wrong with the file and how to fix it.
    """
    if not source.exists():
        raise _error(f"weights file {source} does not exist", "check the --weights path")
    if source.is_dir():
        raise _error(f"--weights {source} is a folder", "name the .safetensors file inside it")
    if not source.is_file():
        raise _error(f"--weights {source} is not a regular file", "name a .safetensors file")
    try:
        size = source.stat().st_size
        if size == 0:
            raise _error(f"weights file {source} is empty (0 bytes)", REWRITE)
        if source.suffix.lower() == ".safetensors" or _looks_like_safetensors(source, size):
            return _read_safetensors(source, model, size)
    except OSError as exc:
        raise _error(f"cannot read weights file {source}: {exc.strerror or exc}", "check its permissions") from exc
    _read_pickle(source, model)
    return {}, None


def _read_safetensors(source: Path, model: nn.Module, size: int) -> tuple[dict[str, Any], str]:
    problem = safetensors_problem(source, size)
    if problem is not None:
        foreign = problem.startswith("it is not a safetensors file")
        hint = "pass a file written by nnview (ctrl+s, nnview train --save) or safetensors.torch.save_file"
        raise _error(f"weights file {source} is not usable: {problem}", hint if foreign else REWRITE)
    try:
        missing, unexpected = load_safetensors_model(model, source, strict=False)
    except SafetensorError as exc:
        raise _error(f"weights file {source} is not usable: {' '.join(str(exc).split())[:300]}") from exc
    except (RuntimeError, ValueError) as exc:
        raise _shape_error(source, exc) from exc
    if missing or unexpected:
        raise _shape_error(source, RuntimeError(f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"))
    return _embedded_record(source), _sha256(source)


def _read_pickle(source: Path, model: nn.Module) -> None:
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure here means the file is not a plain tensor file
        raise _error(
            f"refused to load {source}: it is not a plain tensor file "
            f"(loading it would run pickled code, or it is damaged)",
            "save weights with safetensors (ctrl+s in nnview, or nnview train --save)",
        ) from exc
    if not isinstance(state, dict):
        raise _error(f"{source} holds a {type(state).__name__}, not a state dict", "save model.state_dict()")
    nested = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if nested:
        raise _error(
            f"{source} is not a plain state dict: {', '.join(nested[:4])} hold no tensors",
            "if it wraps the weights (e.g. under 'model' or 'state_dict'), save that part alone",
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise _shape_error(source, exc) from exc
