"""Read a TensorBoard log folder's scalars while it is written: each poll reads what the writers appended.

A log folder holds runs: every folder under it (itself included, named ``.``) with an event file
(``events.out.tfevents.*``) directly in it, as TensorBoard names them. Each run is read by TensorBoard's
own ``plugin_event_accumulator.EventAccumulator`` — the one TensorBoard's server reads with — because:

- its ``Reload()`` is incremental: each event file's loader keeps its offset and reads only what was
  appended; a record still half-written is retried on the next poll, never dropped;
- it reads both kinds of scalar: the legacy ``simple_value`` (``torch.utils.tensorboard``, tensorboardX)
  and TF2's tensor scalars (Keras), migrated to one form, and it purges a restarted run's orphaned steps;
- so every number shown, and every ``--json`` count, is what TensorBoard itself would show.

(``tbparse`` reads a whole folder into pandas at once: right for tests, not for following a run.)
:meth:`TensorBoardReader.poll` does the reading; :attr:`TensorBoardReader.state` is a frozen snapshot a
screen can draw from while the next poll runs in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.core.error_records import ErrorRecord, NnviewError
from tui.core.runs.layout import encode_number, is_run_folder
from tui.core.tensorboard.package import is_events_file, missing_tensorboard

ROOT_RUN = "."  # the run whose event files lie in the log folder itself (TensorBoard's name for it too)


@dataclass(frozen=True)
class ScalarSeries:
    """One tag's points, in the order TensorBoard keeps them (by step within a writer)."""

    tag: str
    steps: tuple[int, ...] = ()
    values: tuple[float, ...] = ()
    wall_times: tuple[float, ...] = ()

    @property
    def last_step(self) -> int | None:
        """The step of the newest point."""
        return self.steps[-1] if self.steps else None

    @property
    def last_value(self) -> float | None:
        """The newest point's value."""
        return self.values[-1] if self.values else None

    def points(self) -> list[tuple[float, float]]:
        """``(step, value)`` pairs, for a plot."""
        return [(float(s), v) for s, v in zip(self.steps, self.values, strict=True)]


@dataclass(frozen=True)
class TensorBoardRun:
    """One run (a folder with event files): its scalar series by tag, sorted by tag."""

    name: str
    path: Path
    scalars: Mapping[str, ScalarSeries] = field(default_factory=dict)

    @property
    def last_wall_time(self) -> float | None:
        """When its newest scalar was written (unix seconds)."""
        times = [s.wall_times[-1] for s in self.scalars.values() if s.wall_times]
        return max(times) if times else None


@dataclass(frozen=True)
class TensorBoardState:
    """What a log folder holds, as of the last poll: its runs by name (sorted), and runs that failed to read."""

    root: Path
    runs: Mapping[str, TensorBoardRun] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)  # run name -> why it could not be read
    polls: int = 0

    @property
    def tags(self) -> int:
        """Scalar tags over every run."""
        return sum(len(run.scalars) for run in self.runs.values())


def holds_event_files(path: Path | str) -> bool:
    """Whether ``path`` is a folder with an event file in it or in a folder under it."""
    for _folder, _subfolders, files in os.walk(path):
        if any(is_events_file(name) for name in files):
            return True
    return False


def is_tensorboard_folder(path: Path | str) -> bool:
    """Whether ``nnview watch`` should read ``path`` as TensorBoard logs: event files, and no nnview run there."""
    folder = Path(path)
    return folder.is_dir() and not is_run_folder(folder) and holds_event_files(folder)


def check_tensorboard_folder(path: Path | str) -> Path:
    """``path`` if it is a TensorBoard log folder.

    Raises:
        NnviewError: kind ``input`` when it does not exist, is a file, or holds no event file.
    """
    folder = Path(path)
    hint = "give the folder passed to SummaryWriter(log_dir) or `tensorboard --logdir` (event files under it)"
    if not folder.exists():
        raise NnviewError(ErrorRecord(kind="input", message=f"{folder} does not exist", hint=hint))
    if not folder.is_dir():
        raise NnviewError(ErrorRecord(kind="input", message=f"{folder} is a file, not a log folder", hint=hint))
    if not holds_event_files(folder):
        message = f"{folder} holds no TensorBoard event file (events.out.tfevents.*)"
        raise NnviewError(ErrorRecord(kind="input", message=message, hint=hint))
    return folder


def _scalar_value(proto: Any, make_ndarray: Any) -> float | None:
    """The number in a scalar summary's tensor (``None`` if it is not one number)."""
    array = make_ndarray(proto)
    return float(array.reshape(-1)[0]) if array.size == 1 else None


class TensorBoardReader:
    """Follows a log folder; :meth:`poll` brings :attr:`state` up to date. Call :meth:`poll` from one thread.

    Raises:
        NnviewError: the folder is refused (:func:`check_tensorboard_folder`), or ``tensorboard`` is missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = check_tensorboard_folder(path)
        try:
            from tensorboard.backend.event_processing import io_wrapper, plugin_event_accumulator
            from tensorboard.util import tensor_util
        except ImportError as exc:
            raise missing_tensorboard("reading TensorBoard logs", exc) from exc
        self._io = io_wrapper
        self._accumulators_module = plugin_event_accumulator
        self._make_ndarray = tensor_util.make_ndarray
        self._accumulators: dict[str, Any] = {}
        self._seen: dict[str, tuple[int, float]] = {}  # run -> (most recent step, wall time) read
        self.state = TensorBoardState(self.path)

    def poll(self) -> bool:
        """Find new runs and read what every run's event files gained; whether anything changed."""
        runs, errors = dict(self.state.runs), dict(self.state.errors)
        changed = False
        for name, folder in self._run_folders():
            if name not in self._accumulators:
                module = self._accumulators_module
                self._accumulators[name] = module.EventAccumulator(
                    str(folder), size_guidance={module.TENSORS: 1}, tensor_size_guidance={"scalars": 0}
                )
                runs[name] = TensorBoardRun(name, folder)
                changed = True
            try:
                run = self._read_run(runs[name])
            except Exception as exc:  # noqa: BLE001 - a run that cannot be read is shown as such; the others go on
                message = f"{type(exc).__name__}: {exc}"
                changed |= errors.get(name) != message
                errors[name] = message
                continue
            if errors.pop(name, None) is not None:
                changed = True
            if run is not runs[name]:
                runs[name], changed = run, True
        if changed:
            self.state = TensorBoardState(
                self.path, dict(sorted(runs.items())), dict(sorted(errors.items())), self.state.polls + 1
            )
        return changed

    def _run_folders(self) -> list[tuple[str, Path]]:
        folders = [Path(p) for p in self._io.GetLogdirSubdirectories(str(self.path))]
        named = [(ROOT_RUN if f == self.path else str(f.relative_to(self.path)), f) for f in folders]
        return sorted(named)

    def _read_run(self, run: TensorBoardRun) -> TensorBoardRun:
        """``run`` with what its accumulator read since the last poll (the same object when nothing was new)."""
        accumulator = self._accumulators[run.name]
        accumulator.Reload()
        newest = (accumulator.most_recent_step, accumulator.most_recent_wall_time)
        if self._seen.get(run.name) == newest:
            return run
        self._seen[run.name] = newest
        try:
            tags = sorted(accumulator.PluginTagToContent("scalars"))
        except KeyError:  # no scalar written yet (only a graph, images...)
            return run
        scalars = dict(run.scalars)
        for tag in tags:
            series = self._extended(scalars.get(tag) or ScalarSeries(tag), accumulator.Tensors(tag))
            if series is not None:
                scalars[tag] = series
        return TensorBoardRun(run.name, run.path, dict(sorted(scalars.items())))

    def _extended(self, series: ScalarSeries, events: list[Any]) -> ScalarSeries | None:
        """``series`` with the events past its points, or rebuilt when they are not a continuation (a purge)."""
        known = len(series.steps)
        last = events[known - 1] if 0 < known <= len(events) else None
        follows = known == 0 or (
            last is not None and last.step == series.steps[-1] and last.wall_time == series.wall_times[-1]
        )
        if follows and known == len(events):
            return None
        start, kept = (known, series) if follows else (0, ScalarSeries(series.tag))
        steps, values, walls = list(kept.steps), list(kept.values), list(kept.wall_times)
        for event in events[start:]:
            value = _scalar_value(event.tensor_proto, self._make_ndarray)
            if value is not None:
                steps.append(int(event.step))
                values.append(value)
                walls.append(float(event.wall_time))
        return ScalarSeries(series.tag, tuple(steps), tuple(values), tuple(walls))


def tensorboard_json(state: TensorBoardState) -> dict[str, Any]:
    """``nnview watch LOGDIR --json``: ``{"runs": {run: {tag: {"steps", "last_step", "last_value"}}}}``.

    NaN and infinities are the strings ``"nan"``, ``"inf"``, ``"-inf"``; runs that could not be read are
    listed under ``"errors"`` (only when there are some).
    """
    runs = {
        name: {
            tag: {"steps": len(s.steps), "last_step": s.last_step, "last_value": encode_number(s.last_value)}
            for tag, s in run.scalars.items()
        }
        for name, run in state.runs.items()
    }
    out: dict[str, Any] = {"runs": runs}
    if state.errors:
        out["errors"] = dict(state.errors)
    return out
