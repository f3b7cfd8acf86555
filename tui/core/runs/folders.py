"""Finding a run folder, refusing what is not one, and writing the viewer's request to it (``control.json``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tui.core.error_records import ErrorRecord, NnviewError
from tui.core.runs.layout import COMMANDS, CONTROL_FILE, DEFAULT_ROOT, RUN_FILE, is_run_folder, write_json_atomically

WRITES_HERE = "Probe(model, RUN_DIR) writes a run folder (Probe(model) alone: ./runs/<script>-<time>)"


def _refuse(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def check_run_folder(path: Path | str) -> Path:
    """``path`` if it is a run folder.

    Raises:
        NnviewError: kind ``input`` when it does not exist, is a file, or holds no run (naming the
            newest run inside it when it is a folder of runs, such as ``./runs``).
    """
    folder = Path(path)
    if not folder.exists():
        raise _refuse(f"{folder} does not exist", f"give the folder a run writes into; {WRITES_HERE}")
    if not folder.is_dir():
        raise _refuse(f"{folder} is a file, not a run folder", f"give the folder a run writes into; {WRITES_HERE}")
    if is_run_folder(folder):
        return folder
    runs = _runs_under(folder)
    if runs:
        newest = max(runs, key=_started)
        raise _refuse(
            f"{folder} is not a run folder: it holds {len(runs)} run folder{'s' if len(runs) > 1 else ''}",
            f"name one of them, e.g. the newest: nnview watch {newest}",
        )
    raise _refuse(
        f"{folder} is not a run folder: it has no {RUN_FILE} and no rank*.jsonl file",
        f"give the folder a run writes into; {WRITES_HERE}",
    )


def find_newest_run(root: Path | str = DEFAULT_ROOT) -> Path:
    """The run under ``root`` that started last (``run.json``'s start time, else the folder's time).

    Raises:
        NnviewError: kind ``input`` when ``root`` does not exist or holds no run folder.
    """
    folder = Path(root)
    hint = f"give the run folder: nnview watch RUN_DIR; {WRITES_HERE}"
    if not folder.is_dir():
        raise _refuse(f"no run folder was given, and {_shown(folder)} (where runs go by default) does not exist", hint)
    if is_run_folder(folder):
        return folder
    runs = _runs_under(folder)
    if not runs:
        raise _refuse(f"no run folder was given, and {_shown(folder)} holds no run", hint)
    return max(runs, key=_started)


def _shown(folder: Path) -> str:
    """``./runs`` for a relative folder (where it was looked for is then clear), else the path."""
    return str(folder) if folder.is_absolute() or str(folder).startswith(".") else f"./{folder}"


def _runs_under(folder: Path) -> list[Path]:
    try:
        return sorted(child for child in folder.iterdir() if child.is_dir() and is_run_folder(child))
    except OSError:
        return []


def _started(run: Path) -> tuple[float, str]:
    """When ``run`` started, for picking the newest (ties by name)."""
    try:
        started = json.loads((run / RUN_FILE).read_text(encoding="utf-8")).get("started")
        if isinstance(started, (int, float)) and not isinstance(started, bool):
            return float(started), run.name
    except (OSError, ValueError, AttributeError):
        pass
    try:
        return run.stat().st_mtime, run.name
    except OSError:
        return 0.0, run.name


def write_control(path: Path | str, command: str) -> dict[str, Any]:
    """Ask the run in folder ``path`` to ``pause``, ``resume`` or ``stop``: write ``control.json`` atomically.

    Each request carries an id one higher than the last one written, so the probe tells a new request
    from one it already obeyed. Returns what was written.

    Raises:
        ValueError: ``command`` is not one of ``COMMANDS``.
        NnviewError: kind ``save`` when the file cannot be written (read-only storage, permissions).
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown run command {command!r}: one of {', '.join(COMMANDS)}")
    target = Path(path) / CONTROL_FILE
    try:
        previous = json.loads(target.read_text(encoding="utf-8")).get("id")
    except (OSError, ValueError, AttributeError):
        previous = None
    last = previous if isinstance(previous, int) and not isinstance(previous, bool) else 0
    request: dict[str, Any] = {"command": command, "id": last + 1, "time": time.time()}
    try:
        write_json_atomically(target, request)
    except OSError as exc:
        raise NnviewError(
            ErrorRecord(
                kind="save",
                message=f"could not write {target}: {exc.strerror or exc}",
                hint="pausing or stopping a run needs write access to its folder (check its permissions)",
            )
        ) from exc
    return request
