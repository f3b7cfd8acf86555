"""The process state a model file can change, put back after every call into its code.

A model file is a guest in nnview's process: whatever it changes at its top level, in its
constructor or in forward (grad mode, default dtype and device, signal handlers, thread count,
warnings filters, the environment, stdout at the file-descriptor level...) must not outlive the
call, or the next load, trace or training step inherits it. :func:`guest_state` snapshots all of
it and restores it in ``finally``.
"""

from __future__ import annotations

import _signal
import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch

from tui.core.guest.output import OUTPUT_CAPTURE, Captured, real_signal

_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE") if hasattr(signal, name)
)


def _mode_stack() -> list[Any]:
    from torch.overrides import _get_current_function_mode_stack

    return list(_get_current_function_mode_stack())  # type: ignore[no-untyped-call]


def _set_mode_stack(saved: list[Any]) -> None:
    """Put this thread's torch-function mode stack (where default devices live) back as it was."""
    from torch._C import _len_torch_function_stack
    from torch.overrides import _pop_mode, _push_mode

    while _len_torch_function_stack():
        _pop_mode()  # type: ignore[no-untyped-call]
    for mode in saved:
        _push_mode(mode)  # type: ignore[no-untyped-call]


class _Snapshot:
    """Everything restorable that a guest may change, read before its code runs."""

    def __init__(self) -> None:
        self.main = threading.current_thread() is threading.main_thread()
        self.grad = torch.is_grad_enabled()
        self.dtype = torch.get_default_dtype()
        self.device_context = getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context", None)
        self.modes = _mode_stack()
        self.threads = torch.get_num_threads()
        self.deterministic = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
        self.anomaly = (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
        self.matmul_precision = torch.get_float32_matmul_precision()
        self.recursion = sys.getrecursionlimit()
        self.warnings = list(warnings.filters)
        self.showwarning = warnings.showwarning
        self.hooks = (sys.excepthook, threading.excepthook)
        # _signal's getsignal skips the enum conversion: this runs around every training step.
        self.handlers = {s: _signal.getsignal(s) for s in _SIGNALS} if self.main else {}
        self.cwd = os.getcwd()
        self.path = list(sys.path)
        self.argv = list(sys.argv)
        # The raw (bytes) mapping: copying and comparing it costs ~1 µs, os.environ's view ~100.
        self.environ = dict(_raw_environ())

    def restore(self) -> None:
        """Undo whatever differs now; each part on its own, so one failure cannot skip the rest."""
        steps: list[Callable[[], None]] = [
            self._torch,
            self._python,
            self._environment,
        ]
        for step in steps:
            with contextlib.suppress(Exception):
                step()

    def _torch(self) -> None:
        torch.set_grad_enabled(self.grad)
        if torch.get_default_dtype() != self.dtype:
            torch.set_default_dtype(self.dtype)
        if getattr(torch._GLOBAL_DEVICE_CONTEXT, "device_context", None) is not self.device_context:
            torch._GLOBAL_DEVICE_CONTEXT.device_context = self.device_context
        current = _mode_stack()
        if len(current) != len(self.modes) or any(a is not b for a, b in zip(current, self.modes, strict=False)):
            _set_mode_stack(self.modes)
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        now = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
        if now != self.deterministic:
            torch.use_deterministic_algorithms(self.deterministic[0], warn_only=self.deterministic[1])
        if (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()) != self.anomaly:
            torch.autograd.set_detect_anomaly(*self.anomaly)
        if torch.get_float32_matmul_precision() != self.matmul_precision:
            torch.set_float32_matmul_precision(self.matmul_precision)

    def _python(self) -> None:
        if sys.getrecursionlimit() != self.recursion:
            sys.setrecursionlimit(self.recursion)
        if warnings.filters != self.warnings:
            warnings.filters[:] = self.warnings  # type: ignore[index]
            warnings._filters_mutated()  # type: ignore[attr-defined]
        warnings.showwarning = self.showwarning
        sys.excepthook, threading.excepthook = self.hooks
        for signum, handler in self.handlers.items():
            if _signal.getsignal(signum) is not handler and handler is not None:
                real_signal(signum, handler)
        sys.path[:] = self.path
        sys.argv = self.argv
        with contextlib.suppress(OSError):
            os.chdir(self.cwd)

    def _environment(self) -> None:
        raw = _raw_environ()
        if raw == self.environ:
            return
        decode = os.fsdecode if os.name != "nt" else str
        for key in [k for k in raw if k not in self.environ]:
            del os.environ[decode(key)]
        for key, value in self.environ.items():
            if raw.get(key) != value:
                os.environ[decode(key)] = decode(value)


def _raw_environ() -> Any:
    return getattr(os.environ, "_data", os.environ)


@contextlib.contextmanager
def guest_state() -> Iterator[Captured]:
    """Run the user's code inside this: everything it changes is put back afterwards.

    Restored on exit, on success and on failure alike: grad mode, default dtype, default device
    (and any torch-function mode left entered), thread count, deterministic-algorithms and anomaly
    flags, float32 matmul precision, recursion limit, warnings filters, ``sys.excepthook``, the
    SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE handlers, cwd, ``sys.path``, ``sys.argv``, ``os.environ``,
    ``sys.stdout``/``sys.stderr``, and file descriptors 1 and 2 (redirected to a temporary file, so
    ``os.write(1, ...)`` cannot corrupt ``--json`` or the screen).

    Yields:
        What the code printed (``getvalue()``), by ``print`` or at the file-descriptor level.
    """
    snapshot = _Snapshot()
    captured = OUTPUT_CAPTURE.enter()
    try:
        yield captured
    finally:
        try:
            snapshot.restore()
        finally:
            OUTPUT_CAPTURE.leave(captured)
