"""The run-folder reader on hand-written folders: lines read once whole, bad lines counted, NaN kept, two ranks,
the newest run found, clear errors, control requests, the ``--json`` object and the notes about ranks."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.core.records import NnviewError
from tui.core.runs.curves import curves
from tui.core.runs.notes import rank_notes, run_notes
from tui.core.runs.reader import RunReader, check_run_folder, find_newest_run, state_json, write_control
from tui.core.runs.state import MAX_POINTS, RunState, Series

RUN = {
    "format": "nnview-run",
    "version": 1,
    "name": "digits",
    "script": "train.py",
    "command": "python train.py",
    "world_size": 2,
    "started": 1000.0,
    "host": "trainbox",
    "nnview_version": "0.1.0",
    "every": 2,
    "framework": "torch",
}
ARCHITECTURE = {
    "model": "SimpleNN",
    "totals": {"params": 147, "trainable": 147, "non_trainable": 0, "macs": 512},
    "layers": [
        {"name": "", "type": "SimpleNN", "depth": 0, "call": 0, "outputs": [[4, 3]], "params_total": 147, "macs": 512},
        {"name": "fc1", "type": "Linear", "depth": 1, "call": 0, "outputs": [[4, 10]], "params_total": 60},
        {"name": "fc2", "type": "Linear", "depth": 1, "call": 0, "outputs": [[4, 6]], "params_total": 66},
        {"name": "fc3", "type": "Linear", "depth": 1, "call": 0, "outputs": [[4, 3]], "params_total": 21},
    ],
}
FC1 = {"name": "fc1", "type": "Linear", "mean": 0.5, "std": 0.25, "zero_frac": 0.5, "dead_frac": 0.625}
FC1 |= {"saturated_frac": None, "grad_norm": 0.125, "update_ratio": 0.001}
FC3 = {"name": "fc3", "type": "Linear", "mean": -0.5, "std": 1.5, "zero_frac": 0.0, "dead_frac": None}
FC3 |= {"saturated_frac": None, "grad_norm": "inf", "update_ratio": 0.0625}


def line(kind: str, **fields: Any) -> str:
    return json.dumps({"kind": kind, **fields}) + "\n"


def start(rank: int) -> str:
    return line("start", rank=rank, world_size=2, pid=4321, host="trainbox", device="cpu", time=1000.0)


def step(n: int, loss: float | str, time: float, **metrics: float) -> str:
    return line("step", step=n, time=time, loss=loss, seconds=0.5, metrics=metrics)


def write_run(folder: Path) -> Path:
    """Two ranks, three steps each; rank 1's loss is NaN from step 2; rank 0 has layers and a log line."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps(RUN))
    (folder / "architecture.json").write_text(json.dumps(ARCHITECTURE))
    (folder / "rank0.jsonl").write_text(
        start(0)
        + step(1, 1.5, 1001.0, accuracy=0.25)
        + step(2, 1.25, 1001.5, accuracy=0.5)
        + line("layers", step=2, time=1001.5, grad_norm=0.75, layers=[FC1, FC3])
        + step(3, 1.0, 1002.0, accuracy=0.75)
        + line("log", step=3, time=1002.0, values={"grad_norm": 2.5, "learning_rate": 0.001})
    )
    (folder / "rank1.jsonl").write_text(
        start(1) + step(1, 1.75, 1001.0) + step(2, "nan", 1001.5) + step(3, "nan", 1002.0)
    )
    return folder


def read(folder: Path) -> RunState:
    reader = RunReader(folder)
    reader.poll()
    return reader.state


def test_a_half_written_last_line_waits_until_its_newline_arrives(tmp_path: Path) -> None:
    (tmp_path / "rank0.jsonl").write_text(start(0) + step(1, 0.5, 1.0)[:20])
    reader = RunReader(tmp_path)
    assert reader.poll() is True
    assert reader.state.ranks[0].steps == 0
    with (tmp_path / "rank0.jsonl").open("a") as out:
        out.write(step(1, 0.5, 1.0)[20:])
    assert reader.poll() is True
    assert (reader.state.ranks[0].steps, reader.state.ranks[0].last_loss, reader.state.skipped_lines) == (1, 0.5, 0)
    assert reader.poll() is False  # nothing new: nothing read again
    assert reader.state.ranks[0].losses.points == [(1, 0.5)]


def test_a_line_that_is_not_json_is_skipped_and_counted(tmp_path: Path) -> None:
    (tmp_path / "rank0.jsonl").write_text(step(1, 0.5, 1.0) + "{not json\n" + "[1, 2]\n" + step(2, 0.25, 2.0))
    state = read(tmp_path)
    assert (state.ranks[0].steps, state.ranks[0].last_loss, state.skipped_lines) == (2, 0.25, 2)
    assert run_notes(state, 2.0) == ["2 lines of the rank files could not be read (not JSON) and were skipped"]


def test_two_ranks_their_steps_rates_nan_and_layers(tmp_path: Path) -> None:
    state = read(write_run(tmp_path / "run"))
    assert (state.name, state.world_size, state.status, sorted(state.ranks)) == ("digits", 2, "running", [0, 1])
    zero, one = state.ranks[0], state.ranks[1]
    assert (zero.steps, zero.last_loss, zero.steps_per_second(), zero.first_nonfinite_step) == (3, 1.0, 2.0, None)
    assert one.steps == 3 and math.isnan(one.last_loss or 0.0) and one.first_nonfinite_step == 2
    assert zero.metrics["accuracy"].points == [(1, 0.25), (2, 0.5), (3, 0.75)]
    assert zero.log == {"grad_norm": 2.5, "learning_rate": 0.001} and zero.log_step == 3
    assert zero.layers is not None and zero.layers.step == 2 and zero.layers.grad_norm == 0.75
    fc3 = zero.layers.by_name()["fc3"]
    assert (fc3.mean, fc3.grad_norm, fc3.dead_frac) == (-0.5, math.inf, None)
    assert [row["name"] for row in state.layer_rows] == ["", "fc1", "fc2", "fc3"]
    assert zero.seconds_since_last_step(1012.0) == 10.0 and state.seconds_since_last_step(1012.0) == 10.0


def test_events_set_each_rank_state_and_a_finished_run_is_a_record(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    reader = RunReader(folder)
    reader.poll()
    with (folder / "rank0.jsonl").open("a") as out:
        out.write(line("event", step=3, time=1003.0, event="paused", message=""))
    with (folder / "rank1.jsonl").open("a") as out:
        out.write(line("event", step=3, time=1003.0, event="paused", message=""))
    reader.poll()
    assert (reader.state.status, reader.state.finished) == ("paused", False)
    with (folder / "rank0.jsonl").open("a") as out:
        out.write(line("event", step=3, time=1004.0, event="stopped") + line("event", step=3, event="closed"))
    with (folder / "rank1.jsonl").open("a") as out:
        out.write(line("event", step=3, time=1004.0, event="error", message="CUDA out of memory"))
        out.write(line("event", step=3, time=1004.0, event="closed"))
    reader.poll()
    assert (reader.state.status, reader.state.finished) == ("error", True)
    assert [rank.state for rank in reader.state.ranks.values()] == ["stopped", "error"]  # not hidden by "closed"
    assert (
        rank_notes(reader.state, 1004.0)[1] == "failed: CUDA out of memory; first to go NaN: loss became nan at step 2"
    )


def test_a_capped_poll_reads_whole_lines_and_leaves_the_rest_for_the_next(tmp_path: Path) -> None:
    (tmp_path / "rank0.jsonl").write_text("".join(step(n, 1.0 / n, float(n)) for n in range(1, 101)))
    reader = RunReader(tmp_path)
    reader.poll(max_bytes=1000)
    first = reader.state.ranks[0].steps
    assert 0 < first < 100 and reader.backlog
    while reader.backlog:
        reader.poll(max_bytes=1000)
    assert reader.state.ranks[0].steps == 100 and len(reader.state.ranks[0].losses.points) == 100
    assert reader.state.skipped_lines == 0


def test_state_json_numbers(tmp_path: Path) -> None:
    out = state_json(read(write_run(tmp_path / "run")), now=1012.0)
    assert out["run"] == RUN and out["world_size"] == 2 and out["status"] == "running"
    assert out["ranks"] == [
        {"rank": 0, "steps": 3, "last_loss": 1.0, "state": "running", "message": "", "seconds_since_last_step": 10.0,
         "steps_per_second": 2.0, "first_nonfinite_step": None, "note": ""},
        {"rank": 1, "steps": 3, "last_loss": "nan", "state": "running", "message": "", "seconds_since_last_step": 10.0,
         "steps_per_second": 2.0, "first_nonfinite_step": 2, "note": "first to go NaN: loss became nan at step 2"},
    ]  # fmt: skip
    assert out["architecture"] == {"model": "SimpleNN", "layers": 4, "params": 147, "macs": 512}
    assert out["layers"] == [{**FC1, "step": 2}, {**FC3, "step": 2}]
    assert out["grad_norm"] == 0.75 and out["log"] == {"grad_norm": 2.5, "learning_rate": 0.001}
    assert out["notes"] == [] and out["skipped_lines"] == 0
    json.dumps(out, allow_nan=False)  # any JSON reader reads it: no bare NaN


def test_a_rank_that_stalls_while_the_others_go_on_is_named(tmp_path: Path) -> None:
    (tmp_path / "rank0.jsonl").write_text("".join(step(n, 1.0, 1000.0 + n) for n in range(1, 61)))
    (tmp_path / "rank1.jsonl").write_text("".join(step(n, 1.0, 1000.0 + n) for n in range(1, 11)))
    state = read(tmp_path)
    assert rank_notes(state, 1060.5) == {
        1: "stalled: no step for 50 s while the others went on (it is at step 10, the others at 60)"
    }
    assert rank_notes(state, 1020.0) == {}  # 20 steps of 1 s is the threshold: not yet
    assert run_notes(state, 1100.0) == ["no rank has stepped for 40 s: the run may be evaluating, saving, or stuck"]


def test_a_rank_whose_process_ended_without_closing_is_named(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(gone.stdout)
    start_line = line("start", rank=0, world_size=1, pid=pid, host=socket.gethostname(), device="cpu", time=1.0)
    (tmp_path / "rank0.jsonl").write_text(start_line + step(1, 1.0, 2.0))
    assert rank_notes(read(tmp_path), 3.0) == {0: f"its process (pid {pid}) has ended without closing the run"}


def test_check_run_folder_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(NnviewError, match="does not exist") as missing:
        check_run_folder(tmp_path / "nope")
    assert missing.value.record.kind == "input" and "Probe(model, RUN_DIR)" in missing.value.record.hint
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NnviewError, match="is a file, not a run folder"):
        check_run_folder(tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NnviewError, match=r"has no run.json and no rank\*.jsonl"):
        check_run_folder(tmp_path / "empty")
    write_run(tmp_path / "runs" / "a")
    with pytest.raises(NnviewError, match="holds 1 run folder") as parent:
        check_run_folder(tmp_path / "runs")
    assert parent.value.record.hint == f"name one of them, e.g. the newest: nnview watch {tmp_path / 'runs' / 'a'}"
    assert check_run_folder(tmp_path / "runs" / "a") == tmp_path / "runs" / "a"


def test_the_newest_run_is_the_one_that_started_last(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    with pytest.raises(NnviewError, match=r"runs \(where runs go by default\) does not exist"):
        find_newest_run(root)
    (root / "notes").mkdir(parents=True)
    with pytest.raises(NnviewError, match="holds no run"):
        find_newest_run(root)
    for name, started in (("b-late", 3000.0), ("c-early", 1000.0), ("a-middle", 2000.0)):
        write_run(root / name)
        (root / name / "run.json").write_text(json.dumps({**RUN, "started": started}))
    assert find_newest_run(root) == root / "b-late"


def test_write_control_writes_requests_with_increasing_ids(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run")
    first, second = write_control(folder, "pause"), write_control(folder, "resume")
    assert (first["command"], first["id"], second["command"], second["id"]) == ("pause", 1, "resume", 2)
    assert json.loads((folder / "control.json").read_text()) == second
    assert sorted(p.name for p in folder.iterdir()) == ["architecture.json", "control.json", *RANK_FILES, "run.json"]
    with pytest.raises(ValueError, match="unknown run command 'halt'"):
        write_control(folder, "halt")
    with pytest.raises(NnviewError, match="could not write") as failed:
        write_control(tmp_path / "gone", "stop")
    assert failed.value.record.kind == "save"


RANK_FILES = ["rank0.jsonl", "rank1.jsonl"]


def test_a_long_curve_is_thinned_to_the_same_steps_on_every_rank() -> None:
    series = Series()
    for n in range(1, 10_001):
        series.add(n, float(n))
    assert len(series.points) <= MAX_POINTS and series.stride == 4
    assert all(s % 4 == 0 for s, _ in series.points) and series.points[-1] == (10_000, 10_000.0)


def test_curves_per_rank_up_to_four_then_their_spread(tmp_path: Path) -> None:
    assert set(curves(read(write_run(tmp_path / "two")))) == {"rank 0", "rank 1"}
    assert curves(read(write_run(tmp_path / "two")))["rank 1"] == [(1.0, 1.75)]  # NaN is left out of the plot
    for rank in range(5):
        (tmp_path / "five").mkdir(exist_ok=True)
        (tmp_path / "five" / f"rank{rank}.jsonl").write_text(step(1, float(rank), 1.0) + step(2, 1.0, 2.0))
    spread = curves(read(tmp_path / "five"))
    assert spread == {"mean": [(1.0, 2.0), (2.0, 1.0)], "lowest": [(1.0, 0.0), (2.0, 1.0)],
                      "highest": [(1.0, 4.0), (2.0, 1.0)]}  # fmt: skip


def test_one_run_in_several_folders_reads_as_one(tmp_path: Path) -> None:
    """Past one machine without shared storage: each node's ranks in its own folder, rank 0's with run.json."""
    whole = write_run(tmp_path / "whole")
    node0, node1 = tmp_path / "node0", tmp_path / "node1"
    node0.mkdir()
    node1.mkdir()
    for name in ("run.json", "architecture.json", "rank0.jsonl"):
        (node0 / name).write_bytes((whole / name).read_bytes())
    (node1 / "rank1.jsonl").write_bytes((whole / "rank1.jsonl").read_bytes())
    together, alone = RunReader(node1, node0), RunReader(whole)
    together.poll()
    alone.poll()
    assert state_json(together.state)["ranks"] == state_json(alone.state)["ranks"]
    assert [r["steps"] for r in state_json(together.state)["ranks"]] == [3, 3]
    assert together.state.architecture == ARCHITECTURE and together.state.run == RUN


def test_watch_json_takes_several_folders(tmp_path: Path) -> None:
    whole = write_run(tmp_path / "whole")
    node1 = tmp_path / "node1"
    node1.mkdir()
    (whole / "rank1.jsonl").rename(node1 / "rank1.jsonl")
    shown = subprocess.run(
        [sys.executable, "-m", "tui", "watch", str(whole), str(node1), "--json"], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert [(r["rank"], r["steps"]) for r in json.loads(shown.stdout)["ranks"]] == [(0, 3), (1, 3)]
