"""One spelling per place for a shape: prose ``(4, 5)``/``(5,)``, tables ``(4,5)``, ``--input`` ``4x5``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.records import NnviewError, TensorSpec, shape_arg, shape_text
from tui.core.session import summarize
from tui.text import compact_shape, compact_spec, spec_text


def test_prose_writes_shapes_as_python_writes_tuples() -> None:
    assert [shape_text(s) for s in [(4, 5), (5,), ()]] == ["(4, 5)", "(5,)", "()"]
    assert TensorSpec((5,), "float32").shape_text() == "(5,)"
    assert spec_text(TensorSpec((4, 5), "int64")) == "(4, 5) int64"


def test_tables_write_shapes_tight_and_command_lines_in_input_syntax() -> None:
    assert compact_shape((4, 1, 28, 28)) == "(4,1,28,28)"
    assert compact_spec(TensorSpec((16,), "float32")) == "(16) float32"
    assert shape_arg((4, 1, 28, 28)) == "4x1x28x28"


def test_a_one_dimensional_input_reads_the_same_in_the_message_and_in_got(tmp_path: Path) -> None:
    model = tmp_path / "one_d.py"
    model.write_text(
        "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(10, 3))\nexample_input = torch.zeros(5)\n"
    )
    with pytest.raises(NnviewError) as caught:
        summarize(str(model))
    record = caught.value.record
    assert record.message == "0 = nn.Linear(10, 3) got input (5,): 5 features where it needs 10"
    assert [spec.shape_text() for spec in record.inputs] == ["(5,)"]
