"""Time from process start to nnview's full layer table on screen, in a real pseudo-terminal, against torchinfo.

Run from the repository root, either way::

    python bench/startup.py                # 7 alternating rounds, then the 5,000-module model twice (~1.5 min)
    python -m bench.startup --quick        # 1 round; the big model cut to 500 modules (~15 s)

Flags:
    --quick             1 round of the SimpleNN pair and 1 run of the big model, cut to 250 x (Linear, ReLU).
    --rounds N          rounds of (nnview, torchinfo) on models/simple.py, the order swapped every round
                        (default 7; 1 with ``--quick``). Medians are reported.
    --deep-runs N       runs of ``nnview bench/models/deep5k.py`` (default 2; 1 with ``--quick``). Each run
                        types keys while the model loads and after the table is shown.
    --json PATH         also write the raw numbers as JSON.
    --write-results     write the tables into bench/RESULTS.md and the headline (the ratio, the first paint, the big
                        model's first frame and table) into README.md, each between ``<!-- bench:startup -->`` and
                        ``<!-- /bench:startup -->``, with a note of the machine and this command (``bench/results.py``).

How it measures: every program runs as the only process of a fresh pty of 120 x 40 (``TERM=xterm-256color``, no
``COLORTERM``, no ``NO_COLOR``) that this process reads byte for byte (``bench/terminal.py``: ``os.openpty`` and
``subprocess``, no tmux in between). The clock starts just before the fork; a time is the arrival of the exact
chunk of output after which a small screen model of the terminal shows the text asked for, so it is the moment
a user could have read it, to within a few milliseconds of read latency.

- **nnview**: ``nnview models/simple.py --no-watch`` (the installed console script) until the header reads
  ``SimpleNN  models/simple.py  params 147`` and the row ``fc3 Linear (4,6) (3,6) (4,3)`` is on screen (also
  reported: the first bytes, i.e. Textual setting the terminal up, and the first text painted); then ``q``, the
  time until the terminal's own screen is back (alternate screen left) and until the process has exited.
- **torchinfo**: ``python -c`` importing torch and torchinfo, loading the same SimpleNN from models/simple.py and
  printing ``torchinfo.summary(model, input_size=(4, 5))``, until its last line (the ``====`` rule under
  ``Estimated Total Size``) is on screen. The ratio nnview / torchinfo of the medians is the number to watch
  (target <= 1.0): both pay for ``import torch``; nnview also imports Textual and paints a full screen.
- **5,000 modules**: ``nnview bench/models/deep5k.py --no-watch`` (Sequential of 2,500 x (Linear(64, 64),
  ReLU())): the time to the first frame (header ``nnview  loading …``), to the full table (the header naming
  ``params 10.4M``, painted in the same frame as the rows, then the row ``0 Linear`` checked), and whether keys answer meanwhile: ``?`` typed as soon as the
  first frame shows must open the help while the trace runs (latency reported), ``esc`` closes it, three ``j``
  are typed before the table arrives, then five ``j`` after it, each timed until the detail panel names the newly
  selected layer.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tui`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import command_line, machine_note, write_results
from bench.terminal import COLS, ROWS, SIMPLE, TIMEOUT, PtyRun, Screen, has_line, nnview_command, simple_table

ROOT = Path(__file__).resolve().parents[1]
DEEP = "bench/models/deep5k.py"
DEEP_PAIRS_ENV = "NNVIEW_BENCH_PAIRS"  # bench/models/deep5k.py reads its size from it
QUICK_PAIRS = 250
FIRST_FRAME_TARGET = 0.5  # seconds from process start to the first frame
DEEP_TABLE_TARGET = 3.0  # seconds to the 5,000-module table on screen
KEY_TARGET = 0.05  # seconds from a key to the screen showing its effect

TORCHINFO_CODE = """
import importlib.util, sys
import torch, torchinfo
spec = importlib.util.spec_from_file_location("simple", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
torch.manual_seed(0)
print(torchinfo.summary(module.SimpleNN(), input_size=(4, 5), verbose=0))
"""

SIMPLE_TABLE = simple_table(SIMPLE)
FIRST_TEXT = has_line(r"\S")
HELP = has_line(r"Next layer in execution order")
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"


def torchinfo_done(screen: Screen) -> bool:
    """torchinfo's summary is complete: the ``====`` rule under ``Estimated Total Size`` is on screen."""
    lines = screen.lines()
    return any(
        "Estimated Total Size" in line and i + 1 < len(lines) and lines[i + 1].startswith("=====")
        for i, line in enumerate(lines)
    )


def detail_first_line(screen: Screen) -> str:
    """The detail panel's first line (right of the table at 120 columns, under the side panel's tab bar)."""
    for line in screen.lines()[1:8]:
        right = line.rpartition("│")[2].strip()
        if re.fullmatch(r"\S+  \S+", right):  # "name  Type"; the tab bar has three words, its underline one
            return right
    return ""


def detail_names(label: str, kind: str) -> Callable[[Screen], bool]:
    """The detail panel's first line names layer ``label`` of ``kind``."""
    return lambda screen: detail_first_line(screen) == f"{label}  {kind}"


@dataclass
class SimpleRound:
    """One round on models/simple.py, seconds from the fork."""

    nnview_first_bytes: float  # the terminal set-up sequences: Textual has started
    nnview_first_paint: float  # the first text on screen
    nnview_table: float
    nnview_restored: float  # from typing q to the terminal's own screen back (alternate screen left)
    nnview_quit: float  # from typing q to the process's exit
    nnview_exit_code: int | None
    torchinfo_done: float
    torchinfo_exit: float


@dataclass
class DeepRun:
    """One run of the 5,000-module model; seconds from the fork unless said otherwise."""

    modules: int
    first_frame: float | None  # the header reads "loading"
    help_latency: float | None  # "?" typed at the first frame -> help on screen, during the load
    help_during_load: bool  # the help showed before the table arrived
    table: float
    selected_after_load: str  # the detail panel's first line once the table is shown
    key_latencies: list[float] = field(default_factory=list)  # five "j" after the table, each until it shows
    keys_followed: bool = False  # the five "j" selected rows 1..5 in order
    restored: float | None = None  # q -> the terminal's own screen back
    quit: float | None = None  # q -> the process's exit
    exit_code: int | None = None


def run_nnview_simple() -> tuple[float, float, float, float, float, int | None]:
    """First bytes, first paint, table, q -> screen restored, q -> exit, exit code: ``nnview models/simple.py``."""
    with PtyRun([nnview_command(), SIMPLE, "--no-watch"], COLS, ROWS, cwd=str(ROOT)) as run:
        table = run.wait_for(SIMPLE_TABLE, timeout=TIMEOUT)
        if table is None:
            raise SystemExit(f"nnview {SIMPLE}: the table never showed; the screen was:\n{run.screen().text()}")
        run.pump(0.3)  # let the frame finish before quitting
        typed = run.send("q")
        code = run.wait_exit(TIMEOUT)
        quit_latency = run.eof_at - typed if code is not None and run.eof_at else math.nan
        restored = run.first_bytes(LEAVE_ALTERNATE_SCREEN, since=typed)
        painted = run.first_time(FIRST_TEXT)
        assert painted is not None
        restore_latency = math.nan if restored is None else restored - typed
        return run.chunks[0][0], painted, table, restore_latency, quit_latency, code


def run_torchinfo_simple() -> tuple[float, float]:
    """(summary complete, process exited) for ``python -c 'print(torchinfo.summary(SimpleNN()))'``."""
    argv = [sys.executable, "-c", TORCHINFO_CODE, SIMPLE]
    with PtyRun(argv, COLS, ROWS, cwd=str(ROOT)) as run:
        done = run.wait_for(torchinfo_done, timeout=TIMEOUT)
        if done is None:
            raise SystemExit(f"torchinfo never finished its summary; the screen was:\n{run.screen().text()}")
        run.wait_exit(TIMEOUT)
        return done, run.eof_at or run.now()


def simple_rounds(rounds: int) -> list[SimpleRound]:
    """``rounds`` rounds of nnview and torchinfo, alternating which goes first."""
    results = []
    for i in range(rounds):
        if i % 2 == 0:
            nn_times, ti_times = run_nnview_simple(), run_torchinfo_simple()
        else:
            ti_times, nn_times = run_torchinfo_simple(), run_nnview_simple()
        results.append(SimpleRound(*nn_times, *ti_times))
    return results


def run_deep(pairs: int | None) -> DeepRun:
    """One run of the big model, typing keys during and after the load (see the module docstring)."""
    env = {DEEP_PAIRS_ENV: str(pairs)} if pairs else {}
    modules = 2 * (pairs or 2500)
    params = f"params {_human(modules // 2 * (64 * 64 + 64))}"
    # The header and the table are updated by the same message handler, so they paint in one frame; the header
    # is timed because the help, when it is still open, hides part of the table but never the header.
    header_done = has_line(rf"^ Sequential  {re.escape(DEEP)}  {re.escape(params)}")
    with PtyRun([nnview_command(), DEEP, "--no-watch"], COLS, ROWS, env=env, cwd=str(ROOT)) as run:
        first = run.wait_for(FIRST_TEXT, timeout=TIMEOUT)
        assert first is not None, "nnview wrote nothing"
        loading = run.first_time(has_line(r"^ nnview  loading "))
        help_typed = run.send("?")
        helped = run.wait_for(HELP, since=help_typed, timeout=TIMEOUT)
        help_during_load = helped is not None and not header_done(run.screen(until=helped))
        run.send("\x1b")
        run.wait_for(lambda s: not HELP(s), since=run.now(), timeout=TIMEOUT)
        for _ in range(3):  # selection keys while the table is still empty
            run.send("j")
            run.pump(0.05)
        table = run.wait_for(header_done, timeout=TIMEOUT)
        rows_shown = run.wait_for(has_line(r"│ 0\s+Linear\s+\(16,64\)\s+\(64,64\)"), timeout=TIMEOUT)
        if table is None or rows_shown is None:
            raise SystemExit(f"nnview {DEEP}: the table never showed; the screen was:\n{run.screen().text()}")
        run.pump(0.5)
        selected = detail_first_line(run.screen())
        latencies, followed = [], True
        # rows after the root: "0 Linear", "1 ReLU", "2 Linear", ...; from the root, j selects them in order
        start = _row_index(selected)
        for step in range(1, 6):
            row = start + step
            label, kind = str(row - 1), ("Linear" if (row - 1) % 2 == 0 else "ReLU")
            sent = run.send("j")
            shown = run.wait_for(detail_names(label, kind), since=sent, timeout=10.0)
            if shown is None:
                followed = False
                break
            latencies.append(shown - sent)
        quit_typed = run.send("q")
        code = run.wait_exit(TIMEOUT)
        quit_latency = run.eof_at - quit_typed if code is not None and run.eof_at else None
        restored = run.first_bytes(LEAVE_ALTERNATE_SCREEN, since=quit_typed)
    return DeepRun(
        modules=modules,
        first_frame=loading,
        help_latency=None if helped is None else helped - help_typed,
        help_during_load=help_during_load,
        table=table,
        selected_after_load=selected,
        key_latencies=latencies,
        keys_followed=followed,
        restored=None if restored is None else restored - quit_typed,
        quit=quit_latency,
        exit_code=code,
    )


def _row_index(detail_first_line: str) -> int:
    """The table row the detail panel shows: 0 for the root ``Sequential``, else child number + 1."""
    name = detail_first_line.split()[0] if detail_first_line else ""
    return int(name) + 1 if name.isdigit() else 0


def _human(count: int) -> str:
    from tui.text import human_count

    return human_count(count)


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value * 1e3:.0f}"


def render_simple(rounds: list[SimpleRound]) -> tuple[str, float]:
    """The SimpleNN table (medians in ms) and the ratio nnview / torchinfo."""
    med = {
        key: statistics.median(getattr(r, key) for r in rounds)
        for key in asdict(rounds[0])
        if key != "nnview_exit_code"
    }
    ratio = med["nnview_table"] / med["torchinfo_done"]
    spread = {
        key: f"{min(getattr(r, key) for r in rounds) * 1e3:.0f}–{max(getattr(r, key) for r in rounds) * 1e3:.0f}"
        for key in ("nnview_table", "torchinfo_done")
    }
    codes = sorted({r.nnview_exit_code for r in rounds}, key=str)
    lines = [
        f"SimpleNN ({SIMPLE}) at {COLS}x{ROWS}, {len(rounds)} alternating round(s), medians:",
        "",
        "| Program | terminal set up ms | first paint ms | table / summary complete ms (min–max) | exit ms |",
        "|---|---:|---:|---:|---|",
        f"| `nnview {SIMPLE} --no-watch` | {_ms(med['nnview_first_bytes'])} | {_ms(med['nnview_first_paint'])} "
        f"| {_ms(med['nnview_table'])} ({spread['nnview_table']}) "
        f"| q → screen restored in {_ms(med['nnview_restored'])}, exit in {_ms(med['nnview_quit'])} "
        f"(status {', '.join(map(str, codes))}) |",
        f"| `python -c 'print(torchinfo.summary(SimpleNN()))'` | - | - | {_ms(med['torchinfo_done'])} "
        f"({spread['torchinfo_done']}) | exits at {_ms(med['torchinfo_exit'])} |",
        "",
        f"nnview / torchinfo (full table on screen, medians): **{ratio:.2f}** (target ≤ 1.0)",
    ]
    return "\n".join(lines), ratio


def render_deep(runs: list[DeepRun]) -> str:
    """The big model's times and what the keys did."""
    modules = runs[0].modules
    lines = [
        f"`nnview {DEEP} --no-watch`, {modules:,} modules + root, {len(runs)} run(s):",
        "",
        "| Run | first frame (`loading`) ms | `?` → help ms | help before table | table on screen ms "
        "| selected after load | 5 × `j` after load, ms each | q → screen restored / exit ms |",
        "|---:|---:|---:|---|---:|---|---|---:|",
    ]
    for i, r in enumerate(runs, 1):
        keys = ", ".join(_ms(v) for v in r.key_latencies) + ("" if r.keys_followed else " (stopped following)")
        lines.append(
            f"| {i} | {_ms(r.first_frame)} | {_ms(r.help_latency)} | {'yes' if r.help_during_load else 'no'} "
            f"| {_ms(r.table)} | `{r.selected_after_load}` | {keys} | {_ms(r.restored)} / {_ms(r.quit)} |"
        )
    return "\n".join(lines)


def render_headline(rounds: list[SimpleRound], ratio: float, deep: list[DeepRun]) -> str:
    """The README's lines: the ratio to torchinfo, the first paint and the big model's times, beside their targets."""
    paint = statistics.median(r.nnview_first_paint for r in rounds)
    lines = [
        f"- full table of {SIMPLE} on screen: nnview / torchinfo **{ratio:.2f}** (target ≤ 1.0)",
        f"- first paint: {_ms(paint)} ms after process start (target ≤ {FIRST_FRAME_TARGET * 1e3:.0f} ms)",
    ]
    if deep:
        frames = [r.first_frame for r in deep if r.first_frame is not None]
        keys = [v for r in deep for v in r.key_latencies]
        lines.append(
            f"- {deep[0].modules:,} modules: first frame {_ms(statistics.median(frames) if frames else None)} ms, "
            f"table on screen {_ms(statistics.median(r.table for r in deep))} ms "
            f"(target ≤ {DEEP_TABLE_TARGET:g} s), `j` after the load {_ms(max(keys) if keys else None)} ms at most "
            f"(target ≤ {KEY_TARGET * 1e3:.0f} ms)"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags in the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--deep-runs", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.rounds = max(1, args.rounds or (1 if args.quick else 7))
    args.deep_runs = max(0, args.deep_runs if args.deep_runs is not None else (1 if args.quick else 2))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run both parts, print the tables; optionally write JSON and the README."""
    args = parse_args(argv)
    rounds = simple_rounds(args.rounds)
    simple_text, ratio = render_simple(rounds)
    deep = [run_deep(QUICK_PAIRS if args.quick else None) for _ in range(args.deep_runs)]
    parts = [simple_text] + ([render_deep(deep)] if deep else [])
    print("\n\n".join(parts), flush=True)
    if args.json is not None:
        results: dict[str, Any] = {
            "simple": [asdict(r) for r in rounds],
            "ratio": ratio,
            "deep": [asdict(r) for r in deep],
            "machine": machine_note(),
        }
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_results:
        command = command_line(__file__, __package__, argv)
        write_results("startup", "\n\n".join(parts), render_headline(rounds, ratio, deep), command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
