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
import io
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch

# The tail of what a call printed that is kept for error messages: a model printing in a loop
# must not fill nnview's memory.
OUTPUT_LIMIT = 64 * 1024
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE") if hasattr(signal, name)
)
_real_signal = signal.signal


class Captured:
    """What the guest printed, through ``print`` or straight to file descriptors 1 and 2."""

    def __init__(self, start: int) -> None:
        self._start = start
        self._final: str | None = None

    def getvalue(self) -> str:
        """The text printed so far (all of it once the call is over)."""
        if self._final is not None:
            return self._final
        return _CAPTURE.read_from(self._start)

    def _finish(self) -> None:
        self._final = _CAPTURE.read_from(self._start)


class _OutputCapture:
    """One temporary file that fds 1 and 2 and ``sys.stdout``/``sys.stderr`` point at while guests run.

    fds are process-wide, so overlapping guests (a trace and a training step in two workers) share
    one redirection: the first to enter redirects, the last to leave puts everything back. Each
    guest reads its own slice of the file. Whoever drew the terminal before must write through a
    duplicate of its fd (see ``tui/terminal.py``), never through fd 1 or 2.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users = 0
        self.file: Any = None
        self.text: io.TextIOWrapper | None = None
        self.saved_fds: list[tuple[int, int]] = []
        self.saved_streams: tuple[Any, Any] = (None, None)

    def enter(self) -> Captured:
        with self.lock:
            if self.users == 0:
                self._redirect()
            self.users += 1
            return Captured(self._size())

    def leave(self, captured: Captured) -> None:
        with self.lock:
            captured._finish()
            if self.users == 0:  # put back early by emergency_restore: nothing left to undo
                return
            self.users -= 1
            if self.users == 0:
                self._restore()

    def read_from(self, start: int) -> str:
        with self.lock:
            if self.file is None or self.users == 0:
                return ""
            end = self._size()
            start = max(start, end - OUTPUT_LIMIT)
            data = os.pread(self.file.fileno(), end - start, start) if end > start else b""
            return data.decode("utf-8", errors="replace")

    def _size(self) -> int:
        _flush(self.text, sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        return os.fstat(self.file.fileno()).st_size if self.file is not None else 0

    def _redirect(self) -> None:
        _flush(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)  # nnview's own text goes out first
        if self.file is None:  # one file for the process, emptied after use: a training step is ~1 ms
            self.file = tempfile.TemporaryFile(prefix="nnview-output-")
            raw = io.FileIO(os.dup(self.file.fileno()), "w")
            self.text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", write_through=True)
        self.saved_streams = (sys.stdout, sys.stderr)
        self.saved_fds = []
        for fd in (1, 2):
            try:
                saved = os.dup(fd)
            except OSError:  # closed (nnview run with 1>&-): nothing there to protect
                continue
            os.dup2(self.file.fileno(), fd)
            self.saved_fds.append((fd, saved))
        sys.stdout = sys.stderr = self.text
        # A guest running in a worker thread cannot install signal handlers (Python refuses outside the
        # main thread); its change would be undone after the call anyway, so the request is dropped.
        signal.signal = _guest_signal  # type: ignore[assignment]

    def _restore(self) -> None:
        signal.signal = _real_signal
        _flush(self.text, sys.__stdout__, sys.__stderr__)  # a guest's buffered __stdout__ text lands in the file
        sys.stdout, sys.stderr = self.saved_streams
        for fd, saved in self.saved_fds:
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
            os.close(saved)
        self.saved_fds = []
        with contextlib.suppress(OSError):
            os.ftruncate(self.file.fileno(), 0)
            os.lseek(self.file.fileno(), 0, os.SEEK_SET)

    def emergency_restore(self) -> None:
        """Put fds 1 and 2 back now, while a guest is still running (it is stuck and nnview exits)."""
        with self.lock:
            if self.users:
                self.users = 0
                self._restore()


def _flush(*streams: Any) -> None:
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


def _guest_signal(signum: int, handler: Any) -> Any:
    if threading.current_thread() is threading.main_thread():
        return _real_signal(signum, handler)
    return signal.getsignal(signum)


_CAPTURE = _OutputCapture()


def _close_saved_fds_in_child() -> None:
    """A process forked by the guest (multiprocessing) must not hold nnview's real stdout open.

    Else ``nnview summary m.py | head`` (or a test reading the pipe) waits for that child to end.
    """
    for _, saved in _CAPTURE.saved_fds:
        with contextlib.suppress(OSError):
            os.close(saved)
    _CAPTURE.saved_fds = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_saved_fds_in_child)


def restore_output_now() -> None:
    """Point fds 1 and 2 back at the terminal even though a guest call has not returned (before exiting)."""
    _CAPTURE.emergency_restore()


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
                _real_signal(signum, handler)
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
    captured = _CAPTURE.enter()
    try:
        yield captured
    finally:
        try:
            snapshot.restore()
        finally:
            _CAPTURE.leave(captured)
