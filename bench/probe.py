"""The probe's cost: the same training loop with and without ``Probe``, in one process, and its bytes per step.

Run from the repository root::

    python bench/probe.py                  # 9 alternating rounds per model (~1 min)
    python -m bench.probe --quick          # 1 round, fewer steps (~10 s)

Flags:
    --quick           1 round of 300 steps per model.
    --rounds N        rounds per model (default 9); each round trains once without and once with the probe,
                      the order swapped every round. Medians are reported; the ratio is the median of the
                      rounds' own ratios (a slow spell of the machine lands on both sides of a round).
    --steps N         optimizer steps per training (default 1,000).
    --every N         the probe's sampling interval (default: none given, the probe's adaptive default).
    --json PATH       also write the raw numbers as JSON.
    --write-results   write the table into bench/RESULTS.md and the headline into README.md, between
                      ``<!-- bench:probe -->`` and ``<!-- /bench:probe -->`` (``bench/results.py``).

What runs: a plain PyTorch loop (forward, cross-entropy, the batch's accuracy as a tensor, backward, Adam step,
zero_grad) on a fixed set of batches already in memory, so the loop measures the model and the probe, not a data loader. With the probe,
``probe.step(loss, accuracy=acc)`` goes between backward and the optimizer step, as the README shows, and the
run folder is written to a temporary directory. Models: the seed's FashionMNIST MLP (``models/fashion_mlp.py``,
784-512-512-10, batch 64) and the digits CNN (``models/digits_cnn.py``, batch 64 of 1x8x8), on the CPU with
one torch thread (as ``nnview train`` runs small steps; torch's two OpenMP threads on this 2-core machine made
rounds swing by ±10%, far more than the probe costs). The ratio is steps/s with the probe over steps/s without (target >= 0.97); bytes per
step are the run folder's size at the end over the steps.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from bench.results import command_line, write_results  # noqa: E402
from tui.probe import Probe  # noqa: E402

BATCHES = 16


def models() -> dict[str, tuple[type[nn.Module], tuple[int, ...]]]:
    """name -> (the model's class, one sample's shape)."""
    sys.path.insert(0, str(ROOT / "models"))
    from digits_cnn import DigitsCNN
    from fashion_mlp import NeuralNetwork

    return {"fashion_mlp.py (MLP)": (NeuralNetwork, (1, 28, 28)), "digits_cnn.py (CNN)": (DigitsCNN, (1, 8, 8))}


def train(make: type[nn.Module], shape: tuple[int, ...], steps: int, run_dir: Path | None, every: int | None) -> dict:
    """Train ``steps`` steps; steps/s, and with a probe its sampled steps and the run folder's bytes."""
    torch.manual_seed(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs = [torch.rand(64, *shape) for _ in range(BATCHES)]
    ys = [torch.randint(0, 10, (64,)) for _ in range(BATCHES)]
    probe = Probe(model, run_dir, every=every) if run_dir is not None else None
    began = time.perf_counter()
    for i in range(steps):
        x, y = xs[i % BATCHES], ys[i % BATCHES]
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        accuracy = (out.argmax(1) == y).float().mean()  # both loops compute it, as a loop that reports it does
        if probe is not None:
            probe.step(loss, accuracy=accuracy)
        optimizer.step()
        optimizer.zero_grad()
    if probe is not None:
        probe.close()
    seconds = time.perf_counter() - began
    result = {"steps_per_second": steps / seconds}
    if run_dir is not None:
        result["bytes"] = sum(f.stat().st_size for f in run_dir.iterdir())
        result["samples"] = sum(1 for line in (run_dir / "rank0.jsonl").open() if '"kind":"layers"' in line)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--every", type=int, default=None)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rounds = args.rounds or (1 if args.quick else 9)
    steps = args.steps or (300 if args.quick else 1000)
    scratch = Path(tempfile.mkdtemp(prefix="nnview-bench-probe-"))
    raw: dict[str, dict[str, list]] = {}
    try:
        for name, (make, shape) in models().items():
            train(make, shape, 50, None, None)  # warm up: first calls, allocator
            runs: dict[str, list] = {"without": [], "with": []}
            for r in range(rounds):
                order = ("without", "with") if r % 2 == 0 else ("with", "without")
                for side in order:
                    run_dir = scratch / f"{len(runs['with'])}-{name[:5]}" if side == "with" else None
                    runs[side].append(train(make, shape, steps, run_dir, args.every))
                    if run_dir is not None:
                        shutil.rmtree(run_dir)
            raw[name] = runs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows, headline = [], []
    for name, runs in raw.items():
        without = statistics.median(r["steps_per_second"] for r in runs["without"])
        with_probe = statistics.median(r["steps_per_second"] for r in runs["with"])
        per_step = statistics.median(r["bytes"] / steps for r in runs["with"])
        samples = statistics.median(r["samples"] for r in runs["with"])
        # Each round's own ratio (its two trainings ran back to back), then their median: a slow spell of the
        # machine lands on both sides of a round instead of on one side of the medians.
        ratio = statistics.median(
            w["steps_per_second"] / wo["steps_per_second"] for w, wo in zip(runs["with"], runs["without"], strict=True)
        )
        rows.append(f"| {name} | {without:,.0f} | {with_probe:,.0f} | {ratio:.3f}× | {samples:.0f} | {per_step:,.0f} B |")
        headline.append(f"{name} {ratio:.2f}× ({per_step:,.0f} B/step)")
    header = (
        f"{steps:,} steps per training, {rounds} rounds, medians; sampling: "
        f"{'every ' + str(args.every) if args.every else 'adaptive (the default)'}.\n\n"
        "| Model | steps/s without | steps/s with the probe | ratio, median of rounds (target ≥ 0.97) | layer samples | run folder per step |\n"
        "|---|---|---|---|---|---|"
    )
    full = header + "\n" + "\n".join(rows)
    print(full)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    if args.write_results:
        line = "Steps/s with the probe over without (target ≥ 0.97): " + "; ".join(headline) + "."
        write_results("probe", full, line, command_line(__file__, __package__, argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
