"""Running the user's code safely: prints captured, process state restored, failures turned into records."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from tui.core.guest.output import Captured
from tui.core.guest.state import guest_state
from tui.core.guest.threads import activity
from tui.core.records import ErrorRecord, NnviewError

T = TypeVar("T")
_NNVIEW_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


@contextlib.contextmanager
def sandboxed_process_state(
    search_dir: Path | None, argv0: str, doing: str = "the model file's code", user_files: tuple[str, ...] = ()
) -> Iterator[Captured]:
    """Run the user's code inside this: output captured, every piece of process state put back.

    See :func:`tui.core.guest.state.guest_state` for what is restored (grad mode, default dtype, signal
    handlers, thread count, fds 1 and 2, cwd, ``sys.path``, ``sys.argv``...).

    Args:
        search_dir: a folder put first on ``sys.path`` so the file can import its neighbours.
        argv0: what ``sys.argv[0]`` reads while the user's code runs.
        doing: what the code is doing, for "forward still running after 5 s" messages.
        user_files: the user's files, to say where a stuck call is.

    Yields:
        What the code printed (``getvalue()``).
    """
    with activity(doing, user_files), guest_state() as captured:
        if search_dir is not None:
            sys.path.insert(0, str(search_dir))
        sys.argv = [argv0]
        yield captured


def is_user_file(filename: str, user_files: tuple[str, ...]) -> bool:
    """Whether ``filename`` is one of ``user_files`` or lies in their folders (a neighbour module).

    Library code under a user folder (a virtual environment, site-packages) and nnview's own files
    do not count.
    """
    real = os.path.realpath(filename)
    if any(real == os.path.realpath(f) for f in user_files):
        return True
    if filename.startswith("<") or "site-packages" in real or "dist-packages" in real:
        return False
    if real.startswith(_NNVIEW_DIR + os.sep):
        return False
    folders = {os.path.dirname(os.path.realpath(f)) for f in user_files}
    return any(real.startswith(folder + os.sep) for folder in folders)


def user_location(exc: BaseException, user_files: tuple[str, ...]) -> str | None:
    """The innermost ``file:line`` of the traceback that lies in one of ``user_files`` or beside them.

    A helper module next to the model file (``blocks.py``) counts: the error is where it happened.
    Falls back to the innermost frame outside torch and nnview when no user file matches.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if is_user_file(frame.filename, user_files):
            return f"{frame.filename}:{frame.lineno}"
    for frame in reversed(frames):
        name = frame.filename.replace("\\", "/")
        if "/torch/" not in name and "/tui/core/" not in name and not name.startswith("<"):
            return f"{frame.filename}:{frame.lineno}"
    return None


def describe_exception(exc: BaseException) -> str:
    """``ValueError: bad thing`` (the type name and the first line of the message)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def load_error(exc: BaseException, doing: str, user_files: tuple[str, ...], output: str = "") -> ErrorRecord:
    """Turn an exception raised by the user's code while ``doing`` something into a record."""
    location = user_location(exc, user_files)
    where = f" at {location}" if location else ""
    if isinstance(exc, SystemExit):
        return ErrorRecord(
            kind="load",
            message=f"the model file called sys.exit({exc.code!r}) while {doing}{where}",
            hint="put script code under `if __name__ == '__main__':` so that importing the file does not run it",
            location=location,
            output=output,
        )
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = f"install the missing package (pip install {exc.name.split('.')[0]}) or fix the import"
    else:
        hint = "fix the error in the model file, then run nnview again"
    return ErrorRecord(
        kind="load",
        message=f"{describe_exception(exc)} while {doing}{where}",
        hint=hint,
        location=location,
        output=output,
    )


def run_user_code(
    func: Callable[[], T], doing: str, user_files: tuple[str, ...], search_dir: Path | None, argv0: str
) -> tuple[T, str]:
    """Call ``func`` inside :func:`sandboxed_process_state`; any failure becomes a ``load`` error.

    Returns:
        What ``func`` returned and the text it printed.

    Raises:
        NnviewError: with kind ``load`` when ``func`` raised or called ``sys.exit``.
    """
    with sandboxed_process_state(search_dir, argv0, doing, user_files) as buffer:
        try:
            result = func()
        except (KeyboardInterrupt, NnviewError):
            raise
        except BaseException as exc:
            error = load_error(exc, doing, user_files, buffer.getvalue())
            raise NnviewError(error) from exc
    return result, buffer.getvalue()
