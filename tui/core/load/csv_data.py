"""A CSV file as training data, every mistake named by its line and column before training starts."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from tui.core.records import ErrorRecord, NnviewError


@dataclass(frozen=True)
class CsvTable:
    """The numbers of a CSV file: features, targets, and the file line of every sample.

    Attributes:
        x: one row of feature values per sample.
        y: the targets: ``long`` class ids (integer or text labels) or ``float32`` values.
        lines: the line number in the file of each sample (for messages).
        column: the target column's name.
    """

    x: list[list[float]]
    y: torch.Tensor
    lines: list[int]
    column: str


def _error(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _lines(numbers: list[int]) -> str:
    """``line 4`` / ``lines 4, 9, 12 (and 3 more)``."""
    more = f" (and {len(numbers) - 5} more)" if len(numbers) > 5 else ""
    return f"line{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers[:5]))}{more}"


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Every non-blank row with its line number; UTF-8 (a byte-order mark is allowed)."""
    try:
        raw = path.read_bytes()
        # Decoded whole (not by the file object's chunks), so the error's offset is the file's.
        reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _error(
            f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} cannot be decoded",
            f"save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8 {path.name} > fixed.csv)",
        ) from exc
    except csv.Error as exc:
        raise _error(f"{path} is not a readable CSV file: {exc}", "check the quoting on that line") from exc
    except OSError as exc:
        raise _error(f"cannot read {path}: {exc.strerror}", "check the path and its permissions") from exc
    return rows


def read_csv(path: Path, target_column: str | None) -> CsvTable:
    """Read ``path``: a header, then one sample per line; the target is ``target_column`` or the last column.

    Args:
        path: the CSV file.
        target_column: the target column's name (``--target``), or ``None`` for the last column.

    Raises:
        NnviewError: kind ``input`` naming the line and column of the first mistake: a row with
            too few or too many cells, a feature that is not a number, NaN or infinite values, a
            missing target column, too few rows, or bytes that are not UTF-8.
    """
    rows = _read_rows(path)
    if len(rows) < 3:
        what = "is empty" if not rows else f"has {len(rows) - 1} data row{'s' if len(rows) != 2 else ''}"
        raise _error(f"{path} {what}; training needs a header line and at least two rows", "add rows to the file")
    (_, header), body = rows[0], rows[1:]
    header = [name.strip() for name in header]
    column = target_column if target_column is not None else header[-1]
    if column not in header:
        raise _error(f"{path} has no column {column!r} (columns: {', '.join(header)})", "pick one with --target")
    index = header.index(column)
    for line, row in body:
        if len(row) != len(header):
            raise _error(
                f"{path} line {line} has {len(row)} cell{'s' if len(row) != 1 else ''} but the header has "
                f"{len(header)} columns ({', '.join(header)})",
                f"give line {line} one value per column (a missing value cannot be guessed)",
            )
    x: list[list[float]] = []
    for line, row in body:
        values = []
        for i, cell in enumerate(row):
            if i == index:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                shown = repr(cell) if cell.strip() else "empty"
                raise _error(
                    f"{path} line {line}, column {header[i]!r}: {shown} is not a number",
                    f"use numbers in every feature column (only the target column {column!r} may hold text "
                    "labels), or drop the column",
                ) from None
        x.append(values)
    lines = [line for line, _ in body]
    bad = [line for line, values in zip(lines, x, strict=True) if not all(map(math.isfinite, values))]
    if bad:
        raise _error(
            f"{path} has NaN or infinite feature values on {_lines(bad)}",
            "fill in or drop those rows: training on NaN makes every weight NaN",
        )
    y = _targets(path, [row[index] for _, row in body], lines, column)
    return CsvTable(x, y, lines, column)


def _targets(path: Path, labels: list[str], lines: list[int], column: str) -> torch.Tensor:
    """Integer labels -> class ids, other numbers -> float targets, text -> class ids in sorted order."""
    try:
        values = [float(v) for v in labels]
    except ValueError:
        names = sorted(set(labels))  # text labels become class ids in sorted order
        return torch.tensor([names.index(v) for v in labels])
    bad = [line for line, v in zip(lines, values, strict=True) if not math.isfinite(v)]
    if bad:
        raise _error(
            f"{path} has NaN or infinite targets (column {column!r}) on {_lines(bad)}",
            "fill in or drop those rows",
        )
    if not all(v.is_integer() for v in values):
        return torch.tensor(values)
    return torch.tensor(values).long()
