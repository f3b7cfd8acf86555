"""``COLUMNS=80 nnview summary`` of real-world-sized models: every shape and count whole, names distinct.

The models in ``tests/corpus/wide/`` (a CIFAR-style CNN, ResNet-50, GPT-2 small) are wider than 80
columns with every cell whole. Each is summarised once as a table and once as ``--json`` (both with
``--meta``: no weights are allocated), and every row of the table is read back and checked against the
same layer in the JSON: shapes as written there, Params and MACs to three significant figures, names
whole or cut from the left (``…``) and never alike under one parent, and no line over 80 columns.
The three tables are also golden texts (``tests/golden/summaries/wide/``).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from tests.conftest import ROOT
from tui.commands.main import main

WIDE = ROOT / "tests" / "corpus" / "wide"
GOLDEN = Path(__file__).parent / "summaries" / "wide"
MODELS = ("cifar_cnn", "resnet50", "gpt2_small")
ALL_COLUMNS = ["Layer", "Type", "Input", "Weight", "Output", "Act", "Params", "MACs"]
NO_INPUT = ["Layer", "Type", "Weight", "Output", "Act", "Params", "MACs"]
NOTE = "Input column left out to fit 80 columns (a wider terminal or --json shows it)."
SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def run(*args: str) -> str:
    """What ``COLUMNS=80 nnview summary --meta ARGS`` prints, run from the repository root."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.chdir(ROOT)
        patch.setenv("COLUMNS", "80")
        for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
            patch.delenv(name, raising=False)
        assert main(["summary", "--meta", *args]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def printed() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each model's 80-column table and its JSON."""
    found = {}
    for stem in MODELS:
        path = str((WIDE / f"{stem}.py").relative_to(ROOT))
        found[stem] = (run(path), json.loads(run(path, "--json")))
    return found


def label(layer: dict[str, Any]) -> str:
    """The row's whole name: the last part of the module's name, ``#2`` on a second call; the root's type."""
    local = layer["name"].rsplit(".", 1)[-1] if layer["name"] else layer["type"]
    return f"{local} #{layer['call'] + 1}" if layer["call"] else local


def shape(dims: list[int] | None) -> str:
    return "-" if dims is None else "(" + ",".join(map(str, dims)) + ")"


def assert_figure(cell: str, exact: int, tied: bool = False) -> None:
    """``cell`` is ``exact`` to three significant figures (``25.6M``, ``472M``, ``128``), whole, or ``-`` for 0."""
    if exact == 0:
        assert cell == "-"
        return
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)(\*?)", cell)
    assert match, f"{cell!r} is not a whole figure"
    assert match[3] == ("*" if tied else "")
    shown = float(match[1]) * SCALE[match[2]]
    assert abs(shown - exact) <= 0.005 * exact, (cell, exact)
    assert match[2] or int(match[1]) == exact  # below 1,000 the figure is the number itself


def rows_of(text: str, layers: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """The table's titles, each row's cells by title (the Layer cell with its indentation), the lines below."""
    lines = text.splitlines()
    titles = lines[1].split()
    assert lines[2] == "─" * 80
    rows = []
    for line in lines[3 : 3 + len(layers)]:
        cells = line.rsplit(None, len(titles) - 1)  # only the Layer cell holds spaces (indentation, "relu #2")
        rows.append(dict(zip(titles, [cells[0].rstrip(), *cells[1:]], strict=True)))
    return titles, rows, lines[3 + len(layers) :]


@pytest.mark.parametrize("stem", MODELS)
def test_no_line_is_wider_than_80_columns(stem: str, printed: dict[str, tuple[str, dict[str, Any]]]) -> None:
    text, _ = printed[stem]
    widths = [cell_len(line) for line in text.splitlines()]
    assert max(widths) <= 80
    assert widths[2] == 80  # the table takes the room: the rule under the titles is as wide as the terminal


@pytest.mark.parametrize(
    ("stem", "columns"), [("cifar_cnn", ALL_COLUMNS), ("resnet50", NO_INPUT), ("gpt2_small", NO_INPUT)]
)
def test_every_shape_and_figure_is_whole_and_matches_the_json(
    stem: str, columns: list[str], printed: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    text, data = printed[stem]
    layers = data["layers"]
    titles, rows, below = rows_of(text, layers)
    assert titles == columns  # the Activation column shrinks to "Act"; Input goes only when it must
    assert (below[0] == NOTE) == ("Input" not in titles)
    assert len(layers) == {"cifar_cnn": 12, "resnet50": 183, "gpt2_small": 163}[stem]
    for row, layer in zip(rows, layers, strict=True):
        assert row["Weight"] == shape(layer["weight"]), layer["name"]
        assert row["Output"] == shape(layer["outputs"][0]) and len(layer["outputs"]) == 1, layer["name"]
        if "Input" in row:
            assert row["Input"] == shape(layer["inputs"][0]) and len(layer["inputs"]) == 1, layer["name"]
        assert row["Act"] == (layer["activation"] or "-")
        assert_figure(row["Params"], layer["params_total"], tied=bool(layer["shared_params"]))
        assert_figure(row["MACs"], layer["macs"])
        kind = row["Type"]  # cut at its end, if at all: "AdaptiveAvgPo…"
        assert kind == layer["type"] or (kind.endswith("…") and layer["type"].startswith(kind[:-1]) and len(kind) >= 10)


@pytest.mark.parametrize("stem", MODELS)
def test_names_are_whole_or_cut_from_the_left_and_siblings_stay_distinct(
    stem: str, printed: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    text, data = printed[stem]
    _, rows, _ = rows_of(text, data["layers"])
    siblings: dict[str, list[str]] = {}
    cut = 0
    for row, layer in zip(rows, data["layers"], strict=True):
        cell = row["Layer"]
        name = cell.lstrip(" ")
        assert len(cell) - len(name) == 2 * layer["depth"]  # the tree's indentation is kept
        whole = label(layer)
        assert name == whole or (name.startswith("…") and whole.endswith(name[1:]) and len(name) >= 8), (name, whole)
        cut += name != whole
        siblings.setdefault(layer["parent"] or "", []).append(name)
    for parent, names in siblings.items():
        assert len(set(names)) == len(names), (parent, names)
    assert cut == {"cifar_cnn": 1, "resnet50": 0, "gpt2_small": 0}[stem]  # CIFAR's "…pout #2"; the rest fit


@pytest.mark.parametrize("stem", MODELS)
def test_the_lines_under_the_table_break_between_phrases(
    stem: str, printed: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    text, data = printed[stem]
    _, _, below = rows_of(text, data["layers"])
    joined: list[str] = []
    for line in below:
        if line.startswith("  "):  # a continuation: the line before ended a phrase or a list item
            assert joined[-1].endswith((";", ",")), (joined[-1], line)
            joined[-1] += line[1:]
        else:
            joined.append(line)
    totals = data["totals"]
    params = (
        f"Params: {totals['params']:,} (trainable {totals['trainable']:,}, non-trainable {totals['non_trainable']:,});"
    )
    assert any(line.startswith(params + " parameter memory ") for line in joined)
    assert any(line.startswith("MACs: ") and f"({totals['macs']:,}); activation memory" in line for line in joined)
    # each line that broke was too long for one line: nothing is broken needlessly
    assert all(cell_len(line) > 80 for line in joined if line not in below)


@pytest.mark.parametrize("stem", MODELS)
def test_summary_at_80_columns_is_the_golden_text(
    stem: str, printed: dict[str, tuple[str, dict[str, Any]]], update_golden: bool
) -> None:
    text, _ = printed[stem]
    golden = GOLDEN / f"{stem}.80.txt"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden for {stem} at 80 columns: run pytest tests/golden --update-golden"
    assert text == golden.read_text()
