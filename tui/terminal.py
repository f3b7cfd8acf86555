"""The explorer draws through its own duplicate of the terminal's file descriptor.

While the model's code runs, fds 1 and 2 point at a temporary file (``tui.core.guest.state``), so that
``os.write(1, ...)`` or a C library's printf in a model cannot scribble over the screen. Textual's
Linux driver writes to ``sys.__stderr__`` (fd 2): it would draw into that file too. This driver
writes to a duplicate of fd 2 taken before any model code ran, and reads the terminal size from it.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from textual.app import App


def _terminal_stream() -> TextIO | None:
    """A text stream on a duplicate of the fd Textual would draw on (stderr); ``None`` if there is none."""
    stream = sys.__stderr__
    if stream is None:
        return None
    try:
        fd = os.dup(stream.fileno())
    except (OSError, ValueError):
        return None
    return os.fdopen(fd, "w", encoding=stream.encoding or "utf-8", errors=stream.errors or "strict")


def draw_through_own_fd(app: App[Any]) -> None:
    """Make ``app`` draw through a duplicate of the terminal's fd (POSIX terminals only; else unchanged)."""
    if sys.platform == "win32":
        return
    from textual.drivers.linux_driver import LinuxDriver

    if not issubclass(app.driver_class, LinuxDriver):
        return

    base: Any = app.driver_class

    class OwnFdDriver(base):  # type: ignore[misc]
        """Textual's Linux driver, writing to its own duplicate of the terminal fd."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            stream = _terminal_stream()
            if stream is not None:
                self._file = stream

        def _get_terminal_size(self) -> tuple[int, int]:
            try:
                size = os.get_terminal_size(self._file.fileno())
            except (OSError, ValueError, AttributeError):
                return super()._get_terminal_size()  # type: ignore[no-any-return]
            return size.columns, size.lines

    app.driver_class = OwnFdDriver
