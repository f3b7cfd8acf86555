"""Reading a run folder's lines in tests, strictly: every line must be plain JSON (no NaN literals)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _refuse(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON: the probe must write it as a string")


def lines(path: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The records of a rank file (of one ``kind`` if given), each parsed as strict JSON."""
    records = [json.loads(text, parse_constant=_refuse) for text in path.read_text().splitlines()]
    return [r for r in records if kind is None or r["kind"] == kind]
