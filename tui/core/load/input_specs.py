"""``--input`` shapes: parsed, and their memory checked before anything is allocated.

No torch here, so the command line refuses ``--input 99999999x99999`` before ``import torch`` and
long before a 36 TiB allocation fails with a RuntimeError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from tui.core.records import ErrorRecord, NnviewError, TensorSpec, shape_arg

# Every dtype name --input accepts: its canonical name (as torch prints it) and its size in bytes.
DTYPE_NAMES: dict[str, tuple[str, int]] = {
    "float": ("float32", 4),
    "float32": ("float32", 4),
    "float64": ("float64", 8),
    "double": ("float64", 8),
    "half": ("float16", 2),
    "float16": ("float16", 2),
    "bfloat16": ("bfloat16", 2),
    "long": ("int64", 8),
    "int64": ("int64", 8),
    "int": ("int32", 4),
    "int32": ("int32", 4),
    "int16": ("int16", 2),
    "int8": ("int8", 1),
    "uint8": ("uint8", 1),
    "bool": ("bool", 1),
}
BYTES_PER_VALUE = dict(DTYPE_NAMES.values())
# Past this an input is almost surely a typo; the forward would need several times more anyway.
MAX_INPUT_BYTES = 4 * 1024**3
# torch sizes are signed 64-bit: a shape with more values than this cannot exist even on meta.
MAX_VALUES = 2**62
_SHAPE = re.compile(r"^\s*(-?\d+(?:\s*[xX,]\s*-?\d+)*)\s*(?::\s*(\S*))?\s*$")
FORMS = "write shapes like --input 4x5 or --input 2x12:long"


def _error(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def parse_input_spec(text: str) -> TensorSpec:
    """Parse ``4x5`` or ``2x12:long`` into a :class:`TensorSpec`.

    Raises:
        NnviewError: kind ``input`` naming what is wrong (not a shape, a size below 1, an unknown
            dtype) with the accepted forms in the hint.
    """
    match = _SHAPE.match(text)
    if not match:
        raise _error(f"cannot read --input {text!r}", f"{FORMS} (sizes separated by x)")
    dims = tuple(int(d) for d in re.split(r"\s*[xX,]\s*", match.group(1)))
    if any(d < 1 for d in dims):
        bad = next(d for d in dims if d < 1)
        what = "a zero-sized dimension" if bad == 0 else f"a negative size ({bad})"
        raise _error(f"--input {text!r} has {what}", f"use sizes >= 1: {FORMS}")
    dtype = "float32" if match.group(2) is None else match.group(2).lower()  # "4x5:" names no dtype
    if dtype not in DTYPE_NAMES:
        raise _error(f"--input {text!r}: unknown dtype {dtype!r}", f"{FORMS} (dtypes: {', '.join(DTYPE_NAMES)})")
    if math.prod(dims) > MAX_VALUES:
        raise _error(f"--input {text!r} has {math.prod(dims):,} values, more than torch can index", FORMS)
    return TensorSpec(dims, DTYPE_NAMES[dtype][0])


def _bytes_text(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def input_bytes(specs: Sequence[TensorSpec]) -> int:
    """Bytes the tensors of ``specs`` take together."""
    return sum(math.prod(s.shape) * BYTES_PER_VALUE.get(s.dtype, 8) for s in specs)


def check_input_size(specs: Sequence[TensorSpec], fix: str) -> None:
    """Refuse inputs over ``MAX_INPUT_BYTES`` before they are allocated.

    Args:
        specs: the input shapes about to be made.
        fix: what the user can change, e.g. ``"a smaller --input shape"``.

    Raises:
        NnviewError: kind ``input`` with the figure, the limit and the fix (``--meta`` allocates nothing).
    """
    size = input_bytes(specs)
    if size <= MAX_INPUT_BYTES:
        return
    shapes = ", ".join(f"{shape_arg(s.shape)}:{s.dtype}" for s in specs)
    raise _error(
        f"the input {shapes} needs {_bytes_text(size)} of memory; nnview makes inputs of at most "
        f"{_bytes_text(MAX_INPUT_BYTES)}",
        f"use {fix}, or --meta to trace shapes and MACs without allocating anything",
    )
