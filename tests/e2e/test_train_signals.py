"""Headless `nnview train` stopped by SIGTERM, SIGHUP or Ctrl+C keeps the steps it trained (issue 7, 2 and 4).

The trained steps go to a rescue checkpoint named on stderr (never the --save path: training did not
finish), and the exit status is 128 + the signal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODELS, ROOT
from tests.trust import file_hashes
from tui.core.load.checkpoints import read_checkpoint
from tui.core.load.model_file import load_model

SIMPLE = str(MODELS / "simple.py")


@pytest.mark.parametrize(
    ("signum", "status", "name"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP"), (signal.SIGINT, 130, "Ctrl+C")],
)
def test_a_signal_mid_training_keeps_the_trained_steps(tmp_path: Path, signum: int, status: int, name: str) -> None:
    (tmp_path / "mine.safetensors").write_bytes(b"the user's own file")
    before = file_hashes(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    save = str(tmp_path / "out.safetensors")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "train", SIMPLE, "--epochs", "100000", "--json", "--save", save],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    steps = 0
    for line in proc.stdout:  # wait until some steps have really been trained
        if json.loads(line).get("event") == "step":
            steps += 1
            if steps == 30:
                break
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    match = re.search(
        rf"interrupted by {re.escape(name)} before training ended: "
        r"the (\d+) trained steps were written to (\S+?\.safetensors)",
        err,
    )
    assert match is not None, err
    trained, rescued = int(match.group(1)), Path(match.group(2))
    assert (
        trained >= 30 and rescued.parent == tmp_path and rescued.name.startswith(f"nnview-rescue-simple-step{trained}-")
    )
    assert f"{save} was not touched" in err and not Path(save).exists()
    info = read_checkpoint(rescued, load_model(SIMPLE).model).info
    assert info["step"] == trained and info["emergency"] is True
    after = file_hashes(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before  # the user's file is untouched
    assert set(after) - set(before) == {rescued.name, rescued.name + ".json"}
