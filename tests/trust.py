"""The checks every trust-corpus case makes (issue 7): exit status, one message, no traceback, files unchanged.

A case runs the real console entry point (``python -m tui ...``) in a subprocess. Cases are
slow (each imports torch), so a module runs its cases at once with :func:`run_all`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIT_USER_ERROR = 2


def run_nnview(
    args: Sequence[str],
    *,
    cwd: Path | str = ROOT,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui ARGS`` (the ``nnview`` console script) and capture what it printed."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "120", **(env or {})}
    environment.pop("FORCE_COLOR", None)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_all(cases: Mapping[str, Sequence[str]], **kwargs: object) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run many cases at once (two at a time per core); returns name -> completed process."""
    with ThreadPoolExecutor(max_workers=max(2, 2 * (os.cpu_count() or 1))) as pool:
        futures = {name: pool.submit(run_nnview, args, **kwargs) for name, args in cases.items()}  # type: ignore[arg-type]
        return {name: future.result() for name, future in futures.items()}


def flat(text: str) -> str:
    """Whitespace folded, so a message wrapped by the terminal width still matches."""
    return " ".join(text.split())


def assert_user_error(proc: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Exit 2, no Python traceback anywhere, and every phrase in the message; returns the message."""
    both = proc.stdout + proc.stderr
    assert proc.returncode == EXIT_USER_ERROR, f"exit {proc.returncode}, expected 2:\n{both[-3000:]}"
    assert "Traceback" not in both, both[-3000:]
    message = flat(both)
    for phrase in phrases:
        assert flat(phrase) in message, f"{phrase!r} not in:\n{both[-3000:]}"
    return message


def file_hashes(folder: Path | str) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    base = Path(folder)
    return {
        str(path.relative_to(base)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(base.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@contextlib.contextmanager
def files_unchanged(folder: Path | str, *, may_add: Sequence[str] = ()) -> Iterator[None]:
    """Assert that every file that was in ``folder`` before is byte-for-byte the same after.

    Args:
        folder: the folder whose files the user made.
        may_add: relative paths that may appear (the output the user named); nothing else may.
    """
    before = file_hashes(folder)
    yield
    after = file_hashes(folder)
    changed = sorted(name for name, digest in before.items() if after.get(name) != digest)
    assert not changed, f"files changed or removed: {changed}"
    added = sorted(set(after) - set(before) - set(may_add))
    assert not added, f"files written that nobody named: {added}"
