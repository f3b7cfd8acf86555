"""``Probe``: the few lines a training loop adds so ``nnview watch`` can show it live.

    probe = Probe(model, "runs/digits")
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        probe.step(loss)          # after backward, before optimizer.step(): the gradients are there
        optimizer.step()
        optimizer.zero_grad()
    probe.close()

Every step costs a list append: the loss stays on the device. Every ``every``-th step (chosen so the
probe takes about 1% of the run, or given) the forward hooks record each leaf layer's output, then the
gradients and, one step later, the update are measured, and one host copy reads it all and appends the
lines. Under torch.distributed rank 0 shares its sampling interval and the viewer's commands with the
other ranks at those steps, so every rank samples, pauses and stops at the same step.
"""

from __future__ import annotations

import atexit
import math
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import torch
from torch import nn

from tui.core.probe.architecture import FirstInput, architecture
from tui.core.probe.control import PAUSE, STOP, Control, RunStopped
from tui.core.probe.layer_stats import FIELDS, LayerSampler, read_all
from tui.core.probe.ranks import distributed, rank_and_world, share_object_from_rank0
from tui.core.probe.run_files import RunFiles, default_run_dir, pid_host
from tui.core.probe.step_values import check_every, detached, unwrapped
from tui.core.tensorboard.probe_lines import probe_tensorboard

OVERHEAD_TARGET = 0.005  # the share of the run's time the adaptive sampling aims the probe's samples at
SAMPLE_AT_LEAST_EVERY = 1.0  # seconds: the adaptive interval never makes samples rarer than this
CONTROL_EVERY = 0.25  # seconds: how often a single process looks at the control file between samples
FLUSH_EVERY = 1.0  # seconds: step lines reach the folder at least this often, sampled or not
ON_STOP = ("raise", "flag")


class Probe:
    """Writes the run folder of a training loop: the architecture, each step, sampled per-layer numbers.

    Args:
        model: the model being trained (wrapped in DistributedDataParallel is fine).
        run_dir: the run folder; default ``runs/<script>-<start time>`` (rank 0's name, on every rank).
        every: sample the layers every this many steps; ``None`` adapts it to about 1% of the run's time.
        rank, world_size: this process's place; default from torch.distributed, else ``RANK``/``WORLD_SIZE``.
        framework: who drives the probe, written to ``run.json`` (``torch``, ``lightning``, ``hf``, ``nnview``).
        on_stop: when the viewer asks to stop: ``"raise"`` :class:`RunStopped` from :meth:`step`, or
            ``"flag"``: set :attr:`stop_requested` and return (for a framework's own stop flag).
        tensorboard: also write TensorBoard event files (rank 0): ``True`` into the run folder, or a folder
            (needs the ``tensorboard`` extra).
    """

    def __init__(
        self,
        model: nn.Module,
        run_dir: str | Path | None = None,
        *,
        every: int | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        framework: str = "torch",
        on_stop: str = "raise",
        tensorboard: str | Path | bool | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"Probe(model, ...): model must be a torch.nn.Module, got {type(model).__name__}")
        check_every(every)
        if on_stop not in ON_STOP:
            raise ValueError(f"Probe(on_stop=...): one of {', '.join(ON_STOP)}; got {on_stop!r}")
        self.model = unwrapped(model)
        self.rank, self.world_size = rank_and_world(rank, world_size)
        folder = Path(run_dir) if run_dir is not None else Path(share_object_from_rank0(str(default_run_dir())))
        self.run_dir = folder
        self.on_stop = on_stop
        self.stop_requested = False
        self.fixed_every = every
        self.interval = every or 1
        self.step_count = 0
        self.bytes_written = 0
        # TensorBoard event files too (rank 0): True puts them in the run folder, a path elsewhere.
        self.tensorboard = probe_tensorboard(tensorboard, folder, self.rank)
        try:
            self.files = RunFiles(folder, self.rank, self.world_size, every, framework)
        except OSError as exc:  # validated at the edge: the user's mistake, named, with the fix
            why = "is a file, not a folder" if folder.is_file() else f"cannot be written: {exc.strerror or exc}"
            where = f"Probe(run_dir={str(folder)!r})"
            raise ValueError(f"{where}: the run folder {why}; name a folder the run can write to") from exc
        device = next((str(p.device) for p in self.model.parameters()), "cpu")
        start = {"kind": "start", "rank": self.rank, "world_size": self.world_size, "device": device}
        self.files.line({**start, **pid_host(), "time": time.time()})
        self._flush()
        self.sampler = LayerSampler(self.model)
        self.control = Control(folder, self.rank)
        self._first: FirstInput | None = FirstInput(self.model)
        self._pending: list[tuple[int, float, float, Any, dict[str, Any]]] = []
        self._logs: list[tuple[int, float, dict[str, Any]]] = []
        self._open: tuple[int, Any] | None = None  # (sampled step, its gradient norm) waiting for its update
        self._next_sample = 1
        self._last = time.perf_counter()
        self._flushed = time.perf_counter()
        self._cost = 0.0  # seconds the probe itself took since the last sample was read
        self._period_start = self._last
        self._closed = False
        self._alone = not distributed()
        self._asked = self._last
        self.sampler.arm()
        atexit.register(self.close)

    def step(self, loss: Any = None, **metrics: Any) -> None:
        """Record one training step; call it after ``backward()`` and before ``optimizer.step()``.

        Args:
            loss: the step's loss (a tensor stays on its device until the next sample), or ``None``.
            metrics: other numbers of the step, e.g. ``accuracy=acc``.

        Raises:
            RunStopped: the viewer asked to stop (with ``on_stop="raise"``).
        """
        if self._closed:
            raise RuntimeError("probe.step() after probe.close(): make a new Probe for a new run")
        began = time.perf_counter()
        self.step_count += 1
        step = self.step_count
        values = {name: detached(v, name) for name, v in metrics.items()} if metrics else {}
        self._pending.append((step, time.time(), began - self._last, detached(loss, "loss"), values))
        command = None
        if self._open is not None and step == self._open[0] + 1:
            sampled = self._read_sample()
            command, self.interval = self.control.agreed(self._adapted_interval())
            self._asked = began
            self._next_sample = max(sampled + self.interval, step + 1)  # a step armed already is sampled anyway
        elif self._alone and began - self._asked >= CONTROL_EVERY:
            command = self.control.local()  # one process: no step to agree on, so look more often
            self._asked = began
        if self.sampler.armed:
            self._take_sample(step)
        elif began - self._flushed >= FLUSH_EVERY:
            self._write_steps([])
        if self._next_sample == step + 1:
            self.sampler.arm()
        self._last = time.perf_counter()
        self._cost += self._last - began
        if command is not None:
            self._obey(command)

    def log(self, values: dict[str, Any]) -> None:
        """Record the framework's own logged numbers (e.g. the Hugging Face Trainer's pre-clip ``grad_norm``)."""
        numbers = {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self._logs.append((self.step_count, time.time(), numbers))

    def _take_sample(self, step: int) -> None:
        """The forward just recorded; now the gradients, and the weights before this step's update."""
        self.sampler.disarm()
        if self._first is not None:
            self._record_architecture()
        grad_norm = self.sampler.gradients()
        self.sampler.snapshot()
        self._open = (step, grad_norm)
        self._next_sample = step + self.interval

    def _record_architecture(self) -> None:
        assert self._first is not None
        first, self._first = self._first, None
        began = time.perf_counter()
        summary = architecture(self.model, first)
        first.remove()
        rows = summary.get("layers", [])
        self.sampler.describe_kept({row["name"]: row["activation"] for row in rows if row.get("activation")})
        if self.rank == 0:
            self.files.architecture(summary)
        self._cost -= time.perf_counter() - began  # once per run: not part of the per-sample cost

    def _read_sample(self) -> int:
        """The update since the sampled step, then one host copy of everything; returns the sampled step."""
        assert self._open is not None
        sampled, grad_norm = self._open
        self._open = None
        self.sampler.updates()
        values = self.sampler.take()
        keys = list(values)
        tensors = [values[k] for k in keys]
        if isinstance(grad_norm, torch.Tensor):
            tensors.append(grad_norm)
        numbers = self._write_steps(tensors)
        rows: dict[str, dict[str, Any]] = {}
        for (name, field), number in zip(keys, numbers, strict=False):
            rows.setdefault(name, {})[field] = number
        for name in rows:
            rows[name] = {"name": name, "type": self.sampler.types.get(name, ""), **dict.fromkeys(FIELDS), **rows[name]}
        layers = [rows[name] for name, _ in self.sampler.layers if name in rows]
        total = numbers[len(keys)] if isinstance(grad_norm, torch.Tensor) else None
        record = {"kind": "layers", "step": sampled, "time": time.time(), "grad_norm": total, "layers": layers}
        self._line(record)
        self._flush()
        return sampled

    def _write_steps(self, tensors: list[torch.Tensor]) -> list[float]:
        """Append the pending step and log lines, reading their tensors together with ``tensors``."""
        pending, self._pending = self._pending, []
        deferred = [v for entry in pending for v in (entry[3], *entry[4].values()) if isinstance(v, torch.Tensor)]
        numbers = read_all(tensors + deferred)
        known = iter(numbers[len(tensors) :])

        def number(value: Any) -> Any:
            return next(known) if isinstance(value, torch.Tensor) else value

        for step, wall, seconds, loss, metrics in pending:
            value = number(loss)
            shown = {k: number(v) for k, v in metrics.items()} if metrics else metrics
            self.files.step_line(step, wall, value, seconds, shown)
            if self.tensorboard is not None:
                line = {"kind": "step", "step": step, "time": wall, "loss": value, "seconds": seconds}
                self.tensorboard.line({**line, "metrics": shown} if shown else line)
        for step, wall, values in self._logs:
            self._line({"kind": "log", "step": step, "time": wall, "values": values})
        self._logs.clear()
        self._flush()
        return numbers[: len(tensors)]

    def _adapted_interval(self) -> int:
        """Steps until the next sample: the given ``every``, else what keeps the probe near its target share."""
        now = time.perf_counter()
        period, cost = now - self._period_start, self._cost
        self._period_start, self._cost = now, 0.0
        if self.fixed_every is not None:
            return self.fixed_every
        steps = max(1, self.interval)
        step_seconds = period / steps
        wanted = math.ceil(steps * (cost / max(period, 1e-9)) / OVERHEAD_TARGET)
        longest = max(1, int(SAMPLE_AT_LEAST_EVERY / max(step_seconds, 1e-9)))
        return max(1, min(wanted, 4 * steps, longest))

    def _obey(self, command: int) -> None:
        if command in (PAUSE, STOP):
            self._write_steps([])  # the steps so far are on disk before the run waits or ends
        if command == PAUSE:
            self._event("paused")
            command = self.control.wait_while_paused()
            self._last = time.perf_counter()  # the pause is not a slow step
            if command != STOP:
                self._event("resumed")
        if command == STOP:
            self._event("stopped")
            if self.on_stop == "raise":
                self.close()
                raise RunStopped(self.step_count)
            self.stop_requested = True

    def _line(self, record: dict[str, Any]) -> None:
        self.files.line(record)
        if self.tensorboard is not None:
            self.tensorboard.line(record)

    def _event(self, name: str, message: str = "") -> None:
        line = {"kind": "event", "step": self.step_count, "time": time.time(), "event": name}
        self.files.line({**line, "message": message} if message else line)
        self._flush()

    def _flush(self) -> None:
        self.bytes_written += self.files.flush()
        self._flushed = time.perf_counter()

    def close(self, error: str = "") -> None:
        """Write what is pending (the last sample's update too) and end the rank's file. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self.sampler.disarm()
        if self._first is not None:
            self._first.remove()
        if self._open is not None:
            self._read_sample()  # no collective here: the other ranks may have left already
        self._write_steps([])
        self._event("error" if error else "closed", error)
        self.files.close()
        if self.tensorboard is not None:
            self.tensorboard.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        failed = error is not None and not isinstance(error, (RunStopped, KeyboardInterrupt))
        self.close(f"{type(error).__name__}: {error}" if failed else "")
