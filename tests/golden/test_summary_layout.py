"""The summary table's plain-line layout is what ``rich.table`` drew before it, at every width.

The table used to be a ``rich.table.Table``; it is now written line by line (5,000 rows cost Rich seconds).
The oracle here is that old table, built the old way, so any drift in widths, cutting, padding,
multi-line cells or wide characters shows as a diff. Below 21 columns (a column shrunk to nothing) the
two may differ: no terminal is that narrow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from tests.conftest import MODELS, ROOT
from tui.core.records import TraceResult
from tui.core.session import summarize
from tui.report import HEADERS, column_widths, layer_rows, layer_table, summary_view

WIDE_NAMES = '''
import torch
from torch import nn


class Wide(nn.Module):
    """Wide characters and a long name: cut by cells, not characters."""

    def __init__(self) -> None:
        super().__init__()
        self.编码器层 = nn.Linear(5, 4)
        self.a_rather_long_attribute_name_for_a_layer = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.a_rather_long_attribute_name_for_a_layer(self.编码器层(x + y))


example_input = (torch.zeros(2, 5), torch.zeros(2, 5))
'''


def rich_table(result: TraceResult, width: int) -> Table:
    """The table as nnview built it with ``rich.table`` up to issue 8."""
    rows = layer_rows(result)
    widest = [
        max([len(HEADERS[i])] + [max(Console().measure(line).maximum for line in row[i].split("\n")) for row in rows])
        for i in range(len(HEADERS))
    ]
    fixed = sum(widest[2:]) + len(HEADERS) - 1
    spare = max(width - fixed, 18)
    layer_w = min(widest[0], max(10, spare - min(widest[1], spare // 2)))
    type_w = min(widest[1], max(8, spare - layer_w))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0, expand=False)
    table.add_column("Layer", no_wrap=True, overflow="ellipsis", width=layer_w)
    table.add_column("Type", no_wrap=True, overflow="ellipsis", width=type_w)
    for header, size in zip(HEADERS[2:6], widest[2:6], strict=False):
        table.add_column(header, no_wrap=True, width=size)
    for header in HEADERS[6:]:
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def render(renderable: RenderableType, width: int, colour: bool = False) -> str:
    console = Console(width=width, color_system="standard" if colour else None, force_terminal=colour, highlight=False)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TraceResult]:
    wide = tmp_path_factory.mktemp("wide") / "wide.py"
    wide.write_text(WIDE_NAMES, encoding="utf-8")
    return {
        "tiny_gpt": summarize(str(MODELS / "tiny_gpt.py"), budget_bytes=0),
        "normal_output": summarize(str(ROOT / "tests" / "corpus" / "peer" / "out_normal.py"), budget_bytes=0),
        "wide": summarize(str(wide), budget_bytes=0),
    }


@pytest.mark.parametrize("name", ["tiny_gpt", "normal_output", "wide"])
def test_plain_lines_match_the_rich_table_at_every_width_up_to_130(name: str, results: dict[str, TraceResult]) -> None:
    result = results[name]
    rows = layer_rows(result)
    squeezed = [width for width in range(1, 131) if min(column_widths(rows, width)) == 0]
    assert max(squeezed) < 45  # only absurd widths shrink a column to nothing
    for width in range(1, 131):
        if width not in squeezed:
            ours = render(layer_table(result, width=width), width)
            assert ours == render(rich_table(result, width), width), f"{name} at {width} columns"


def test_at_80_columns_shapes_and_numbers_are_whole_and_long_names_end_in_an_ellipsis(
    results: dict[str, TraceResult],
) -> None:
    assert render(layer_table(results["wide"], width=80), 80).splitlines() == [
        "Layer                          Type   Input Weight Output Activation Params MACs",
        "─" * 80,
        "Wide                           Wide   (2,5) -      (2,3)  -              39   64",
        "                                      (2,5)                                     ",
        "  编码器层                     Linear (2,5) (4,5)  (2,4)  -              24   40",
        "  a_rather_long_attribute_nam… Linear (2,4) (3,4)  (2,3)  -              15   24",
    ]


def test_a_wide_character_is_cut_by_cells_not_characters(results: dict[str, TraceResult]) -> None:
    rows = render(layer_table(results["wide"], width=40), 40).splitlines()
    assert rows[4] == "  编码器… Li… (… (4… (2,… -         24 …"
    assert rows[5] == "  a_rath… Li… (… (3… (2,… -         15 …"


def test_headers_are_bold_and_rows_plain_on_a_colour_terminal(results: dict[str, TraceResult]) -> None:
    text = render(summary_view(summarize(str(MODELS / "simple.py"), budget_bytes=0), width=100), 100, colour=True)
    bold = "\x1b[1m{}\x1b[0m".format
    assert text.splitlines()[:4] == [
        bold("SimpleNN  (models/simple.py)").replace("models/simple.py", str(MODELS / "simple.py")),
        " ".join(bold(h) for h in ("Layer   ", "Type    ", "Input ", "Weight", "Output", "Activation", "Params"))
        + " "
        + bold("MACs"),
        "─" * 61,
        "SimpleNN SimpleNN (4,5)  -      (4,3)  -             147  512",
    ]


def test_column_widths_fit_the_widest_cell_and_cut_only_layer_and_type(results: dict[str, TraceResult]) -> None:
    rows = layer_rows(results["tiny_gpt"])
    assert column_widths(rows, 120) == [10, 19, 10, 8, 10, 10, 6, 5]  # "      proj", "CausalSelfAttention"
    assert column_widths(rows, 80) == [10, 14, 10, 8, 10, 10, 6, 5]  # Type gets what the whole columns leave
    assert sum(column_widths(rows, 80)) + 7 == 80


def test_the_readme_block_is_what_the_cli_prints_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.commands.main import main

    sample = (ROOT / "README.md").read_text().split("$ nnview summary models/simple.py\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["summary", "models/simple.py"]) == 0
    assert capsys.readouterr().out == sample


def test_models_folder_is_what_the_goldens_cover() -> None:
    assert sorted(p.name for p in Path(MODELS).glob("*.py")) == [
        "digits_cnn.py",
        "fashion_mlp.py",
        "fold.py",
        "simple.py",
        "tiny_gpt.py",
        "xor.py",
    ]
