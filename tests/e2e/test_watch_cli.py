"""``nnview watch`` through the real entry point: ``--json`` of a hand-written run, the newest run under ./runs,
and every folder mistake answered on stderr with exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.core.test_run_reader import ARCHITECTURE, FC1, FC3, RUN, write_run


def nnview_watch(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m tui watch ARGS`` in ``cwd`` (the package is installed: any folder will do)."""
    command = [sys.executable, "-m", "tui", "watch", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_json_prints_the_runs_state_once(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    before = time.time()
    done = nnview_watch(str(folder), "--json")
    after = time.time()
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["run"] == RUN and out["world_size"] == 2 and out["status"] == "running"
    ages = [rank.pop("seconds_since_last_step") for rank in out["ranks"]]
    assert all(before - 1002.0 - 0.001 <= age <= after - 1002.0 + 0.001 for age in ages), ages
    assert out["ranks"] == [
        {"rank": 0, "steps": 3, "last_loss": 1.0, "state": "running", "message": "", "steps_per_second": 2.0,
         "first_nonfinite_step": None, "note": ""},
        {"rank": 1, "steps": 3, "last_loss": "nan", "state": "running", "message": "", "steps_per_second": 2.0,
         "first_nonfinite_step": 2, "note": "first to go NaN: loss became nan at step 2"},
    ]  # fmt: skip
    assert out["architecture"] == {"model": ARCHITECTURE["model"], "layers": 4, "params": 147, "macs": 512}
    assert out["layers"] == [{**FC1, "step": 2}, {**FC3, "step": 2}]
    assert out["grad_norm"] == 0.75 and out["log"] == {"grad_norm": 2.5, "learning_rate": 0.001}
    assert out["skipped_lines"] == 0 and out["notes"][0].startswith("no rank has stepped for")


def test_no_folder_opens_the_newest_run_under_runs(tmp_path: Path) -> None:
    for name, started in (("old", 1000.0), ("new", 2000.0)):
        write_run(tmp_path / "runs" / name)
        (tmp_path / "runs" / name / "run.json").write_text(json.dumps({**RUN, "name": name, "started": started}))
    done = nnview_watch("--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["name"] == "new"


def test_folder_mistakes_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    cases = [
        ((str(tmp_path / "missing"),), "does not exist"),
        ((str(tmp_path / "empty"),), "is not a run folder: it has no run.json and no rank*.jsonl file"),
        ((str(tmp_path / "notes.txt"),), "is a file, not a run folder"),
        ((), "no run folder was given, and ./runs (where runs go by default) does not exist"),
        (("--follow",), "unrecognized arguments: --follow"),
    ]
    for args, message in cases:
        done = nnview_watch(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in " ".join(done.stderr.split()), (args, done.stderr)
        assert "Traceback" not in done.stderr and "fix:" in done.stderr
    as_json = nnview_watch(str(tmp_path / "missing"), "--json", cwd=tmp_path)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]["kind"] == "input"


def test_help_names_the_folder_and_json() -> None:
    done = nnview_watch("--help")
    assert done.returncode == 0
    assert "usage: nnview watch [-h] [--json] [RUN_DIR ...]" in done.stdout
    assert "the newest run under ./runs if left out" in " ".join(done.stdout.split())
