"""``from tui import explore``: the explorer on a model in memory, in a real terminal; refused without one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from tests.e2e.test_terminal import Tmux, session, tmux  # noqa: F401 - fixtures, used by name
from tui import explore

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, torch
sys.path.insert(0, {models!r})
from digits_cnn import DigitsCNN
from tui import explore
torch.manual_seed(0)
model = DigitsCNN()
model.eval()
explore(model, torch.rand(3, 1, 8, 8))
print("explore returned; eval mode kept:", not model.training)
input()
"""


def test_explore_opens_the_model_in_memory_and_returns_on_quit(tmux: Tmux, session: str, tmp_path: Path) -> None:  # noqa: F811
    script = tmp_path / "notebook_cell.py"
    script.write_text(SCRIPT.format(models=str(ROOT / "models")))
    tmux.start(session, 100, 30, [sys.executable, str(script)], env={"NO_COLOR": "1"})
    screen = tmux.wait_text(session, "DigitsCNN", "<in memory>", "classifier")
    assert "(3,1,8,8)" in screen
    tmux.keys(session, "q")
    tmux.wait_text(session, "explore returned; eval mode kept: True")
    tmux.keys(session, "Enter")
    assert tmux.exit_status(session) == 0


def test_explore_without_a_terminal_points_to_nnview_serve() -> None:
    with pytest.raises(RuntimeError, match=r"needs a terminal.*nnview serve FILE"):
        explore(torch.nn.Linear(2, 2))  # pytest's stdin is not a terminal


def test_explore_in_a_notebook_kernel_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    with pytest.raises(RuntimeError, match="a notebook kernel"):
        explore(torch.nn.Linear(2, 2))
