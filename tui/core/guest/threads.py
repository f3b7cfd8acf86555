"""User code that may never return: what it is doing, a daemon thread to wait on it, and what it left running.

A forward pass in an endless loop (or a C kernel that never comes back) cannot be interrupted
from inside. So the caller runs it in a daemon thread and waits: the waiting thread still answers
Ctrl+C, a ``--timeout`` or a cancelled worker, and nnview can exit while the guest is stuck.
Threads and child processes the guest started are remembered, so that nnview's exit does not wait
for them either (:func:`left_running`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tui.core.records import ErrorRecord, NnviewError

T = TypeVar("T")
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Activity:
    """What a thread is running of the user's code, since when, and whose files are the user's."""

    doing: str
    started: float
    thread: int
    user_files: tuple[str, ...] = ()

    def elapsed(self) -> float:
        """Seconds since it started."""
        return time.monotonic() - self.started

    def where(self) -> tuple[str, str] | None:
        """``("hang.py:9", "forward")``: the innermost user frame the thread is in now, if any."""
        frame = sys._current_frames().get(self.thread)
        if frame is None:
            return None
        from tui.core.guest.usercode import is_user_file

        for entry in reversed(traceback.extract_stack(frame)):
            if is_user_file(entry.filename, self.user_files):
                return f"{entry.filename}:{entry.lineno}", entry.name
        return None

    def describe(self, seconds: float | None = None) -> str:
        """``forward still running after 3 s: in forward() at hang.py:9``."""
        text = f"{self.doing} still running after {self.elapsed() if seconds is None else seconds:.0f} s"
        found = self.where()
        return f"{text}: in {found[1]}() at {found[0]}" if found else text


_ACTIVITIES: dict[int, list[Activity]] = {}
_RUNNERS: list[threading.Thread] = []
_LEFT_THREADS: list[threading.Thread] = []
_LEFT_CHILDREN: list[Any] = []
_lock = threading.Lock()


@contextlib.contextmanager
def activity(doing: str, user_files: tuple[str, ...] = ()) -> Iterator[Activity]:
    """Record that this thread runs ``doing`` of the user's code (nested calls stack)."""
    ident = threading.get_ident()
    entry = Activity(doing, time.monotonic(), ident, user_files)
    threads_before = set(threading.enumerate())
    children_before = _children()
    with _lock:
        _ACTIVITIES.setdefault(ident, []).append(entry)
    try:
        yield entry
    finally:
        with _lock:
            stack = _ACTIVITIES.get(ident, [])
            if entry in stack:
                stack.remove(entry)
            if not stack:
                _ACTIVITIES.pop(ident, None)
            # Whatever the guest started and left running must not hold nnview's exit.
            _LEFT_THREADS.extend(t for t in threading.enumerate() if t not in threads_before and not t.daemon)
            _LEFT_CHILDREN.extend(c for c in _children() if c not in children_before)


def _children() -> list[Any]:
    if "multiprocessing" not in sys.modules:
        return []
    import multiprocessing

    return list(multiprocessing.active_children())


def current_activity() -> Activity | None:
    """The longest-running user call now in progress in any thread (its innermost step), if any."""
    with _lock:
        running = [stack[-1] for stack in _ACTIVITIES.values() if stack]
    return min(running, key=lambda a: a.started) if running else None


class Abandoned(Exception):
    """The caller stopped waiting (its worker was cancelled); the guest thread may still be running."""


def call_bounded(
    func: Callable[[], T],
    *,
    timeout: float | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> T:
    """Call ``func`` in a daemon thread and wait for it, but no longer than asked.

    Args:
        func: the work (it runs the user's code inside its own guards).
        timeout: seconds to wait before giving up with a ``timeout`` error.
        cancelled: polled while waiting; when it returns True, stop waiting.

    Returns:
        What ``func`` returned.

    Raises:
        NnviewError: what ``func`` raised, or kind ``timeout`` naming what is still running and where.
        Abandoned: ``cancelled()`` became true.
        KeyboardInterrupt: Ctrl+C in the waiting (main) thread; the guest is left running.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def body() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=body, name="nnview-user-code", daemon=True)
    with _lock:
        _RUNNERS.append(thread)
    started = time.monotonic()
    thread.start()
    while not done.wait(POLL_SECONDS):
        if timeout is not None and time.monotonic() - started >= timeout:
            raise NnviewError(_timeout_record(thread, timeout))
        if cancelled is not None and cancelled():
            raise Abandoned()
    with _lock:
        _RUNNERS.remove(thread)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _timeout_record(thread: threading.Thread, timeout: float) -> ErrorRecord:
    with _lock:
        stack = _ACTIVITIES.get(thread.ident or -1, [])
        running = stack[-1] if stack else None
    found = running.where() if running is not None else None
    doing = running.doing if running is not None else "the model file's code"
    message = f"{doing} still running after {timeout:g} s" + (f": in {found[1]}()" if found else "")
    return ErrorRecord(
        kind="timeout",
        message=message,
        hint="make the loop there end (or be faster), or allow more time with --timeout SECONDS",
        location=found[0] if found else None,
    )


def left_running() -> list[str]:
    """What the user's code left running that would keep the process from exiting (names, for people)."""
    with _lock:
        stuck = [t.name for t in _RUNNERS if t.is_alive()]
        stuck += [t.name for t in _LEFT_THREADS if t.is_alive()]
        stuck += [f"process {c.pid}" for c in _LEFT_CHILDREN if c.is_alive()]
    return stuck


def exit_now_if_stuck(code: int) -> int:
    """Return ``code``, or end the process with it now when user code left threads or children running.

    Python's exit waits for non-daemon threads and ``multiprocessing`` children; a model's thread that
    sleeps forever would hang nnview. fds 1 and 2 are put back and the streams flushed first.
    """
    if not left_running():
        return code
    from tui.core.guest.output import restore_output_now

    restore_output_now()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)
