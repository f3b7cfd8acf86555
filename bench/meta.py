"""The ``--meta`` check: ``nnview summary FILE --meta --json`` in a child process, timed beside torch-only baselines.

Each child is started by a small measuring process (see :func:`run_child`), so its wall time and peak RSS
are its own, whatever this process has allocated.
"""

from __future__ import annotations

import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LLAMA_FILE = "bench/models/llama7b.py"
MODULE_LEVEL_FILE = "bench/models/llama7b_module_level.py"  # the same model as `model = Llama()` at top level
LLAMA_PARAMS = 6_738_415_616
TARGET_SECONDS, TARGET_MIB = 3.0, 500.0


@dataclass
class ChildRun:
    """Median wall time and peak RSS of one command run ``repeats`` times as a child process."""

    label: str
    command: list[str]
    seconds: float
    peak_mib: float
    stdout: str


# Runs argv[2:] as its only child and writes that child's wall time and peak RSS to the file argv[1].
_MEASURER = """
import json, resource, subprocess, sys, time
began = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "seconds": seconds, "maxrss_kib": peak}, out)
"""


def run_child(label: str, command: list[str]) -> tuple[float, float, str]:
    """Run ``command`` from the repository root; (wall seconds, peak RSS in MiB, stdout).

    The child is started by a small measuring process that has no other child, so its
    ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (KiB on Linux) is exactly this child's peak. Measuring from this
    process instead would be wrong twice over: RUSAGE_CHILDREN keeps the largest child ever waited for, and
    a child's ru_maxrss starts from the RSS of the process it was forked from (Linux carries the pre-exec
    high-water mark across ``execve``), which here is gigabytes of benchmark models.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        subprocess.run([sys.executable, "-c", _MEASURER, str(report), *command], cwd=ROOT, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        usage = json.loads(report.read_text())
        if usage["code"] != 0:
            raise RuntimeError(f"{label}: {shlex.join(command)} exited {usage['code']}:\n{err.read().decode()[-2000:]}")
        return usage["seconds"], usage["maxrss_kib"] / 1024, out.read().decode()


def meta_check(file: str, repeats: int) -> tuple[list[ChildRun], dict[str, Any]]:
    """``python -m tui summary FILE --meta --json`` beside two torch-only baselines, interleaved ``repeats`` times."""
    commands = {
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
        "import torch + one meta op": [sys.executable, "-c", "import torch; torch.empty(1, device='meta') + 1"],
        f"nnview summary {file} --meta --json": [sys.executable, "-m", "tui", "summary", file, "--meta", "--json"],
    }
    if (ROOT / file).resolve() == (ROOT / LLAMA_FILE).resolve():
        commands[f"nnview summary {MODULE_LEVEL_FILE} --meta --json"] = [
            *commands[f"nnview summary {file} --meta --json"][:4],
            MODULE_LEVEL_FILE,
            "--meta",
            "--json",
        ]
    runs: dict[str, list[tuple[float, float, str]]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, command in commands.items():
            runs[label].append(run_child(label, command))
    children = [
        ChildRun(
            label,
            commands[label],
            statistics.median(r[0] for r in results),
            statistics.median(r[1] for r in results),
            results[-1][2],
        )
        for label, results in runs.items()
    ]
    return children, json.loads(children[2].stdout)


def render_meta(children: Sequence[ChildRun], summary: dict[str, Any], file: str, repeats: int) -> str:
    """The ``--meta`` lines: time and peak memory of each child, then what nnview reported."""
    nnview = children[2]
    lines = [
        f"`--meta` check (median of {repeats} child process{'es' if repeats > 1 else ''}, peak RSS from ru_maxrss):",
        "",
    ]
    for child in children:
        lines.append(f"- {child.label}: {child.seconds:.2f} s, {child.peak_mib:.0f} MiB peak RSS")
    ok_time, ok_mem = nnview.seconds <= TARGET_SECONDS, nnview.peak_mib <= TARGET_MIB
    torch_only, first_meta = children[0], children[1]
    lines.append(
        f"- targets: <= {TARGET_SECONDS:.0f} s {'met' if ok_time else 'MISSED'}, <= {TARGET_MIB:.0f} MiB "
        f"{'met' if ok_mem else 'MISSED'}; nnview adds +{nnview.seconds - torch_only.seconds:.2f} s, "
        f"+{nnview.peak_mib - torch_only.peak_mib:.0f} MiB to `import torch` and "
        f"+{nnview.seconds - first_meta.seconds:.2f} s, +{nnview.peak_mib - first_meta.peak_mib:.0f} MiB "
        "to `import torch` + one meta op"
    )
    totals, params = summary["totals"], summary["totals"]["params"]
    check = ""
    if (ROOT / file).resolve() == (ROOT / LLAMA_FILE).resolve():
        check = f" ({'= LLaMA-7B' if params == LLAMA_PARAMS else f'expected {LLAMA_PARAMS:,}: WRONG'})"
    lines.append(
        f"- nnview reported {params:,} params{check}, {totals['macs']:,} MACs, {len(summary['layers'])} layer rows"
    )
    if len(children) > 3:  # the module-level form: the file's top level must run on meta too
        module = children[3]
        same = json.loads(module.stdout)["totals"]["params"] == params
        lines.append(
            f"- module-level `model = Llama()` form: {module.seconds / nnview.seconds:.2f}x the time and "
            f"{module.peak_mib / nnview.peak_mib:.2f}x the peak memory of the `build_model()` form "
            f"(target: the same), {'the same' if same else 'a DIFFERENT'} parameter count"
        )
    return "\n".join(lines)
