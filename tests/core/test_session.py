"""The explorer's session: new batches from dataset() or random values, reload after an edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import MODELS
from tui.core.records import NnviewError
from tui.core.session import ModelSession, SessionOptions


def test_new_batch_draws_rows_of_the_training_data() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "simple.py"), batch=6))
    first = session.open()
    assert first.input_origin.startswith("inferred from fc1")
    second = session.new_batch()
    x_train = session.loaded.namespace["dataset"]()[0]
    batch = session.example.args[0]
    assert batch.shape == (6, 5)
    assert all(any(torch.equal(row, train_row) for train_row in x_train) for row in batch)
    assert second.input_origin == "dataset() batch 1"
    assert session.new_batch().input_origin == "dataset() batch 2"
    assert not torch.equal(session.example.args[0], batch)


def test_new_batch_without_dataset_redraws_random_values_of_the_same_shape(tmp_path: Path) -> None:
    path = tmp_path / "lm.py"
    path.write_text(
        "import torch\nfrom torch import nn\nmodel = nn.Embedding(20, 3)\nexample_input = torch.tensor([[0, 19, 5]])\n"
    )
    session = ModelSession(SessionOptions(str(path)))
    session.open()
    before = session.example.args[0]
    result = session.new_batch()
    after = session.example.args[0]
    assert after.shape == before.shape and after.dtype == torch.int64
    assert int(after.max()) < 20 and not torch.equal(after, before)
    assert result.input_origin == "random batch 1"


def test_open_again_picks_up_an_edit_and_reports_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("from torch import nn\nmodel = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))\n")
    session = ModelSession(SessionOptions(str(path)))
    assert session.open().totals.params == 16 + 10
    path.write_text("from torch import nn\nmodel = nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))\n")
    with pytest.raises(NnviewError) as caught:
        session.open()
    assert (caught.value.record.kind, caught.value.record.layer) == ("shape_mismatch", "1")
    path.write_text("from torch import nn\nmodel = nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 2))\n")
    assert session.open().totals.params == 32 + 18
