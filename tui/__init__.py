"""nnview: see inside PyTorch models from the terminal.

``from tui import summary, explore`` (see :mod:`tui.api`); ``from tui.probe import Probe`` for your own
training loop. Importing ``tui`` itself loads neither torch nor a terminal library.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "explore", "summary"]


def __getattr__(name: str) -> Any:
    if name in ("summary", "explore", "Summary"):
        from tui import api

        return getattr(api, name)
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
