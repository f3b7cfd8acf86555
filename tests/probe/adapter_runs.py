"""Helpers the Lightning and Hugging Face adapter tests share: run a script in a clean child, read its lines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.probe.run_lines import lines as strict_lines

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"
TIME_LIMIT = 180  # seconds for one script run; each takes under 20 s on a quiet machine


def child_env() -> dict[str, str]:
    """This environment without another launcher's rank variables, offline, one thread, ``tui`` importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE", "GROUP_RANK")
    }
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return env


def run_script(args: list[str], cwd: Path, torchrun: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``python SCRIPT ARGS`` (or ``torchrun --standalone --nproc-per-node 2 SCRIPT ARGS``) to its end.

    The child gets a session of its own: when it runs past the time limit, all its processes (the ranks too)
    are killed, so a hung rank never outlives the test.
    """
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command = [*(launcher if torchrun else [sys.executable]), *args]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        raise AssertionError(f"{' '.join(command)} ran past {TIME_LIMIT} s; its output:\n{err[-3000:]}") from None
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def lines(run_dir: Path, rank: int) -> list[dict[str, Any]]:
    """The lines of ``rank<rank>.jsonl``, each strict JSON."""
    return strict_lines(run_dir / f"rank{rank}.jsonl")


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The lines of one kind, in step order."""
    return sorted((r for r in records if r["kind"] == kind), key=lambda r: r["step"])


def layer(record: dict[str, Any], name: str) -> dict[str, Any]:
    """One layer's row of a "layers" line."""
    return next(row for row in record["layers"] if row["name"] == name)
