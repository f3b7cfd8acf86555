"""The served explorer's Textual driver: the web driver, writing through its own duplicate of fd 1.

While a model's code runs, nnview points fds 1 and 2 at a temporary file (``tui.core.guest.output``) so that
the model's prints cannot reach the screen. Textual's web driver writes its frames to fd 1 — the pipe to
textual-serve — so every frame drawn while the model loads or traces would go into that file instead, and
the browser would keep a half-drawn screen until the next key. This driver writes to a duplicate of fd 1
taken when the app starts, before any model code runs (as ``tui.terminal`` does for the terminal driver).
``nnview serve`` names it in ``TEXTUAL_DRIVER`` for each explorer it starts.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from textual.drivers.web_driver import WebDriver


class ServedDriver(WebDriver):
    """Textual's web driver with its own fd: a model's redirected stdout neither swallows nor corrupts frames."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fileno = os.dup(self.fileno)
        self._write = partial(os.write, self.fileno)
