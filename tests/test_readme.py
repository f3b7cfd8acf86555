"""The README's commands are the ones CI runs, and its sample output is what nnview prints."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [block.strip() for block in re.findall(r"```\n(pip install[^\n]*)\n```", text)]


def test_readme_has_the_run_and_the_test_command() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("&& nnview")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_readme_sample_is_what_nnview_prints_at_80_columns() -> None:
    from rich.console import Console

    from tui.core.session import summarize
    from tui.report import summary_view

    text = (ROOT / "README.md").read_text()
    sample = text.split("$ nnview summary models/simple.py\n", 1)[1].split("```", 1)[0].rstrip()
    console = Console(width=80, color_system=None, highlight=False)
    with console.capture() as captured:
        console.print(summary_view(summarize("models/simple.py"), width=80))
    assert captured.get().rstrip() == sample
