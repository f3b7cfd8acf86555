"""``nnview watch LOGDIR`` on TensorBoard logs through the real entry point: ``--json`` with exact numbers, the
missing package named with its extra (exit 2), and the live view at 80x24 under NO_COLOR (tmux) growing as the
events file grows, then q."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_terminal import NNVIEW, Tmux, session, tmux  # noqa: F401 - fixtures, used by name
from tui.core.tensorboard.writer import TensorBoardLog
from tui.core.train.records import EpochRecord

pytest.importorskip("tensorboard", reason='pip install -e ".[tensorboard]"')


def nnview_watch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tui", "watch", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env)


def write_epochs(log: TensorBoardLog, first: int, last: int) -> None:
    for e in range(first, last + 1):  # every number exact in float32
        log.epoch(EpochRecord(e, 9, 16 / e, 32 / e, e / 16, None), lr=0.25)
    log.flush()


def test_json_counts_each_runs_tags_with_their_last_step_and_value(tmp_path: Path) -> None:
    with TensorBoardLog(tmp_path / "a") as log:
        write_epochs(log, 1, 4)
    with TensorBoardLog(tmp_path / "b" / "seed2") as log:
        log.layers(30, [{"name": "fc1", "grad_norm": 0.5, "update_ratio": float("nan")}])
    done = nnview_watch(str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "runs": {
            "a": {
                "accuracy/train": {"steps": 4, "last_step": 4, "last_value": 0.25},
                "learning_rate": {"steps": 4, "last_step": 4, "last_value": 0.25},
                "loss/train": {"steps": 4, "last_step": 4, "last_value": 4.0},
                "loss/val": {"steps": 4, "last_step": 4, "last_value": 8.0},
            },
            "b/seed2": {
                "layers/grad_norm/fc1": {"steps": 1, "last_step": 30, "last_value": 0.5},
                "layers/update_ratio/fc1": {"steps": 1, "last_step": 30, "last_value": "nan"},
            },
        }
    }


def test_without_the_tensorboard_package_it_says_which_extra_to_install(tmp_path: Path) -> None:
    with TensorBoardLog(tmp_path / "logs") as log:
        log.scalar("loss", 1.0, 1)
    shadow = tmp_path / "shadow" / "tensorboard"  # an import of tensorboard that fails, as when not installed
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named tensorboard')\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "shadow")}
    done = nnview_watch(str(tmp_path / "logs"), env=env)
    assert done.returncode == 2
    assert "reading TensorBoard logs needs the tensorboard package" in done.stderr
    assert 'pip install -e ".[tensorboard]"' in done.stderr and "Traceback" not in done.stderr


def test_the_live_view_at_80x24_no_color_shows_points_as_they_are_written(
    tmux: Tmux,  # noqa: F811
    session: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert NNVIEW is not None
    log = TensorBoardLog(tmp_path / "logs" / "run1")
    try:
        write_epochs(log, 1, 2)
        tmux.start(session, 80, 24, [NNVIEW, "watch", str(tmp_path / "logs")], env={"NO_COLOR": "1"})
        screen = tmux.wait_text(
            session, "TensorBoard  1 run  4 tags  newest", "accuracy/train  ", "? Help q Quit ] Group"
        )
        assert "\x1b[38;2" not in tmux.screen(session, escapes=True)  # no 24-bit colour under NO_COLOR
        assert "accuracy" in screen and "·· train" in screen
        write_epochs(log, 3, 8)
        screen = tmux.wait_text(session, "0.5 ")  # accuracy/train at epoch 8: 8/16
        row = next(line for line in screen.splitlines() if line.strip().startswith("accuracy/train"))
        assert row.split() == ["accuracy/train", "8", "8", "0.5"]
        tmux.keys(session, "]")
        tmux.wait_text(session, "learning_rate")
        tmux.keys(session, "q")
        assert tmux.exit_status(session) == 0
    finally:
        log.close()
