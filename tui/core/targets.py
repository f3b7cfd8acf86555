"""What the user typed, split into a file or module and a name; no torch here, so a bad path is
reported before the seconds ``import torch`` takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tui.core.records import ErrorRecord, NnviewError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class ModelTarget:
    """What the user typed, split: a file path or dotted module, and an optional attribute."""

    location: str
    attr: str | None
    is_file: bool


def parse_target(text: str) -> ModelTarget:
    """Split ``FILE[:NAME]`` or ``pkg.module[:attr]`` into its parts.

    Raises:
        NnviewError: kind ``load`` when the file does not exist, or ``no_model`` for an empty target.
    """
    location, attr = text, None
    head, sep, tail = text.rpartition(":")
    if sep and _IDENT.match(tail) and head:
        location, attr = head, tail
    path = Path(location)
    if location.endswith(".py") or path.exists() or "/" in location or "\\" in location:
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise NnviewError(
                ErrorRecord(
                    kind="load",
                    message=f"model file {location} {what}",
                    hint="check the path, e.g. models/simple.py",
                )
            )
        return ModelTarget(str(path), attr, True)
    if _DOTTED.match(location):
        return ModelTarget(location, attr, False)
    raise NnviewError(
        ErrorRecord(
            kind="load",
            message=f"{text!r} is neither an existing file nor an importable module path",
            hint="give a file such as models/simple.py, or a module path such as mypkg.models:build_model",
        )
    )
