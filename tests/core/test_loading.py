"""The model-file contract: which object becomes the model, and where the input comes from."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tui.core.load.inputs import parse_input_spec, resolve_inputs
from tui.core.load.model_file import load_model
from tui.core.records import NnviewError, TensorSpec
from tui.core.session import summarize

HEADER = "import torch\nfrom torch import nn\n"


def write(tmp_path: Path, body: str, name: str = "model.py") -> str:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


def test_build_model_wins_over_a_model_instance_and_classes(tmp_path: Path) -> None:
    target = write(
        tmp_path,
        """
        class A(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 1)
        model = A()
        def build_model():
            return nn.Linear(7, 2)
        """,
    )
    assert load_model(target).model.in_features == 7


def test_module_level_instance_is_used_when_there_is_no_factory(tmp_path: Path) -> None:
    target = write(tmp_path, "model = nn.Sequential(nn.Linear(2, 3))\n")
    loaded = load_model(target)
    assert loaded.name == "Sequential"
    assert loaded.model[0].out_features == 3


def test_single_class_defined_in_the_file_is_built(tmp_path: Path) -> None:
    target = write(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self, width=5):
                super().__init__()
                self.fc = nn.Linear(width, 2)
            def forward(self, x):
                return self.fc(x)
        Imported = nn.Linear  # defined elsewhere: not a candidate
        """,
    )
    result = summarize(target)
    assert result.model_name == "Net"
    assert [s.shape for s in result.inputs] == [(4, 5)]


@pytest.mark.parametrize(
    ("name", "in_features"),
    [("Small", 2), ("make_big", 9), ("ready", 4)],
)
def test_name_picks_a_class_a_factory_or_an_instance(tmp_path: Path, name: str, in_features: int) -> None:
    target = write(
        tmp_path,
        """
        class Small(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 1)
        class Big(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(9, 1)
        def make_big():
            return Big()
        ready = nn.Sequential(nn.Linear(4, 1))
        """,
    )
    model = load_model(f"{target}:{name}").model
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == in_features


def test_dotted_module_path_loads_installed_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(HEADER + "def build_model():\n    return nn.Linear(6, 2)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = summarize("mypkg.models:build_model")
    assert result.source == "mypkg.models"
    assert result.totals.params == 14
    assert [s.shape for s in result.inputs] == [(4, 6)]


def test_example_input_tuple_dict_and_function(tmp_path: Path) -> None:
    body = textwrap.dedent(
        """
        class Two(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(3, 2)
                self.b = nn.Linear(5, 2)
            def forward(self, x, y=None):
                return self.a(x) + self.b(y)
        """
    )
    as_tuple = write(tmp_path, body + "example_input = (torch.randn(2, 3), torch.randn(2, 5))\n", "t.py")
    as_dict = write(tmp_path, body + "example_input = {'x': torch.randn(6, 3), 'y': torch.randn(6, 5)}\n", "d.py")
    as_func = write(
        tmp_path, body + "def example_input():\n    return (torch.randn(1, 3), torch.randn(1, 5))\n", "f.py"
    )
    assert [s.shape for s in summarize(as_tuple).inputs] == [(2, 3), (2, 5)]
    assert [s.shape for s in summarize(as_dict).inputs] == [(6, 3), (6, 5)]
    assert [s.shape for s in summarize(as_func).inputs] == [(1, 3), (1, 5)]


def test_input_flag_overrides_example_input_and_sets_dtype(tmp_path: Path) -> None:
    target = write(
        tmp_path,
        """
        class Lm(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(30, 4)
            def forward(self, ids):
                return self.embed(ids)
        example_input = torch.zeros(1, 3, dtype=torch.long)
        """,
    )
    result = summarize(target, inputs=["2x12:long"])
    assert result.inputs == (TensorSpec((2, 12), "int64"),)
    assert [s.shape for s in result.layer("embed").outputs] == [(2, 12, 4)]


@pytest.mark.parametrize(
    ("layer", "inferred"),
    [
        ("nn.Embedding(30, 4)", TensorSpec((4, 16), "int64")),
        ("nn.Conv2d(3, 8, 3)", TensorSpec((4, 3, 32, 32), "float32")),
        ("nn.Conv1d(2, 8, 3)", TensorSpec((4, 2, 32), "float32")),
        ("nn.LSTM(10, 20, batch_first=True)", TensorSpec((4, 16, 10), "float32")),
        ("nn.LSTM(10, 20)", TensorSpec((16, 4, 10), "float32")),
        ("nn.Linear(11, 2)", TensorSpec((4, 11), "float32")),
    ],
)
def test_input_is_inferred_from_the_first_layer(tmp_path: Path, layer: str, inferred: TensorSpec) -> None:
    target = write(tmp_path, f"model = nn.Sequential({layer})\n")
    example = resolve_inputs(load_model(target), [], batch=4)
    assert example.inferred
    assert [TensorSpec(tuple(t.shape), str(t.dtype).removeprefix("torch.")) for t in example.args] == [inferred]
    if inferred.dtype == "int64":
        assert int(example.args[0].max()) < 30


def test_model_without_a_recognisable_first_layer_asks_for_input(tmp_path: Path) -> None:
    target = write(tmp_path, "model = nn.Sequential(nn.ReLU())\n")
    with pytest.raises(NnviewError) as caught:
        summarize(target)
    assert caught.value.record.kind == "input"
    assert "--input" in caught.value.record.hint


@pytest.mark.parametrize("text", ["4xq", "", "4x0", "3x3:complex7"])
def test_bad_input_specs_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(NnviewError) as caught:
        parse_input_spec(text)
    assert caught.value.record.kind == "input"
    assert "--input 4x5" in caught.value.record.hint or "sizes >= 1" in caught.value.record.hint


def test_input_specs_accept_separators_and_dtype_aliases() -> None:
    assert parse_input_spec("4x5") == TensorSpec((4, 5), "float32")
    assert parse_input_spec("2X3x4:double") == TensorSpec((2, 3, 4), "float64")
    assert parse_input_spec("2,12:long") == TensorSpec((2, 12), "int64")


def test_loading_restores_cwd_path_and_argv_and_captures_prints(tmp_path: Path) -> None:
    target = write(
        tmp_path,
        """
        import os, sys
        print("hello from the model file")
        os.chdir("/")
        sys.path.append("/nonexistent")
        sys.argv.append("--weird")
        model = nn.Linear(2, 2)
        """,
    )
    cwd, path, argv = os.getcwd(), list(sys.path), list(sys.argv)
    loaded = load_model(target)
    assert (os.getcwd(), sys.path, sys.argv) == (cwd, path, argv)
    assert loaded.output == "hello from the model file\n"


def test_same_weights_on_every_load_unless_the_file_seeds(tmp_path: Path) -> None:
    target = write(tmp_path, "model = nn.Linear(3, 3)\n")
    first, second = load_model(target).model, load_model(target).model
    assert torch.equal(first.weight, second.weight)


def test_meta_build_allocates_no_weights(tmp_path: Path) -> None:
    target = write(tmp_path, "def build_model():\n    return nn.Linear(50_000, 50_000)\n")
    result = summarize(target, meta=True)
    assert result.device == "meta"
    assert result.totals.params == 50_000 * 50_000 + 50_000
    assert result.totals.macs == 4 * 50_000 * 50_000
