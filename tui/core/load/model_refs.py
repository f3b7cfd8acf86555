"""What the user typed, split into a file or module and a name; no torch here, so a bad path is
reported before the seconds ``import torch`` takes."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from tui.core.records import ErrorRecord, NnviewError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Model files are source code: the biggest real ones are a few hundred kB. Past this, the file is
# weights or data named .py, and reading it would only exhaust memory.
MAX_SOURCE_BYTES = 10 * 1024 * 1024
_KINDS = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
    (stat.S_ISCHR, "is a character device, not a file"),
    (stat.S_ISBLK, "is a block device, not a file"),
    (stat.S_ISSOCK, "is a socket, not a file"),
)


@dataclass(frozen=True)
class ModelRef:
    """What the user typed, split: a file path or dotted module, and an optional attribute."""

    location: str
    attr: str | None
    is_file: bool


def parse_model_ref(text: str) -> ModelRef:
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
        check_model_file(path)
        return ModelRef(str(path), attr, True)
    if _DOTTED.match(location):
        return ModelRef(location, attr, False)
    raise NnviewError(
        ErrorRecord(
            kind="load",
            message=f"{text!r} is neither an existing file nor an importable module path",
            hint="give a file such as models/simple.py, or a module path such as mypkg.models:build_model",
        )
    )


def check_model_file(path: Path) -> None:
    """Refuse what cannot be a model file before reading a byte of it.

    Raises:
        NnviewError: kind ``load`` for a path that does not exist, a folder, a device (``/dev/zero``),
            a FIFO or socket, a file past :data:`MAX_SOURCE_BYTES`, or one nnview may not read.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        what = "is a broken symbolic link" if os.path.islink(path) else "does not exist"
        raise NnviewError(
            ErrorRecord(kind="load", message=f"model file {path} {what}", hint="check the path, e.g. models/simple.py")
        ) from None
    except OSError as exc:
        raise NnviewError(
            ErrorRecord(
                kind="load",
                message=f"cannot look at model file {path}: {exc.strerror}",
                hint="check the path and the permissions of its folders",
            )
        ) from None
    for test, what in _KINDS:
        if test(info.st_mode):
            raise NnviewError(
                ErrorRecord(
                    kind="load",
                    message=f"model file {path} {what}",
                    hint="give the path of a .py file that defines a torch.nn.Module, e.g. models/simple.py",
                )
            )
    if info.st_size > MAX_SOURCE_BYTES:
        raise NnviewError(
            ErrorRecord(
                kind="load",
                message=f"model file {path} is {_size_text(info.st_size)}: model files are source code, "
                f"and nnview reads at most {_size_text(MAX_SOURCE_BYTES)}",
                hint="give the .py file that defines the model; load weights from a .safetensors file "
                "(nnview train --weights) or inside build_model()",
            )
        )
    if not os.access(path, os.R_OK):
        raise unreadable(path, "permission denied")


def unreadable(path: Path, reason: str) -> NnviewError:
    """The error for a model file that exists but cannot be read."""
    return NnviewError(
        ErrorRecord(
            kind="load",
            message=f"cannot read model file {path}: {reason}",
            hint=f"give yourself read permission (chmod u+r {path}) or run nnview as a user who can read it",
        )
    )


def _size_text(size: int) -> str:
    """``200 MB``, ``10 MB``, ``12.5 MB``: sizes in MiB, as people read them."""
    mib = size / 2**20
    return f"{mib:.0f} MB" if mib >= 100 or mib == int(mib) else f"{mib:.1f} MB"
