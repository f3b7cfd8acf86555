"""A model opened for exploring: the loaded model, its lock, its trainer, its example batch and the latest trace.

The session is the one owner of the model: every trace (open, a new batch, a re-trace) and every
training step holds :attr:`ModelSession.lock`, so a trace never runs while a step changes the
weights (or flips ``model.train()`` under it). Every method blocks (loading a file, running
forward); the explorer calls them from worker threads. Nothing here knows about terminals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tui.core.guest.threads import call_bounded
from tui.core.options import DEFAULT_BUDGET_BYTES, SessionOptions
from tui.core.records import ErrorRecord, NnviewError, Totals, TraceResult

# Torch and everything that imports it load inside the methods: the explorer builds its session before
# its first frame, and that frame must not wait for `import torch` (the worker that traces pays for it).
if TYPE_CHECKING:
    import torch

    from tui.core.example_input import ExampleInput
    from tui.core.load.model_file import LoadedModel
    from tui.core.train.trainer import Trainer

__all__ = ["ModelSession", "SessionOptions", "partial_trace", "summarize"]


@dataclass
class ModelSession:
    """The model being explored, the lock every use of it takes, its trainer and its latest trace.

    Attributes:
        options: the command-line choices.
        loaded: the built model, after :meth:`open`.
        example: the batch the latest trace used.
        labels: that batch's rows of ``dataset()``'s ``y_train``, if it came from there (see :meth:`labels_of`).
        result: the latest trace.
        batches_drawn: how many new batches :meth:`new_batch` has drawn (its seed).
        trainer: the trainer of the loaded model, once :meth:`ensure_trainer` built it.
        lock: held by every trace and every training step of the loaded model (reentrant).
        notes: what loading ``--weights`` found worth saying (a stale or damaged sidecar).
    """

    options: SessionOptions
    loaded: LoadedModel | None = None
    example: ExampleInput | None = None
    labels: torch.Tensor | None = None
    result: TraceResult | None = None
    batches_drawn: int = 0
    watched: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    trainer: Trainer | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _dataset: Any = field(default=None, repr=False)

    def open(self) -> TraceResult:
        """Load the file, decide the example input and trace it (also used to reload after an edit).

        A reload replaces the model, so the trainer of the old one is dropped (the caller saves or
        discards its steps first).

        Raises:
            NnviewError: any user mistake, with the load output attached.
        """
        from tui.core.load.inputs import parse_input_spec, resolve_inputs
        from tui.core.load.model_file import LoadedModel, load_model

        specs = [parse_input_spec(text) for text in self.options.inputs]
        imported: list[str] = []
        try:
            if isinstance(self.options.preloaded, LoadedModel):  # tui.explore(model): nothing to load
                loaded = self.options.preloaded
            else:
                loaded = load_model(self.options.model_ref, meta=self.options.meta, imported=imported)
        finally:
            # The files to watch: the model file and the neighbours it imported, even if loading failed.
            self.watched = (self.options.model_ref, *imported)
        # A new model, a new lock: a forward of the old model that never returned still holds the old
        # one, and must not hold up the reload that fixes it.
        self.lock = threading.RLock()
        self.drop_trainer()
        if self.options.weights:  # before anything reads the model: the table shows the checkpoint's weights
            from tui.core.load.checkpoints import read_checkpoint

            self.notes = read_checkpoint(self.options.weights, loaded.model).notes
        self.loaded = loaded
        self._dataset = None
        self.batches_drawn = 0
        return self._run(lambda: resolve_inputs(loaded, specs, self.options.batch))

    def ensure_trainer(self) -> Trainer:
        """The trainer of the loaded model, built (and checked against the data) the first time.

        Built by the function ``nnview train`` uses, from the command line's ``--data`` and
        ``--target`` and the file's ``hyperparameters``; checking the fit traces the model, so it
        holds the lock.

        Raises:
            NnviewError: the model is not loaded yet, or the data or settings are refused.
        """
        from tui.core.train.run import TrainOptions, build_trainer

        with self.lock:
            if self.trainer is None:
                loaded = self.loaded
                if loaded is None:
                    raise NnviewError(
                        ErrorRecord(
                            kind="input",
                            message="the model is still loading: there is nothing to train yet",
                            hint="wait for the layer table, then press t or s again",
                        )
                    )
                options = TrainOptions(loaded.source, self.options.data, self.options.target_column)
                self.trainer = build_trainer(loaded, options).trainer
            return self.trainer

    def drop_trainer(self) -> None:
        """Forget the trainer (call it while no step runs); torch's thread count goes back to what it was."""
        trainer, self.trainer = self.trainer, None
        if trainer is not None:
            trainer.close()

    def new_batch(self) -> TraceResult:
        """Trace another batch: drawn from the file's ``dataset()`` if it has one, else new random values."""
        import torch

        from tui.core.dtypes import as_model_input, model_float_dtype
        from tui.core.example_input import ExampleInput, random_like
        from tui.core.load.input_checks import kept_lengths

        if self.loaded is None or self.example is None:
            return self.open()
        with self.lock:  # drawing the batch reads the model (its dtype, its packed lengths) too
            self.batches_drawn += 1
            generator = torch.Generator().manual_seed(self.batches_drawn)
            data = self._training_inputs()
            if data is not None:
                picks = torch.randint(0, data.shape[0], (self.options.batch,), generator=generator)
                device = self.example.args[0].device if self.example.args else torch.device("cpu")
                x = as_model_input(data[picks].to(device), model_float_dtype(self.loaded.model))
                fresh = ExampleInput((x,), {}, False, f"dataset() batch {self.batches_drawn}")
                targets = self._training_labels(data)
                return self._run(lambda: fresh, targets[picks] if targets is not None else None)
            fresh = random_like(self.example, generator, self.batches_drawn)
            # New values, the same lengths: random ones would not pack (pack_padded_sequence checks them).
            old, new = (self.example.args, self.example.kwargs), (fresh.args, fresh.kwargs)
            args, kwargs = kept_lengths(self.loaded.model, old, new)
            return self._run(lambda: replace(fresh, args=args, kwargs=kwargs))

    def first_rows(self) -> TraceResult | None:
        """Trace the first rows of the file's ``dataset()`` where the input was only inferred.

        Real data says more than random numbers (a dead unit on real inputs is dead), so after the
        first trace of a file with ``dataset()`` and no ``example_input`` or ``--input``, the explorer
        traces its first ``batch`` rows. ``None``: the input was not inferred, or there is no
        ``dataset()`` that returns tensors.

        Raises:
            NnviewError: ``dataset()`` failed, or its rows do not fit the model.
        """
        import torch

        from tui.core.dtypes import as_model_input, model_float_dtype
        from tui.core.example_input import ExampleInput

        if self.loaded is None or self.example is None or not self.example.inferred:
            return None
        with self.lock:
            data = self._training_inputs()
            if data is None:
                return None
            device = self.example.args[0].device if self.example.args else torch.device("cpu")
            x = as_model_input(data[: self.options.batch].to(device), model_float_dtype(self.loaded.model))
            rows = ExampleInput((x,), {}, False, f"first {len(x)} rows of dataset()")
            targets = self._training_labels(data)
            return self._run(lambda: rows, targets[: self.options.batch] if targets is not None else None)

    def retrace(self) -> TraceResult:
        """Trace the same batch again (after the weights changed, e.g. during training)."""
        if self.loaded is None or self.example is None:
            return self.open()
        example, labels = self.example, self.labels
        return self._run(lambda: example, labels)

    def labels_of(self, result: TraceResult) -> torch.Tensor | None:
        """The labels of the batch ``result`` traced, if it came from ``dataset()``: the batch is told by its origin
        ("dataset() batch 3", kept by every re-trace), so an older trace never gets a newer batch's labels."""
        return self.labels if self.example is not None and result.input_origin == self.example.origin else None

    def _training_inputs(self) -> torch.Tensor | None:
        """The training inputs of the file's ``dataset()``, if it has one that returns tensors."""
        import torch

        from tui.core.guest.usercode import run_user_code

        assert self.loaded is not None
        make = self.loaded.namespace.get("dataset")
        if not callable(make) or self.options.meta:
            return None
        if self._dataset is None:
            self._dataset, _ = run_user_code(
                make, "calling dataset()", self.loaded.user_files, None, self.loaded.source
            )
        data = self._dataset
        first = data[0] if isinstance(data, (tuple, list)) and data else None
        return first if isinstance(first, torch.Tensor) and first.dim() >= 1 and first.shape[0] > 0 else None

    def _training_labels(self, inputs: torch.Tensor) -> torch.Tensor | None:
        """The training labels of ``dataset()`` (its second item), if they are a tensor row for row with ``inputs``."""
        import torch

        labels = self._dataset[1] if isinstance(self._dataset, (tuple, list)) and len(self._dataset) > 1 else None
        if isinstance(labels, torch.Tensor) and labels.dim() >= 1 and labels.shape[0] == inputs.shape[0]:
            return labels.detach().cpu()
        return None

    def _run(self, make_example: Any, labels: torch.Tensor | None = None) -> TraceResult:
        """Trace, holding the lock, with the user's prints captured and any chdir undone; errors carry the prints.
        The batch's ``labels`` (its rows of ``dataset()``'s labels, or ``None``) are kept with it."""
        from tui.core.guest.usercode import sandboxed_process_state
        from tui.core.trace.tracing import trace_model

        assert self.loaded is not None
        loaded = self.loaded
        with self.lock, sandboxed_process_state(None, loaded.source, "forward", loaded.user_files) as printed:
            try:
                example = make_example()
                result = trace_model(
                    loaded.model,
                    example,
                    model_name=loaded.name,
                    source=loaded.source,
                    budget_bytes=self.options.budget_bytes,
                    user_files=loaded.user_files,
                    stats=self.options.stats,
                )
            except NnviewError as exc:
                output = loaded.output + printed.getvalue()
                raise NnviewError(replace(exc.record, output=output)) from exc.__cause__
        self.example, self.result, self.labels = example, result, labels
        return result


def _import_own_modules() -> None:
    """Import what opening a session uses, so that a ``timeout`` counts only the user's code."""
    import importlib

    for name in ("load.inputs", "load.model_file", "trace.tracing", "guest.usercode"):
        importlib.import_module(f"tui.core.{name}")


def summarize(
    model_ref: str,
    *,
    inputs: list[str] | None = None,
    batch: int = 4,
    meta: bool = False,
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
    stats: bool = True,
    timeout: float | None = None,
) -> TraceResult:
    """Load ``FILE[:NAME]`` (or ``pkg.module:attr``) and trace one forward pass.

    The user's code runs in a daemon thread while this thread waits, so Ctrl+C (KeyboardInterrupt
    here) and ``timeout`` are answered even when a constructor or forward never returns.

    Args:
        model_ref: the model file or module path, optionally with ``:NAME``.
        inputs: ``--input`` specs such as ``"4x5"`` or ``"2x12:long"``, one per positional input.
        batch: batch size where nnview makes the input itself.
        meta: build and trace on the meta device (shapes, parameters and MACs only).
        budget_bytes: bytes of layer outputs to keep for display.
        stats: compute each layer's output statistics.
        timeout: seconds to wait for the user's code before giving up (``None``: no limit).

    Raises:
        NnviewError: any user mistake, as a structured record; kind ``timeout`` past ``timeout``.
        KeyboardInterrupt: Ctrl+C while waiting; the user's code may still be running.
    """
    options = SessionOptions(model_ref, tuple(inputs or ()), batch, meta, budget_bytes, stats)
    _import_own_modules()  # the clock is for the user's code, not for nnview importing torch
    return call_bounded(ModelSession(options).open, timeout=timeout)


def partial_trace(error: ErrorRecord) -> TraceResult | None:
    """The layers traced before a forward failure, as a result a layer table can show; else ``None``."""
    if not error.partial:
        return None
    first = error.partial[0]  # the model itself: its type names the table, its inputs head it
    return TraceResult(first.type, "", first.inputs, False, "", "", error.partial, Totals(0, 0, 0, 0, 0))
