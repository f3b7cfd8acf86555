"""The probe under ``torchrun --nproc-per-node 2``: DDP (gloo on CPU), each rank its own lines, one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.probe.run_lines import lines
from tui.core.runs.layout import CONTROL_FILE, write_json_atomically

SCRIPT = Path(__file__).parent / "scripts" / "ddp_cnn_probe.py"


def _torchrun(run_dir: Path, steps: int, sleep: float = 0.0) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone"]
    command += [str(SCRIPT), str(run_dir), str(steps), str(sleep)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen[str]) -> None:
    try:
        out, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, out


def test_two_ranks_write_one_run(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _finish(_torchrun(run_dir, 30))
    run = json.loads((run_dir / "run.json").read_text())
    assert run["world_size"] == 2 and run["every"] == 5
    architecture = json.loads((run_dir / "architecture.json").read_text())
    assert [row["name"] for row in architecture["layers"]] == ["", "0", "1", "2", "3", "4"]
    assert architecture["totals"]["params"] == (8 * 9 + 8) + (128 * 10 + 10) == 1370
    samples = {}
    for rank in (0, 1):
        path = run_dir / f"rank{rank}.jsonl"
        start = lines(path, "start")[0]
        assert (start["rank"], start["world_size"]) == (rank, 2)
        assert [s["step"] for s in lines(path, "step")] == list(range(1, 31))
        samples[rank] = lines(path, "layers")
        assert [s["step"] for s in samples[rank]] == [1, 6, 11, 16, 21, 26]
        assert lines(path, "event")[-1]["event"] == "closed"
    for first, second in zip(samples[0], samples[1], strict=True):
        norms = [(layer["name"], layer["grad_norm"]) for layer in first["layers"]]
        other = [(layer["name"], layer["grad_norm"]) for layer in second["layers"]]
        # DDP averages the gradients: both ranks see the same ones (their batches, and outputs, differ)
        assert [n for n, _ in norms] == [n for n, _ in other] == ["0", "1", "2", "3", "4"]
        assert [g for _, g in norms] == pytest.approx([g for _, g in other], rel=1e-5, nan_ok=True)
    assert samples[0][0]["layers"][0]["mean"] != samples[1][0]["layers"][0]["mean"]

    # What the viewer makes of it, as a script would read it
    shown = subprocess.run(
        [sys.executable, "-m", "tui", "watch", str(run_dir), "--json"], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert state["world_size"] == 2 and state["status"] == "closed"
    assert [(r["rank"], r["steps"], r["state"]) for r in state["ranks"]] == [(0, 30, "closed"), (1, 30, "closed")]
    assert state["architecture"] == {"model": "Sequential", "layers": 6, "params": 1370, "macs": 188416}
    assert [(row["name"], row["type"], row["step"]) for row in state["layers"]] == [
        ("0", "Conv2d", 26), ("1", "ReLU", 26), ("2", "MaxPool2d", 26), ("3", "Flatten", 26), ("4", "Linear", 26)
    ]
    last = samples[0][-1]["layers"]
    assert [row["grad_norm"] for row in state["layers"]] == [layer["grad_norm"] for layer in last]


def test_both_ranks_pause_at_the_same_step_and_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    process = _torchrun(run_dir, 200, sleep=0.01)
    try:
        ranks = [run_dir / "rank0.jsonl", run_dir / "rank1.jsonl"]
        deadline = time.monotonic() + 120
        while not (ranks[0].exists() and len(lines(ranks[0], "step")) >= 10):
            assert time.monotonic() < deadline and process.poll() is None, "the run did not start"
            time.sleep(0.05)
        write_json_atomically(run_dir / CONTROL_FILE, {"command": "pause", "id": 1, "time": time.time()})
        while not all(any(e["event"] == "paused" for e in lines(path, "event")) for path in ranks):
            assert time.monotonic() < deadline, "the ranks did not pause"
            time.sleep(0.05)
        paused = [lines(path, "event")[0]["step"] for path in ranks]
        assert paused[0] == paused[1] < 200
        held = [len(lines(path, "step")) for path in ranks]
        time.sleep(0.8)
        assert [len(lines(path, "step")) for path in ranks] == held == paused
        write_json_atomically(run_dir / CONTROL_FILE, {"command": "resume", "id": 2, "time": time.time()})
        _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    for path in ranks:
        assert [e["event"] for e in lines(path, "event")] == ["paused", "resumed", "closed"]
        assert len(lines(path, "step")) == 200
