"""Writing a run folder (the layout is ``tui.core.runs.layout``): run.json, the architecture, a rank's lines."""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from tui.core.runs.layout import (
    ARCHITECTURE_FILE,
    DEFAULT_ROOT,
    FORMAT,
    RUN_FILE,
    VERSION,
    encode_number,
    rank_file,
    write_json_atomically,
)


def nnview_version() -> str:
    """The installed nnview's version (read from its metadata: the core never imports the ``tui`` package root)."""
    try:
        return metadata.version("nnview")
    except metadata.PackageNotFoundError:
        return "unknown"


def script_name() -> str:
    """The training script's file name; ``python`` for ``python -c`` or an interactive session."""
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] not in ("", "-c") else "python"


def default_run_dir(root: str = DEFAULT_ROOT, now: float | None = None, name: str | None = None) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``... when that folder exists already.

    ``name`` defaults to the script's (``sys.argv[0]``'s stem).
    """
    if name is None:
        name = Path(script_name()).stem
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = Path(root) / f"{name}-{stamp}"
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def clean(value: Any) -> Any:
    """``value`` with NaN and infinities as strings, walked through dicts and lists, for one JSON line."""
    if isinstance(value, float):
        return encode_number(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


_KEYS: dict[str, str] = {}


def _key(name: str) -> str:
    """A metric's name as a JSON string (cached: the same few names every step)."""
    text = _KEYS.get(name)
    if text is None:
        text = _KEYS[name] = json.dumps(name)
    return text


def _number(value: Any) -> str:
    """A number as JSON text; NaN and infinities as their strings, ``None`` as ``null``."""
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return f'"{encode_number(value)}"'
    return repr(float(value)) if isinstance(value, float) else str(int(value)) if isinstance(value, int) else "null"


class RunFiles:
    """The files one rank writes. Rank 0 also writes ``run.json`` and the architecture."""

    def __init__(self, folder: Path, rank: int, world_size: int, every: int | None, framework: str) -> None:
        self.folder = folder
        self.rank = rank
        folder.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        if rank == 0:
            info = {
                "format": FORMAT,
                "version": VERSION,
                "name": folder.name,
                "script": script_name(),
                "command": list(sys.argv),
                "world_size": world_size,
                "started": self.started,
                "host": socket.gethostname(),
                "nnview_version": nnview_version(),
                "every": every,
                "framework": framework,
            }
            write_json_atomically(folder / RUN_FILE, info)
        # Appending: a rank that restarts (an elastic restart) goes on after its earlier lines.
        self._out: IO[str] | None = open(folder / rank_file(rank), "a", encoding="utf-8")
        self._pending: list[str] = []

    def line(self, record: dict[str, Any]) -> None:
        """Queue one line; :meth:`flush` writes the queue in one go."""
        self._pending.append(json.dumps(clean(record), separators=(",", ":")))

    def step_line(self, step: int, wall: float, loss: Any, seconds: float, metrics: dict[str, Any]) -> None:
        """Queue a ``step`` line: written by hand (one per training step, so it must cost a few microseconds)."""
        text = f'{{"kind":"step","step":{step},"time":{wall!r},"loss":{_number(loss)},"seconds":{seconds!r}'
        if metrics:
            inner = ",".join(f"{_key(k)}:{_number(v)}" for k, v in metrics.items())
            text += f',"metrics":{{{inner}}}'
        self._pending.append(text + "}")

    def flush(self) -> int:
        """Append the queued lines (whole lines only: each ends with its newline). Returns bytes written."""
        if not self._pending or self._out is None:
            return 0
        text = "\n".join(self._pending) + "\n"
        self._pending.clear()
        self._out.write(text)
        self._out.flush()
        return len(text.encode("utf-8"))

    def architecture(self, summary: dict[str, Any]) -> None:
        """Write the architecture (the ``nnview summary --json`` object) once, atomically."""
        write_json_atomically(self.folder / ARCHITECTURE_FILE, clean(summary))

    def close(self) -> None:
        """Write what is queued and close the rank's file."""
        self.flush()
        if self._out is not None:
            self._out.close()
            self._out = None


def pid_host() -> dict[str, Any]:
    """This process, for the rank's start line."""
    return {"pid": os.getpid(), "host": socket.gethostname()}
