"""``nnview summary FILE`` as a whole process against a ``python -c`` torchinfo script printing the same model.

Usage::

    python bench/summary_process.py                 # 7 interleaved rounds of every model (~1 min)
    python -m bench.summary_process --quick         # 1 round; the 5,000-module model cut to 500 modules

Flags:
    --quick             1 round, and bench/models/deep5k.py built with 250 x (Linear, ReLU) instead of 2,500.
    --rounds N          rounds (default 7; 1 with ``--quick``). Each round runs every model's pair, the order of the
                        two programs swapped every round so that neither always runs on a warmer machine.
    --models A,B        only these models (names from the table: simple, fashion_mlp, tiny_gpt, deep5k).
    --json PATH         also write every time and the ratios as JSON.
    --write-results     write the table into bench/RESULTS.md and the headline (the ratio per model) into README.md,
                        each between ``<!-- bench:summary -->`` and ``<!-- /bench:summary -->``, with a note of the
                        machine and this command (``bench/results.py``).

What is timed: wall time from starting the child process to its exit, stdout captured by a pipe (so nnview lays
the table out at ``COLUMNS=100``), both children with the same environment, nnview's modules byte-compiled first
as an installed wheel's are (torch's and torchinfo's already are). The torchinfo script is what a user
would type: import torch and torchinfo, import the model file, build the model and
``print(torchinfo.summary(model, ...))`` with the input nnview uses for the file. Both outputs are checked (the
last layer row for nnview, ``Estimated Total Size`` for torchinfo) so that a failing child is never timed as fast.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.results import command_line, machine_note, write_results  # noqa: E402

PAIRS_ENV = "NNVIEW_BENCH_PAIRS"  # bench/models/deep5k.py reads its size from it
QUICK_PAIRS = 250

TORCHINFO_CODE = """
import importlib.util, sys
import torch, torchinfo
spec = importlib.util.spec_from_file_location("model_file", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(torchinfo.summary({build}, {given}, verbose=0))
"""


@dataclass(frozen=True)
class Model:
    """One model file, how the torchinfo script builds it, and a line nnview's output must have."""

    name: str
    path: str
    build: str
    given: str  # torchinfo's input argument: the input nnview uses for this file
    last_row: str  # the start of nnview's last table row, stripped; {last}: deep5k's last index


MODELS = (
    Model("simple", "models/simple.py", "module.SimpleNN()", "input_size=(4, 5)", "fc3"),
    Model("fashion_mlp", "models/fashion_mlp.py", "module.NeuralNetwork()", "input_data=module.example_input", "4"),
    Model("tiny_gpt", "models/tiny_gpt.py", "module.build_model()", "input_data=module.example_input", "head"),
    Model("deep5k", "bench/models/deep5k.py", "module.model", "input_data=module.example_input", "{last}"),
)


@dataclass
class Timing:
    """Seconds per run of each program on one model."""

    model: str
    nnview: list[float]
    torchinfo: list[float]

    @property
    def ratio(self) -> float:
        """nnview's median over torchinfo's."""
        return statistics.median(self.nnview) / statistics.median(self.torchinfo)


def _environment(quick: bool) -> dict[str, str]:
    env = dict(os.environ, COLUMNS="100")
    env.pop("FORCE_COLOR", None)
    if quick:
        env[PAIRS_ENV] = str(QUICK_PAIRS)
    return env


def _run(command: list[str], env: dict[str, str], must_have: str, model: Model) -> float:
    """Seconds from start to exit of ``command``; refuses a run whose output lacks ``must_have``."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    lines = [line.strip() for line in proc.stdout.splitlines()]
    if proc.returncode != 0 or not any(line.startswith(must_have) for line in lines):
        raise SystemExit(f"{shlex.join(command)} failed on {model.path} (status {proc.returncode}):\n{proc.stderr}")
    return elapsed


def nnview_command(model: Model) -> list[str]:
    """``nnview summary FILE`` through the installed entry point's module."""
    return [sys.executable, "-m", "tui", "summary", model.path]


def torchinfo_command(model: Model) -> list[str]:
    """``python -c '... print(torchinfo.summary(...))' FILE``."""
    return [sys.executable, "-c", TORCHINFO_CODE.format(build=model.build, given=model.given), model.path]


def byte_compile_nnview() -> None:
    """Byte-compile nnview's modules, as pip does when it installs a wheel.

    torch's and torchinfo's modules were compiled when they were installed; an editable install under
    ``PYTHONDONTWRITEBYTECODE=1`` (as in CI here) would otherwise compile nnview's ~40 modules from source
    in every run (about 20 ms), a cost no installed nnview pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tui")], check=True)


def measure(models: Sequence[Model], rounds: int, quick: bool) -> list[Timing]:
    """``rounds`` interleaved rounds; the order of the two programs swaps every round."""
    byte_compile_nnview()
    env = _environment(quick)
    pairs = QUICK_PAIRS if quick else 2500
    timings = {m.name: Timing(m.name, [], []) for m in models}
    for round_index in range(rounds):
        for model in models:
            runs = [
                ("nnview", nnview_command(model), model.last_row.format(last=2 * pairs - 1)),
                ("torchinfo", torchinfo_command(model), "Estimated Total Size"),
            ]
            for program, command, must_have in runs if round_index % 2 == 0 else runs[::-1]:
                getattr(timings[model.name], program).append(_run(command, env, must_have, model))
    return list(timings.values())


def render(timings: Sequence[Timing], rounds: int, quick: bool) -> str:
    """A Markdown table of medians (ms) and ratios."""
    paths = {m.name: m.path for m in MODELS}
    lines = [
        f"Whole processes, {rounds} interleaved round(s), medians, stdout to a pipe at COLUMNS=100"
        + (f" (quick: deep5k cut to {QUICK_PAIRS * 2} modules)" if quick else "")
        + ":",
        "",
        "| Model | `nnview summary FILE` ms (min–max) | torchinfo `python -c` ms (min–max) | nnview / torchinfo |",
        "|---|---:|---:|---:|",
    ]
    for t in timings:
        cells = [
            f"{statistics.median(x) * 1000:.0f} ({min(x) * 1000:.0f}–{max(x) * 1000:.0f})"
            for x in (t.nnview, t.torchinfo)
        ]
        lines.append(f"| {paths[t.model]} | {cells[0]} | {cells[1]} | **{t.ratio:.2f}** |")
    worst = max(t.ratio for t in timings)
    lines += ["", f"Worst ratio: **{worst:.2f}** (target ≤ 1.0 on every model)"]
    return "\n".join(lines)


def render_headline(timings: Sequence[Timing]) -> str:
    """The README's line: ``nnview summary`` over the torchinfo script, per model, and the worst."""
    paths = {m.name: m.path for m in MODELS}
    ratios = ", ".join(f"{paths[t.model]} {t.ratio:.2f}" for t in timings)
    worst = max(t.ratio for t in timings)
    return f"`nnview summary FILE` / `python -c` torchinfo, whole processes: {ratios}; worst **{worst:.2f}** (target ≤ 1.0)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags in the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--models", default=",".join(m.name for m in MODELS))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.rounds = max(1, args.rounds or (1 if args.quick else 7))
    known = {m.name: m for m in MODELS}
    unknown = [name for name in args.models.split(",") if name not in known]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    args.models = [known[name] for name in args.models.split(",")]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table; optionally write JSON and the README block."""
    args = parse_args(argv)
    timings = measure(args.models, args.rounds, args.quick)
    table = render(timings, args.rounds, args.quick)
    print(table, flush=True)
    if args.json is not None:
        results = {"models": [{**asdict(t), "ratio": t.ratio} for t in timings], "machine": machine_note()}
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_results:
        write_results("summary", table, render_headline(timings), command_line(__file__, __package__, argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
