"""bench/results.py: each benchmark's full tables go to bench/RESULTS.md, its headline to README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import results
from tests.conftest import ROOT


@pytest.mark.parametrize("path", [results.README, results.RESULTS], ids=["README.md", "RESULTS.md"])
def test_both_files_hold_one_block_per_benchmark_in_order(path: Path) -> None:
    text = path.read_text()
    opened = [text.index(results.markers(name)[0]) for name in results.NAMES]
    closed = [text.index(results.markers(name)[1]) for name in results.NAMES]
    assert opened == sorted(opened) and all(a < b for a, b in zip(opened, closed, strict=True))
    for name in results.NAMES:
        assert text.count(results.markers(name)[0]) == text.count(results.markers(name)[1]) == 1


def test_results_has_a_heading_for_each_benchmark_the_readme_links_to() -> None:
    headings = [line for line in results.RESULTS.read_text().splitlines() if line.startswith("## ")]
    assert headings == [f"## {name}" for name in results.NAMES]


def test_write_results_replaces_only_that_benchmarks_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(results, "machine_note", lambda: "a machine")
    readme, full = tmp_path / "README.md", tmp_path / "RESULTS.md"
    for path in (readme, full):
        path.write_text(
            "intro\n<!-- bench:train -->\nold\n<!-- /bench:train -->\n"
            "<!-- bench:trace -->\nkeep\n<!-- /bench:trace -->\n"
        )
    results.write_results("train", "| full |", "ratio 0.9", "python bench/train.py", readme=readme, results=full)
    assert full.read_text() == (
        "intro\n<!-- bench:train -->\n| full |\n\nMachine: a machine.\n\nCommand: `python bench/train.py`\n"
        "<!-- /bench:train -->\n<!-- bench:trace -->\nkeep\n<!-- /bench:trace -->\n"
    )
    assert readme.read_text() == (
        "intro\n<!-- bench:train -->\nratio 0.9\n\nFull tables: [bench/RESULTS.md](bench/RESULTS.md#train). "
        "Machine: a machine.\n\nCommand: `python bench/train.py`\n"
        "<!-- /bench:train -->\n<!-- bench:trace -->\nkeep\n<!-- /bench:trace -->\n"
    )


def test_a_file_without_the_markers_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("no markers\n")
    with pytest.raises(SystemExit, match=re.escape("no <!-- bench:startup --> ... <!-- /bench:startup --> markers")):
        results.write_block(path, "startup", "x")
    assert path.read_text() == "no markers\n"


def test_command_line_names_the_script_or_the_module() -> None:
    script = str(ROOT / "bench" / "train.py")
    assert results.command_line(script, "", ["--quick"]) == "python bench/train.py --quick"
    assert results.command_line(script, "bench", ["--rounds", "2"]) == "python -m bench.train --rounds 2"
