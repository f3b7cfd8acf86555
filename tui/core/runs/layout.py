"""The run folder's layout, shared by the writer (the probe) and the readers (``nnview watch``).

A run folder is plain files, append-only and safe to read while written; nothing opens a port::

    RUN_DIR/
      run.json           rank 0, once, atomically: {"format": "nnview-run", "version": 1, "name", "script",
                         "command", "world_size", "started" (unix seconds), "host", "nnview_version",
                         "every" (steps between per-layer samples), "framework" ("torch", "lightning", "hf")}
      architecture.json  rank 0, once after its first step, atomically: the ``nnview summary --json`` object
      rank0.jsonl ...    each rank appends its own lines (see below); one JSON object per line
      control.json       written by the viewer, atomically: {"command": "pause"|"resume"|"stop", "id", "time"}

Lines of ``rankN.jsonl`` (``kind`` tells them apart; ``step`` counts the rank's ``probe.step`` calls from 1):

    {"kind": "start", "rank", "world_size", "pid", "host", "device", "time"}
    {"kind": "step", "step", "time", "loss", "seconds", "metrics": {name: number}}
    {"kind": "layers", "step", "time", "grad_norm", "layers": [{"name", "type", "mean", "std", "zero_frac",
        "dead_frac", "saturated_frac", "grad_norm", "update_ratio"}]}
    {"kind": "log", "step", "time", "values": {name: number}}     the framework's own log (HF: pre-clip grad_norm)
    {"kind": "event", "step", "time", "event": "paused"|"resumed"|"stopped"|"closed"|"error", "message"}

Numbers JSON cannot hold are written as the strings ``"nan"``, ``"inf"`` and ``"-inf"``
(:func:`encode_number`, :func:`decode_number`), so any JSON reader (jq included) reads every line.
A reader that finds a last line without its newline skips it: it is still being written.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

FORMAT = "nnview-run"
VERSION = 1
RUN_FILE = "run.json"
ARCHITECTURE_FILE = "architecture.json"
CONTROL_FILE = "control.json"
COMMANDS = ("pause", "resume", "stop")
DEFAULT_ROOT = "runs"  # where Probe(model) writes when no folder is named; ``nnview watch`` looks here


def rank_file(rank: int) -> str:
    """The name of rank ``rank``'s line file."""
    return f"rank{rank}.jsonl"


def encode_number(value: float | int | None) -> float | int | str | None:
    """A number as a JSON value: NaN and infinities become ``"nan"``, ``"inf"``, ``"-inf"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def decode_number(value: Any) -> float | None:
    """The number a JSON value stands for (``"nan"`` → NaN); ``None`` for anything that is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return None


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: a reader never sees half of it."""
    # Not mkstemp: its files are private (0600), and a run on shared storage is read by other users.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8") as out:  # the umask's permissions, as any file the user writes
            json.dump(data, out)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run (its ``run.json`` or a rank's line file)."""
    return (path / RUN_FILE).is_file() or any(path.glob("rank*.jsonl"))
