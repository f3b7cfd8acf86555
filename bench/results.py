"""Where the benchmarks' results go: full tables in bench/RESULTS.md, headline ratios in README.md.

Every benchmark's ``--write-results`` calls :func:`write_results` once. Both files hold one block per
benchmark between the same pair of markers, ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
(NAME: trace, startup, summary, bandwidth, train, probe); only what lies between them is replaced, so the
prose around the blocks is written by hand.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "bench" / "RESULTS.md"
NAMES = ("trace", "startup", "summary", "bandwidth", "train", "probe")


def markers(name: str) -> tuple[str, str]:
    """The opening and closing markers of benchmark ``name``'s block."""
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def machine_note() -> str:
    """One line: OS, cores, torch threads, library versions and today's date."""
    import torch
    import torchinfo

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), torchinfo {torchinfo.__version__}, Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}"
    )


def command_line(script: str, package: str | None, argv: Sequence[str] | None) -> str:
    """The command that ran a benchmark: ``python bench/NAME.py ARGS`` or ``python -m bench.NAME ARGS``.

    ``script`` is the module's ``__file__``, ``package`` its ``__package__`` (empty when run as a
    script), ``argv`` what ``main`` was given (``None``: the process's own arguments).
    """
    name = Path(script).stem
    words = ["python", "-m", f"bench.{name}"] if package else ["python", f"bench/{name}.py"]
    return shlex.join([*words, *(sys.argv[1:] if argv is None else argv)])


def write_block(path: Path, name: str, block: str) -> None:
    """Replace what lies between benchmark ``name``'s markers in the file at ``path`` with ``block``."""
    start, end = markers(name)
    text = path.read_text()
    pattern = re.compile(f"{re.escape(start)}.*?{re.escape(end)}", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no {start} ... {end} markers")
    path.write_text(pattern.sub(lambda _: f"{start}\n{block}\n{end}", text, count=1))


def write_results(
    name: str,
    full: str,
    headline: str,
    command: str,
    *,
    readme: Path = README,
    results: Path = RESULTS,
) -> None:
    """Write one benchmark's run: ``full`` into ``results``, ``headline`` into ``readme``.

    Both blocks end with the machine note and ``command``; the README's points to the full tables.
    """
    note = f"Machine: {machine_note()}.\n\nCommand: `{command}`"
    write_block(results, name, f"{full}\n\n{note}")
    link = f"Full tables: [bench/RESULTS.md](bench/RESULTS.md#{name})."
    write_block(readme, name, f"{headline}\n\n{link} {note}")
