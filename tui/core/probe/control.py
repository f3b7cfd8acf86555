"""The viewer's requests (pause, resume, stop), read from the run folder's control file.

The viewer writes ``control.json`` ``{"command", "id"}``; a command is acted on once (by its id). Under
torch.distributed only rank 0 reads the file and a broadcast tells every rank, at the same step, so a
paused rank never leaves the others waiting in a collective.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tui.core.probe.ranks import share_from_rank0
from tui.core.runs.layout import COMMANDS, CONTROL_FILE

NONE, PAUSE, RESUME, STOP = 0, 1, 2, 3
CODES = {"pause": PAUSE, "resume": RESUME, "stop": STOP}
assert set(CODES) == set(COMMANDS)
POLL_SECONDS = 0.2  # how often a paused run looks for resume or stop


class RunStopped(SystemExit):
    """The viewer asked the run to stop: raised by :meth:`Probe.step` at a step boundary, exit status 0.

    Catch it to save a checkpoint before leaving; every rank raises it at the same step.
    """

    def __init__(self, step: int) -> None:
        super().__init__(0)
        self.step = step


class ControlFile:
    """Rank 0's reader of ``control.json``: the newest command not acted on yet."""

    def __init__(self, folder: Path) -> None:
        self.path = str(folder / CONTROL_FILE)
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the file last read
        self._last_id: object = None
        self.read()  # a command left in the folder by an earlier run is not this run's: mark it seen

    def read(self) -> int:
        """The newest command's code (``NONE`` when there is none, or it was acted on already)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return NONE
        key = (stat.st_mtime_ns, stat.st_size)
        if key == self._seen:
            return NONE
        self._seen = key
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return NONE
        if not isinstance(data, dict) or data.get("id") == self._last_id:
            return NONE
        self._last_id = data.get("id")
        return CODES.get(str(data.get("command")), NONE)


class Control:
    """Decides, at a step boundary, what every rank does: go on, pause until resumed, or stop."""

    def __init__(self, folder: Path, rank: int) -> None:
        self.file = ControlFile(folder) if rank == 0 else None

    def agreed(self, interval: int) -> tuple[int, int]:
        """``(command, next sampling interval)``: rank 0's, broadcast to every rank."""
        command = self.file.read() if self.file is not None else NONE
        code, interval = share_from_rank0([command, interval])
        return code, interval

    def local(self) -> int:
        """This process's own reading of the file, with no collective (for a run of one process)."""
        return self.file.read() if self.file is not None else NONE

    def wait_while_paused(self) -> int:
        """Block until rank 0 reads resume or stop (every rank polls together); the command that ended it."""
        while True:
            time.sleep(POLL_SECONDS)
            command = self.file.read() if self.file is not None else NONE
            (code,) = share_from_rank0([command])
            if code in (RESUME, STOP):
                return code
