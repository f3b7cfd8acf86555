"""``nnview summary`` prints exactly the stored text for every bundled model, at 100 and 80 columns.

The goldens live in ``tests/golden/summaries/``; after an intended change to the output, rewrite them with
``pytest tests/golden --update-golden`` (or ``NNVIEW_UPDATE_GOLDEN=1``) and read the diff before committing.
The 5,000-module model keeps its first and last 10 lines. Nothing printed depends on random weights or
data (shapes, counts, MACs, memory), and each run is made twice to show it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MODELS, ROOT
from tui.commands.main import main

GOLDEN = Path(__file__).parent / "summaries"
DEEP = ROOT / "bench" / "models" / "deep5k.py"
WIDTHS = (100, 80)
FILES = sorted(MODELS.glob("*.py"))
CASES = [(path, width) for path in [*FILES, DEEP] for width in WIDTHS]
EDGE_LINES = 10  # of the 5,000-module table, the first and last lines are kept


def printed(path: Path, width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``COLUMNS=width nnview summary PATH`` prints, run from the repository root."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", str(width))
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NNVIEW_BENCH_PAIRS"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    assert main(["summary", str(path.relative_to(ROOT))]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    if path == DEEP:
        lines = out.splitlines()
        out = "\n".join([*lines[:EDGE_LINES], f"... {len(lines) - 2 * EDGE_LINES} lines ...", *lines[-EDGE_LINES:]])
        out += "\n"
    return out


@pytest.mark.parametrize(("path", "width"), CASES, ids=[f"{p.stem}-{w}" for p, w in CASES])
def test_summary_is_the_golden_text(
    path: Path,
    width: int,
    update_golden: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    golden = GOLDEN / f"{path.stem}.{width}.txt"
    text = printed(path, width, monkeypatch, capsys)
    assert printed(path, width, monkeypatch, capsys) == text  # deterministic: the same twice in one process
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden for {path.name} at {width} columns: run pytest tests/golden --update-golden"
    assert text == golden.read_text()


def test_every_model_file_has_goldens_and_no_golden_is_stale() -> None:
    expected = {f"{path.stem}.{width}.txt" for path, width in CASES}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected


def test_no_line_is_wider_than_the_terminal() -> None:
    for path, width in CASES:
        lines = (GOLDEN / f"{path.stem}.{width}.txt").read_text().splitlines()
        assert max(len(line) for line in lines) <= width, (path.name, width)
