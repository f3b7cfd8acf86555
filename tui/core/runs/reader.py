"""Read a run folder while it is written: each poll reads what the ranks appended since the last one.

The rank files are append-only JSON lines (:mod:`tui.core.runs.layout`). The reader keeps one offset per
file and consumes whole lines only: a last line without its newline is still being written and is read
on a later poll, once it is complete. A line that is not a JSON object is skipped and counted. A poll
that finds no file grown costs a directory listing and one ``stat`` per file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from tui.core.runs.export import state_json
from tui.core.runs.folders import check_run_folder, find_newest_run, write_control
from tui.core.runs.layout import ARCHITECTURE_FILE, RUN_FILE, decode_number
from tui.core.runs.state import EVENT_STATES, LAYER_FIGURES, LayerSample, LayersSample, RankState, RunState, Series

__all__ = ["RunReader", "RunState", "check_run_folder", "find_newest_run", "state_json", "write_control"]

RANK_FILE = re.compile(r"rank(\d+)\.jsonl")


class RunReader:
    """Follows one run; :meth:`poll` brings :attr:`state` up to date.

    Args:
        path: the run folder (see :func:`check_run_folder` to refuse one that is not a run).
        more: further folders of the same run, for runs past one machine without shared storage: each
            node's ranks write into a folder of their own (``run.json`` and the architecture are in rank 0's).
    """

    def __init__(self, path: Path | str, *more: Path | str) -> None:
        self.path = Path(path)
        self.folders = [self.path, *(Path(m) for m in more)]
        self.state = RunState(self.path)
        self.offsets: dict[Path, int] = {}  # rank file -> bytes of it consumed
        self.backlog = False  # whether the last poll left lines unread (its ``max_bytes`` was reached)

    def poll(self, max_bytes: int | None = None) -> bool:
        """Read what was appended since the last poll; whether anything changed.

        Args:
            max_bytes: read at most about this many bytes per rank file in this poll (whole lines; the
                rest waits for the next poll), so a long run's backlog never holds the caller up for
                long. ``None`` reads everything there is.
        """
        changed = self._read_once(RUN_FILE) | self._read_once(ARCHITECTURE_FILE)
        self.backlog = False
        for rank, path in self._rank_files():
            changed |= self._read_rank(rank, path, max_bytes)
        return changed

    # --- files ---------------------------------------------------------------------------------

    def _read_once(self, name: str) -> bool:
        """``run.json`` / ``architecture.json``: read when it appears (written atomically, read once)."""
        attribute = "run" if name == RUN_FILE else "architecture"
        if getattr(self.state, attribute) is not None:
            return False
        for folder in self.folders:  # rank 0 writes it: in whichever folder holds rank 0
            try:
                data = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):  # not there yet (or not readable yet): the next poll tries again
                continue
            if isinstance(data, dict):
                setattr(self.state, attribute, data)
                return True
        return False

    def _rank_files(self) -> list[tuple[int, Path]]:
        found = []
        for folder in self.folders:
            try:
                names = [entry.name for entry in folder.iterdir()]
            except OSError:
                continue
            found += [(int(match.group(1)), folder / name) for name in names if (match := RANK_FILE.fullmatch(name))]
        return sorted(found)

    def _read_rank(self, rank: int, path: Path, max_bytes: int | None) -> bool:
        """Consume the complete lines appended to ``path`` since its offset."""
        offset = self.offsets.get(path, 0)
        try:
            size = path.stat().st_size
        except OSError:
            return False
        if size < offset:  # the file was replaced by a shorter one (a new run in the same folder): start over
            self.state.ranks.pop(rank, None)
            offset = 0
        if size == offset:  # nothing new; an empty file still makes its rank known
            known = rank in self.state.ranks
            self._rank(rank)
            return not known
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read(size - offset if max_bytes is None else min(size - offset, max_bytes))
                if not chunk.endswith(b"\n"):
                    chunk += handle.readline()  # finish the line the cap cut (it may still be half-written)
        except OSError:
            return False
        end = chunk.rfind(b"\n") + 1  # after the last complete line; 0 when there is none
        self.offsets[path] = offset + end
        self.backlog = self.backlog or (max_bytes is not None and offset + len(chunk) < size)
        state = self._rank(rank)
        for line in chunk[:end].splitlines():
            if line.strip():
                self._take_line(state, line)
        return True

    def _rank(self, rank: int) -> RankState:
        if rank not in self.state.ranks:
            self.state.ranks[rank] = RankState(rank)
        return self.state.ranks[rank]

    # --- lines ---------------------------------------------------------------------------------

    def _take_line(self, rank: RankState, line: bytes) -> None:
        try:
            data = json.loads(line)
        except ValueError:  # UnicodeDecodeError included
            data = None
        if not isinstance(data, dict):
            self.state.skipped_lines += 1
            return
        kind = data.get("kind")
        if kind == "step":
            _take_step(rank, data)
        elif kind == "layers":
            _take_layers(rank, data)
        elif kind == "log":
            _take_log(rank, data)
        elif kind == "event":
            _take_event(rank, data)
        elif kind == "start":
            _take_start(rank, data)
        # Any other kind is from a newer writer: left alone, not an error.


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _finite(value: Any) -> float | None:
    number = decode_number(value)
    return number if number is not None and math.isfinite(number) else None


def _take_start(rank: RankState, data: dict[str, Any]) -> None:
    rank.pid = _int(data.get("pid"))
    host, device = data.get("host"), data.get("device")
    rank.host = host if isinstance(host, str) else None
    rank.device = device if isinstance(device, str) else None
    rank.started = _finite(data.get("time"))
    rank.state, rank.message = "running", ""


def _take_step(rank: RankState, data: dict[str, Any]) -> None:
    step = _int(data.get("step"))
    if step is None:
        return
    rank.steps = step  # the latest: a restarted rank (same folder) counts from 1 again
    loss = decode_number(data.get("loss"))
    when = _finite(data.get("time"))
    rank.last_step_time = when if when is not None else rank.last_step_time
    if when is not None:
        rank.recent.append((step, when))
    rank.last_loss = loss
    if loss is not None:
        rank.losses.add(step, loss)
        if not math.isfinite(loss) and rank.first_nonfinite_step is None:
            rank.first_nonfinite_step, rank.first_nonfinite_loss = step, loss
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        for name, value in metrics.items():
            number = decode_number(value)
            if number is not None:
                rank.metrics.setdefault(str(name), Series()).add(step, number)


def _take_layers(rank: RankState, data: dict[str, Any]) -> None:
    step, rows = _int(data.get("step")), data.get("layers")
    if step is None or not isinstance(rows, list):
        return
    samples = []
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("name"), str):
            figures = [decode_number(row.get(key)) for key in LAYER_FIGURES]
            samples.append(LayerSample(row["name"], str(row.get("type") or ""), *figures))
    rank.layers = LayersSample(step, _finite(data.get("time")), decode_number(data.get("grad_norm")), tuple(samples))


def _take_log(rank: RankState, data: dict[str, Any]) -> None:
    values = data.get("values")
    if not isinstance(values, dict):
        return
    for name, value in values.items():
        number = decode_number(value)
        if number is not None:
            rank.log[str(name)] = number
    rank.log_step = _int(data.get("step"))


def _take_event(rank: RankState, data: dict[str, Any]) -> None:
    state = EVENT_STATES.get(str(data.get("event")))
    if state is None or (state == "closed" and rank.state in ("stopped", "error")):
        return  # a probe closes after stopping or failing: the rank stays "stopped" / "error", with its message
    rank.state = state
    message = data.get("message")
    rank.message = message if isinstance(message, str) else ""
