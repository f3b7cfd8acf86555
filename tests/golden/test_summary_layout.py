"""The summary table's layout: as ``rich.table`` drew it wherever the whole table fits, and how it gives way.

The table used to be a ``rich.table.Table``; it is now written line by line (5,000 rows cost Rich seconds).
Where every cell fits whole, the oracle is that old table, built the old way, so any drift in widths,
padding, multi-line cells or wide characters shows as a diff. Narrower, the table gives way in a fixed
order (issue 9): the Activation column to its content, Type, names cut from the left, the Input column;
shapes and numbers stay whole down to ~60 columns. Lines under the table break between phrases.
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
from tui.report import HEADERS, fit_table, layer_rows, layer_table, summary_view, table_lines
from tui.text import cut_left, fold_line

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


@pytest.mark.parametrize(("name", "whole"), [("tiny_gpt", 85), ("normal_output", 59), ("wide", 92)])
def test_plain_lines_match_the_rich_table_wherever_the_whole_table_fits(
    name: str, whole: int, results: dict[str, TraceResult]
) -> None:
    result = results[name]
    rows = layer_rows(result)
    assert fit_table(rows, whole).titles == HEADERS and fit_table(rows, whole - 1).titles != HEADERS
    for width in range(whole, 131):
        ours = render(layer_table(result, width=width), width)
        assert ours == render(rich_table(result, width), width), f"{name} at {width} columns"


def test_a_narrower_table_gives_way_in_order_and_keeps_shapes_and_numbers_whole_down_to_52_columns(
    results: dict[str, TraceResult],
) -> None:
    rows = layer_rows(results["tiny_gpt"])
    stages: dict[str, list[int]] = {}
    shapes_and_numbers = {2: 10, 3: 8, 4: 10, 5: 4, 6: 6, 7: 5}  # Input ... MACs, each whole ("gelu" for Act)
    for width in range(8, 131):
        layout = fit_table(rows, width)
        lines = render(layer_table(results["tiny_gpt"], width=width), width).splitlines()
        assert max(map(len, lines)) <= width, width
        shown = dict(zip(layout.columns, layout.widths, strict=True))
        whole = all(shown[i] >= w for i, w in shapes_and_numbers.items() if i in shown)
        stage = "all" if layout.titles == HEADERS else "act" if 2 in layout.columns else "no input"
        stages.setdefault(stage + ("" if whole else ", cut"), []).append(width)
    assert {stage: (min(w), max(w)) for stage, w in stages.items()} == {
        "all": (85, 130),  # every cell whole
        "act": (70, 84),  # the Activation column as wide as "gelu", then Type and names cut
        "no input": (52, 69),  # the Input column left out, with a note; under 59 Type to 3 cells, names alike
        "no input, cut": (8, 51),  # under 52 columns shapes and numbers give way too
    }


def test_at_80_columns_shapes_and_numbers_are_whole_and_long_names_are_cut_from_the_left(
    results: dict[str, TraceResult],
) -> None:
    assert render(layer_table(results["wide"], width=80), 80).splitlines() == [
        "Layer                                 Type   Input Weight Output Act Params MACs",
        "─" * 80,
        "Wide                                  Wide   (2,5) -      (2,3)  -       39   64",
        "                                             (2,5)                              ",
        "  编码器层                            Linear (2,5) (4,5)  (2,4)  -       24   40",
        "  …er_long_attribute_name_for_a_layer Linear (2,4) (3,4)  (2,3)  -       15   24",
    ]


def test_a_wide_character_is_cut_by_cells_not_characters(results: dict[str, TraceResult]) -> None:
    assert render(layer_table(results["wide"], width=40), 40).splitlines() == [
        "Layer     Ty… Weig… Output A… Params MA…",
        "─" * 40,
        "Wide      Wi… -     (2,3)  -      39  64",  # the Input column's second line went with it
        "  …码器层 Li… (4,5) (2,4)  -      24  40",
        "  …_layer Li… (3,4) (2,3)  -      15  24",
        "Input column left out to fit 40 columns",
        "  (a wider terminal or --json shows it).",
    ]
    assert cut_left("  编码器层", 7) == "  …器层" and cut_left("  编码器层", 6) == "  … 层"


def test_names_under_one_parent_are_cut_no_further_than_keeps_them_apart() -> None:
    rows = [
        ("Model", "Model", "(4,16)", "-", "(4,16,512)", "-", "2.1K", "8.19K"),
        ("  block_encoder_norm", "LayerNorm", "(4,16,512)", "(512)", "(4,16,512)", "-", "1.02K", "-"),
        ("  block_decoder_norm", "LayerNorm", "(4,16,512)", "(512)", "(4,16,512)", "-", "1.02K", "-"),
    ]
    layout = fit_table(rows, 59)
    assert layout.widths[:2] == (14, 9)  # not 10 (2 + NAME_FLOOR): "  …oder_norm" twice
    assert [line[:14] for line in table_lines(rows, layout)] == ["Model         ", "  …ncoder_norm", "  …ecoder_norm"]
    assert fit_table(rows, 55).widths[:2] == (14, 5)  # Type gives way first: "Laye…"
    assert fit_table(rows, 52).widths[:2] == (13, 3)  # then, under 54 columns, the names


def test_lines_under_the_table_break_between_phrases() -> None:
    params = "Params: 25,557,032 (trainable 25,557,032, non-trainable 0); parameter memory 97.5 MiB"
    assert fold_line(params, 80) == [
        "Params: 25,557,032 (trainable 25,557,032, non-trainable 0);",
        "  parameter memory 97.5 MiB",
    ]
    assert fold_line(params, 44) == [
        "Params: 25,557,032 (trainable 25,557,032,",
        "  non-trainable 0);",
        "  parameter memory 97.5 MiB",
    ]
    assert fold_line("Input: (4, 3, 224, 224) float32  (inferred from conv1 (Conv2d, in_channels=3))", 60) == [
        "Input: (4, 3, 224, 224) float32",
        "  (inferred from conv1 (Conv2d, in_channels=3))",
    ]
    assert fold_line(params, 86) == [params]
    assert fold_line("a_name_longer_than_the_line rest", 10) == ["a_name_longer_than_the_line", "  rest"]


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


def test_column_widths_fit_the_widest_cell_and_cut_nothing_at_80_columns(results: dict[str, TraceResult]) -> None:
    rows = layer_rows(results["tiny_gpt"])
    assert fit_table(rows, 120).widths == (10, 19, 10, 8, 10, 10, 6, 5)  # "      proj", "CausalSelfAttention"
    narrow = fit_table(rows, 80)
    assert narrow.widths == (10, 19, 10, 8, 10, 4, 6, 5)  # "gelu": the Activation column gives CausalSelfAttention room
    assert narrow.titles == ("Layer", "Type", "Input", "Weight", "Output", "Act", "Params", "MACs")
    assert sum(narrow.widths) + 7 == 79


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
