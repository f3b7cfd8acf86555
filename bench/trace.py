"""Time nnview's trace against a plain forward pass and torchinfo, and check ``nnview summary --meta`` on a 7B model.

Run from the repository root, either way::

    python bench/trace.py                 # full run: four models, then the 7B --meta check (~2-4 min on 2 cores)
    python -m bench.trace --quick         # tiny models, 2 rounds, no 7B check (a few seconds)

Flags:
    --quick             tiny versions of the four models, 2 rounds: MLP on a batch of 8; ResNet with 5 blocks, width 8,
                        on (2, 3, 16, 16); GPT with 2 layers, d=64, vocab 1000, on 32 ids; a 200-module MLP.
                        The 7B ``--meta`` check is skipped unless ``--meta-check`` is given.
    --meta-check / --no-meta-check
                        force the 7B ``--meta`` check on or off (default: on, off with ``--quick``).
    --meta-only         run only the ``--meta`` check.
    --meta-file FILE    the model file for the ``--meta`` check (default ``bench/models/llama7b.py``).
    --meta-repeats N    runs of each child process; medians are reported (default 3, 1 with ``--quick``).
    --budget SECONDS    timing budget per model; rounds stop after it once ``--min-rounds`` are done (default 25).
    --min-rounds N / --max-rounds N
                        bounds on the timed rounds per model (defaults 5 and 50; both 2 with ``--quick``).
    --json PATH         also write the raw numbers as JSON.
    --write-results     write the table and the ``--meta`` lines into bench/RESULTS.md and the headline (nnview over
                        torchinfo per model, the 7B check against its targets) into README.md, each between
                        ``<!-- bench:trace -->`` and ``<!-- /bench:trace -->``, with a note of the machine and this
                        command (``bench/results.py``).

Each model gets one warm-up of each contender, then rounds of (a) ``model(x)`` under ``torch.no_grad()``,
(b) ``torchinfo.summary(model, input_data=x, verbose=0)`` and (c) nnview's ``trace_model``, interleaved in one
process (the order rotates every round, garbage is collected before every call and results are dropped outside
the timed region), so the ratios of the medians survive a noisy machine better than absolute times do.
Below the table, notes say where the tools disagree (tied parameters, rows, MACs).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tui`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torchinfo

from bench.meta import LLAMA_FILE, TARGET_MIB, TARGET_SECONDS, ChildRun, meta_check, render_meta
from bench.nets import BUILDERS, distinct_params
from bench.results import command_line, machine_note, write_results
from tui.core.example_input import ExampleInput
from tui.core.trace.tracing import trace_model

# nnview three ways: "trace" records shapes, parameters, MACs and activations only (`nnview summary
# --no-stats`); "summary" adds exact output statistics (`nnview summary`); "explorer" also keeps every
# layer's output, input and activated output for display (`nnview FILE`).
CONTENDERS = ("plain", "torchinfo", "trace", "summary", "explorer")


@dataclass
class ModelRow:
    """One model's medians (seconds), ratios and what each tool recorded."""

    name: str
    rounds: int
    plain: float
    torchinfo: float
    trace: float
    summary: float
    explorer: float
    rows_torchinfo: int
    rows_nnview: int
    params_true: int
    params_torchinfo: int
    params_nnview: int
    macs_torchinfo: int
    macs_nnview: int

    @property
    def ratios(self) -> dict[str, float]:
        """nnview (summary and explorer) over torchinfo, and each over a plain forward, from the medians."""
        return {
            "trace/torchinfo": self.trace / self.torchinfo,
            "summary/torchinfo": self.summary / self.torchinfo,
            "explorer/torchinfo": self.explorer / self.torchinfo,
            "summary/plain": self.summary / self.plain,
            "torchinfo/plain": self.torchinfo / self.plain,
        }


def measure(
    calls: dict[str, Callable[[], object]], min_rounds: int, max_rounds: int, budget: float
) -> dict[str, list[float]]:
    """Time every call once per round, interleaved with a rotating order, until the budget is spent."""
    times: dict[str, list[float]] = {key: [] for key in calls}
    order = list(calls)
    start = time.perf_counter()
    for round_ in range(max_rounds):
        for key in order[round_ % len(order) :] + order[: round_ % len(order)]:
            gc.collect()
            began = time.perf_counter()
            result = calls[key]()
            times[key].append(time.perf_counter() - began)
            del result  # freeing the result is not part of the timing
        if round_ + 1 >= min_rounds and time.perf_counter() - start > budget:
            break
    return times


def bench_model(
    name: str, build: Callable[[bool], tuple[torch.nn.Module, torch.Tensor]], args: argparse.Namespace
) -> ModelRow:
    """Build one model, warm every contender up once (keeping what it recorded), then time them side by side."""
    model, x = build(args.quick)

    def plain() -> object:
        with torch.no_grad():
            return model(x)

    calls: dict[str, Callable[[], Any]] = {
        "plain": plain,
        "torchinfo": lambda: torchinfo.summary(model, input_data=x, verbose=0),
        "trace": lambda: trace_model(model, ExampleInput((x,)), budget_bytes=0, stats=False),
        "summary": lambda: trace_model(model, ExampleInput((x,)), budget_bytes=0),
        "explorer": lambda: trace_model(model, ExampleInput((x,))),
    }
    plain()
    calls["explorer"]()
    info, traced = calls["torchinfo"](), calls["summary"]()
    recorded = {
        "rows_torchinfo": len(info.summary_list),
        "rows_nnview": len(traced.layers),
        "params_true": distinct_params(model),
        "params_torchinfo": int(info.total_params),
        "params_nnview": traced.totals.params,
        "macs_torchinfo": int(info.total_mult_adds),
        "macs_nnview": traced.totals.macs,
    }
    del info, traced  # the trace keeps layer outputs: do not hold them while timing
    times = measure(calls, args.min_rounds, args.max_rounds, args.budget)
    medians = [statistics.median(times[key]) for key in CONTENDERS]
    label = f"{name} [quick]" if args.quick else name
    return ModelRow(label, len(times["summary"]), *medians, **recorded)


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f}"


def render_table(rows: Sequence[ModelRow]) -> str:
    """The Markdown table: medians in ms, ratios, then rows, parameters and MACs as each tool recorded them."""
    lines = [
        "| Model | Rounds | plain ms | torchinfo ms | nnview trace ms | nnview summary ms | nnview explorer ms "
        "| trace/torchinfo | summary/torchinfo | explorer/torchinfo | summary/plain | torchinfo/plain "
        "| Rows torchinfo / nnview | Params true / torchinfo / nnview | MACs torchinfo / nnview |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratios = " | ".join(f"{v:.3g}" for v in r.ratios.values())
        medians = " | ".join(f"{v * 1e3:.1f}" for v in (r.plain, r.torchinfo, r.trace, r.summary, r.explorer))
        params = f"{r.params_true:,} / {r.params_torchinfo:,} / {r.params_nnview:,}"
        lines.append(
            f"| {r.name} | {r.rounds} | {medians} | {ratios} | {r.rows_torchinfo} / {r.rows_nnview} | {params} "
            f"| {_si(r.macs_torchinfo)} / {_si(r.macs_nnview)} |"
        )
    return "\n".join(lines)


def render_notes(rows: Sequence[ModelRow]) -> str:
    """Where the tools disagree about what the model is: parameters, rows and MACs."""
    notes = []
    for r in rows:
        if r.params_nnview != r.params_true:
            notes.append(f"- {r.name}: nnview reports {r.params_nnview:,} parameters, the model has {r.params_true:,}")
        if r.params_torchinfo > r.params_true:
            extra = r.params_torchinfo - r.params_true
            notes.append(f"- {r.name}: torchinfo counts {extra:,} tied parameters twice ({r.params_torchinfo:,})")
        if r.rows_torchinfo > r.rows_nnview:
            notes.append(
                f"- {r.name}: torchinfo lists {r.rows_torchinfo - r.rows_nnview} more row(s): containers that forward "
                "never calls (an nn.ModuleList); nnview has one row per module call"
            )
        if r.macs_nnview and not 0.95 < r.macs_torchinfo / r.macs_nnview < 1.05:
            notes.append(
                f"- {r.name}: torchinfo's mult-adds are {r.macs_torchinfo / r.macs_nnview:.3g}x nnview's MACs "
                "(torchinfo 1.8 multiplies each weight and bias by the output's first dimension only: "
                "embeddings count, sequence positions and attention do not)"
            )
    return "\n".join(notes)


def render_headline(rows: Sequence[ModelRow], children: Sequence[ChildRun]) -> str:
    """The README's lines: nnview over torchinfo per model (medians), and the 7B ``--meta`` check's targets."""
    lines = []
    if rows:
        lines += [
            "| Model | summary / torchinfo | explorer / torchinfo |",
            "|---|---:|---:|",
            *(
                f"| {r.name} | {r.ratios['summary/torchinfo']:.2f} | {r.ratios['explorer/torchinfo']:.2f} |"
                for r in rows
            ),
        ]
    if len(children) > 2:
        nnview = children[2]
        lines += [
            "",
            f"`{nnview.label}`: {nnview.seconds:.2f} s (target ≤ {TARGET_SECONDS:g} s), {nnview.peak_mib:.0f} MiB "
            f"peak RSS (target ≤ {TARGET_MIB:g} MiB)",
        ]
    return "\n".join(lines).strip()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags in the module docstring, with ``--quick`` filling in the defaults it changes."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--meta-check", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--meta-only", action="store_true")
    parser.add_argument("--meta-file", default=LLAMA_FILE)
    parser.add_argument("--meta-repeats", type=int, default=None)
    parser.add_argument("--budget", type=float, default=25.0)
    parser.add_argument("--min-rounds", type=int, default=None)
    parser.add_argument("--max-rounds", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.min_rounds = args.min_rounds or (2 if args.quick else 5)
    args.max_rounds = max(args.min_rounds, args.max_rounds or (2 if args.quick else 50))
    args.meta_repeats = args.meta_repeats or (1 if args.quick else 3)
    if args.meta_check is None:
        args.meta_check = args.meta_only or not args.quick
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and the ``--meta`` lines; optionally write JSON and the README."""
    args = parse_args(argv)
    rows = [] if args.meta_only else [bench_model(name, build, args) for name, build in BUILDERS.items()]
    parts = [part for part in (render_table(rows), render_notes(rows)) if part] if rows else []
    children: list[ChildRun] = []
    summary: dict[str, Any] = {}
    if args.meta_check:
        children, summary = meta_check(args.meta_file, args.meta_repeats)
        parts.append(render_meta(children, summary, args.meta_file, args.meta_repeats))
    print("\n\n".join(parts), flush=True)
    if args.json is not None:
        results = {
            "models": [{**asdict(r), "ratios": r.ratios} for r in rows],
            "meta": [{k: v for k, v in asdict(c).items() if k != "stdout"} for c in children],
            "meta_totals": summary.get("totals"),
            "meta_layers": len(summary.get("layers", [])),
            "machine": machine_note(),
        }
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_results:
        command = command_line(__file__, __package__, argv)
        write_results("trace", "\n\n".join(parts), render_headline(rows, children), command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
