"""``from tui import summary``: the same table and numbers as ``nnview summary``, the model left as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import tui
from tui import summary
from tui.api import Summary

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models"))

from digits_cnn import DigitsCNN  # noqa: E402
from simple import SimpleNN  # noqa: E402


def _cli_json(model_file: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "summary", model_file, "--json"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(("model_file", "make", "example"), [
    ("models/simple.py", SimpleNN, lambda: torch.randn(4, 5)),
    ("models/digits_cnn.py", DigitsCNN, lambda: torch.rand(4, 1, 8, 8)),
])
def test_totals_and_rows_equal_the_clis_json(model_file: str, make, example) -> None:
    cli = _cli_json(model_file)
    torch.manual_seed(0)
    api = summary(make(), example()).to_json()
    assert api["totals"] == cli["totals"]
    keys = ("name", "type", "depth", "inputs", "outputs", "weight", "bias", "params", "macs", "activation")
    assert [{k: row[k] for k in keys} for row in api["layers"]] == [{k: row[k] for k in keys} for row in cli["layers"]]


def test_the_seeds_simple_numbers() -> None:
    result = summary(SimpleNN(), torch.randn(4, 5))
    assert (result.totals.params, result.totals.trainable, result.totals.macs) == (147, 147, 512)
    assert [(r.name, r.outputs[0].shape) for r in result.layers] == [
        ("", (4, 3)), ("fc1", (4, 10)), ("fc2", (4, 6)), ("fc3", (4, 3))
    ]
    assert result.layers[1].activation == "relu"


def test_printed_table_is_the_clis_table() -> None:
    text = summary(SimpleNN(), input_size=(4, 5)).text(80)
    assert text.splitlines()[3:7] == [
        "SimpleNN SimpleNN (4,5)  -      (4,3)  -             147  512",
        "  fc1    Linear   (4,5)  (10,5) (4,10) relu           60  200",
        "  fc2    Linear   (4,10) (6,10) (4,6)  relu           66  240",
        "  fc3    Linear   (4,6)  (3,6)  (4,3)  -              21   72",
    ]
    assert "Input: (4, 5) float32  (input_size)" in text
    assert str(summary(SimpleNN(), input_size=(4, 5))).startswith("SimpleNN  (<in memory>)")


def test_a_narrow_console_gets_a_narrow_table() -> None:
    text = summary(DigitsCNN(), torch.rand(2, 1, 8, 8)).text(50)
    assert max(len(line) for line in text.splitlines()) <= 50


def test_notebook_displays_html_and_plain_text() -> None:
    result = summary(SimpleNN(), torch.randn(4, 5))
    html = result._repr_html_()
    assert html.startswith("<pre") and html.endswith("</pre>") and "fc1" in html and "&lt;in memory&gt;" in html

    class Printer:
        def __init__(self) -> None:
            self.out = ""

        def text(self, value: str) -> None:
            self.out += value

    printer = Printer()
    result._repr_pretty_(printer, False)
    assert "fc3    Linear" in printer.out


def test_several_inputs_keywords_dtypes_and_inference() -> None:
    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 3)
            self.fc = nn.Linear(3, 2)

        def forward(self, ids: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
            return self.fc(self.embed(ids)) * scale

    model = Two()
    ids, scale = torch.randint(0, 10, (2, 7)), torch.ones(1)
    as_tuple = summary(model, (ids, scale))
    as_dict = summary(model, {"ids": ids, "scale": scale})
    assert as_tuple.to_json()["totals"] == as_dict.to_json()["totals"]
    assert [t.shape for t in as_tuple.result.inputs] == [(2, 7), (1,)]
    sized = summary(model, input_size=[(2, 7), (1,)], dtypes=["long", "float32"])
    assert [(t.shape, t.dtype) for t in sized.result.inputs] == [((2, 7), "int64"), ((1,), "float32")]
    inferred = summary(SimpleNN(), batch=3)
    assert inferred.result.input_inferred and inferred.layers[0].inputs[0].shape == (3, 5)


def test_the_model_is_left_as_it_was() -> None:
    model = DigitsCNN()
    model.train()
    model.features[0].eval()
    model.classifier.weight.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary(model, torch.rand(4, 1, 8, 8))
    assert model.training and not model.features[0].training and model.features[1].training
    assert not model.classifier.weight.requires_grad and model.classifier.bias.requires_grad
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.classifier.weight.device.type == "cpu"


def test_meta_builds_nothing_and_counts_everything() -> None:
    result = summary(lambda: nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 10)),
                     input_size=(2, 4096), meta=True)
    assert result.totals.params == 4096 * 4096 + 4096 + 4096 * 10 + 10 == 16_822_282
    assert result.result.device == "meta" and result.layers[1].stats is None
    with pytest.raises(ValueError, match=r"weights are real already; pass a function that builds it"):
        summary(SimpleNN(), meta=True)


def test_depth_folds_the_printed_rows() -> None:
    text = summary(DigitsCNN(), torch.rand(2, 1, 8, 8), depth=1).text(100)
    assert "features" in text and "features.0" not in text


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: summary("model.pt"), TypeError, "model must be a torch.nn.Module, got str"),
    (lambda: summary(SimpleNN(), torch.randn(4, 7)), ValueError, r"fc1"),
    (lambda: summary(SimpleNN(), torch.randn(4, 5), input_size=(4, 5)), ValueError, "not both"),
    (lambda: summary(SimpleNN(), input_size=(4, 0)), ValueError, r"sizes ≥ 1"),
    (lambda: summary(SimpleNN(), input_size=[]), ValueError, r"sizes ≥ 1"),
    (lambda: summary(SimpleNN(), input_size="4x5"), ValueError, r"a shape such as \(4, 5\)"),
    (lambda: summary(SimpleNN(), batch=0), ValueError, r"summary\(batch=0\): the batch size must be a whole number"),
    (lambda: summary(SimpleNN(), input_size=(4, 5), dtypes=["float99"]), ValueError, "not a dtype nnview knows"),
    (lambda: summary(SimpleNN(), input_size=[(4, 5)], dtypes=["long", "long"]), ValueError, r"one per input \(1\)"),
    (lambda: summary(SimpleNN(), "abc"), ValueError, "nnview needs a tensor, a tuple or a dict"),
])
def test_mistakes_say_what_is_wrong(call, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_importing_tui_loads_neither_torch_nor_a_terminal_library() -> None:
    code = "import sys, tui, tui.probe; print('textual' in sys.modules, 'rich' in sys.modules, 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", "import sys, tui; print('torch' in sys.modules)"],
                          capture_output=True, text=True)
    assert done.stdout.split() == ["False"]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False", "True"]  # the probe is torch, never a terminal library
    assert tui.summary is summary and isinstance(summary(SimpleNN()), Summary)
