"""A probe's run lines (:mod:`tui.core.runs.layout`) as TensorBoard scalars, beside the run folder's own files.

Tags, all at x = the probe's step:

    loss/train                                            every step line's loss
    <metric>/train                                        its metrics (``accuracy=acc`` -> ``accuracy/train``;
                                                          a name with a ``/`` in it is kept as it is)
    layers/grad_norm/<layer>, layers/update_ratio/<layer> every sampled layer; ``layers/grad_norm/(all layers)``
                                                          the whole model's gradient norm
    log/<name>                                            the framework's own logged numbers
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tui.core.tensorboard.writer import WHOLE, TensorBoardLog


def _tag(name: str, suffix: str) -> str:
    return name if "/" in name else f"{name}/{suffix}"


class ProbeTensorBoard:
    """Feed it every line the probe writes (:meth:`line`); it writes the numbers to an event file.

    Args:
        log_dir: the TensorBoard run folder (made if missing; refused if it is a file).

    Raises:
        NnviewError: the folder is refused, or the ``tensorboard`` package is missing.
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.log = TensorBoardLog(log_dir)

    @property
    def log_dir(self) -> Path:
        """Where the event file is."""
        return self.log.log_dir

    def line(self, record: Mapping[str, Any]) -> int:
        """Write one run line's numbers (``step``, ``layers`` and ``log`` lines; others have none).

        Returns how many scalars were written.
        """
        step, wall = record.get("step"), record.get("time")
        if isinstance(step, bool) or not isinstance(step, int):
            return 0
        when = float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else None
        kind, log, written = record.get("kind"), self.log, 0
        if kind == "step":
            written += log.scalar("loss/train", record.get("loss"), step, when)
            for name, value in (record.get("metrics") or {}).items():
                written += log.scalar(_tag(str(name), "train"), value, step, when)
        elif kind == "layers":
            written += log.scalar(f"layers/grad_norm/{WHOLE}", record.get("grad_norm"), step, when)
            written += log.layers(step, record.get("layers") or [], when)
        elif kind == "log":
            for name, value in (record.get("values") or {}).items():
                written += log.scalar(f"log/{name}", value, step, when)
        return written

    def flush(self) -> None:
        """Put what was written on disk (the writer also does every few seconds on its own)."""
        self.log.flush()

    def close(self) -> None:
        """Flush and close the event file; safe to call twice."""
        self.log.close()


def probe_tensorboard(setting: str | Path | bool | None, run_dir: Path, rank: int) -> ProbeTensorBoard | None:
    """The probe's TensorBoard writer for ``Probe(..., tensorboard=setting)``, or ``None`` when there is none.

    Args:
        setting: ``None``/``False``: none; ``True``: event files in the run folder itself (so
            ``tensorboard --logdir runs`` shows every probed run); a path: that folder.
        run_dir: the probe's run folder.
        rank: the process's rank; only rank 0 writes (the ranks' losses would interleave in one run).

    Raises:
        TypeError: ``setting`` is not a bool, a path or ``None``.
        NnviewError: the folder is refused, or the ``tensorboard`` package is missing.
    """
    if setting is None or setting is False:
        return None
    if setting is not True and not isinstance(setting, (str, Path)):
        raise TypeError(f"Probe(tensorboard=...): True, a folder or None; got {type(setting).__name__}")
    if rank != 0:
        return None
    return ProbeTensorBoard(run_dir if setting is True else Path(setting))
