"""Bytes nnview writes to the terminal per second at 120 x 40: idle, while the selection moves, under the mouse.

Run from the repository root, either way::

    python bench/bandwidth.py              # 2 runs in each colour mode, 5 s phases (~75 s)
    python -m bench.bandwidth --quick      # 1 run in each colour mode, 1 s phases (~20 s)

Flags:
    --quick             1 run per colour mode and 1-second phases.
    --runs N            runs per colour mode, alternating the modes (default 2; 1 with ``--quick``); medians.
    --seconds S         length of the idle and the key phases (default 5; 1 with ``--quick``).
    --mouse-seconds S   length of the mouse phase (default 3; 1 with ``--quick``; 0 skips it).
    --json PATH         also write the raw numbers as JSON.
    --write-results     write the table into bench/RESULTS.md and the headline (idle, keys and B per key by colour
                        mode) into README.md, each between ``<!-- bench:bandwidth -->`` and
                        ``<!-- /bench:bandwidth -->``, with a note of the machine and this command (``bench/results.py``).

How it measures: ``nnview models/simple.py --no-watch`` (the installed console script) runs as the only process
of a fresh 120 x 40 pty whose master this process reads itself (``bench/terminal.py``; no tmux in between), so
every byte the program writes is counted, escape sequences included. Two colour modes: ``TERM=xterm-256color``
alone (what ``ssh`` forwards) and with ``COLORTERM=truecolor`` too (a local modern terminal), where each colour
is written as 24-bit RGB. A run:

1. **first screen**: every byte from the fork until the full table is on screen (*to the table*) and on until
   the output has been quiet for 1 s (*settled*), terminal set-up included: the one-off cost of the first full
   screen, the reference for the rest. Textual paints in parts (the table, the detail panel, and ~0.3 s later
   the whole screen again when the table's horizontal scrollbar appears), so the two differ;
2. **idle**: the next ``--seconds`` with no input;
3. **keys**: ``n`` and ``p`` typed alternately every 100 ms for ``--seconds`` (the selection moves between the
   first two layers and the detail panel redraws each time), counted until 300 ms after the last repaint;
4. **mouse**: an SGR mouse-motion report every 20 ms for ``--mouse-seconds``, sweeping across the table's rows
   and columns, as a terminal sends them when a pointer crosses the window (nnview, like every Textual app,
   turns on any-event mouse tracking, ``CSI ?1003h``);
5. ``q``, and the exit status.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``tui`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import command_line, machine_note, write_results
from bench.terminal import COLS, ROWS, SIMPLE, TIMEOUT, PtyRun, nnview_command, simple_table

ROOT = Path(__file__).resolve().parents[1]
SIMPLE_TABLE = simple_table(SIMPLE)
MODES: dict[str, dict[str, str]] = {
    "256 colours": {"TERM": "xterm-256color"},
    "truecolor": {"TERM": "xterm-256color", "COLORTERM": "truecolor"},
}
KEY_INTERVAL = 0.1
MOUSE_INTERVAL = 0.02
QUIET = 0.3  # seconds without output that end a phase's count


@dataclass
class BandwidthRun:
    """Byte counts of one run; rates in bytes per second."""

    mode: str
    table_bytes: int  # from the fork to the burst of output that put the table on screen
    first_screen_bytes: int  # from the fork until the output was quiet for 1 s after that
    table_seconds: float
    idle_seconds: float
    idle_bytes: int
    keys: int
    key_seconds: float
    key_bytes: int
    mouse_events: int
    mouse_seconds: float
    mouse_bytes: int
    exit_code: int | None

    @property
    def idle_rate(self) -> float:
        return self.idle_bytes / self.idle_seconds

    @property
    def key_rate(self) -> float:
        return self.key_bytes / self.key_seconds

    @property
    def per_key(self) -> float:
        return self.key_bytes / self.keys

    @property
    def mouse_rate(self) -> float:
        return self.mouse_bytes / self.mouse_seconds if self.mouse_seconds else 0.0

    @property
    def per_mouse_event(self) -> float:
        return self.mouse_bytes / self.mouse_events if self.mouse_events else 0.0


def paced(run: PtyRun, seconds: float, interval: float, event: Any) -> int:
    """Send ``event(i)`` every ``interval`` seconds for ``seconds`` (paced by the clock, reading in between)."""
    start, sent = run.now(), 0
    while sent * interval < seconds - 1e-9:
        run.pump(max(0.0, start + sent * interval - run.now()))
        run.send(event(sent))
        sent += 1
    run.pump(max(0.0, start + seconds - run.now()))
    return sent


def mouse_motion(i: int) -> str:
    """The ``i``-th SGR any-event motion report (no button): a zigzag over the table's rows 3-7, columns 2-71."""
    x = 2 + (i * 3) % 70
    y = 3 + (i // 8) % 5
    return f"\x1b[<35;{x};{y}M"


def measure(mode: str, seconds: float, mouse_seconds: float) -> BandwidthRun:
    """One run of nnview in colour mode ``mode``: the phases of the module docstring."""
    argv = [nnview_command(), SIMPLE, "--no-watch"]
    with PtyRun(argv, COLS, ROWS, env=MODES[mode], cwd=str(ROOT)) as run:
        table = run.wait_for(SIMPLE_TABLE, timeout=TIMEOUT)
        if table is None:
            raise SystemExit(f"nnview {SIMPLE}: the table never showed; the screen was:\n{run.screen().text()}")
        table_burst = next(at for at, _ in reversed(run.bursts(end=table)))
        to_table = sum(size for at, size in run.bursts() if at <= table_burst)
        run.settle(quiet=1.0, limit=10.0)
        settled = run.total_bytes

        run.pump(seconds)
        idle = run.total_bytes - settled

        before = run.total_bytes
        keys = paced(run, seconds, KEY_INTERVAL, lambda i: "n" if i % 2 == 0 else "p")
        run.settle(QUIET)
        key_bytes = run.total_bytes - before

        before = run.total_bytes
        events = paced(run, mouse_seconds, MOUSE_INTERVAL, mouse_motion) if mouse_seconds > 0 else 0
        if events:
            run.settle(QUIET)
        mouse_bytes = run.total_bytes - before

        run.send("q")
        code = run.wait_exit(TIMEOUT)
    return BandwidthRun(
        mode=mode,
        table_bytes=to_table,
        first_screen_bytes=settled,
        table_seconds=table,
        idle_seconds=seconds,
        idle_bytes=idle,
        keys=keys,
        key_seconds=seconds,
        key_bytes=key_bytes,
        mouse_events=events,
        mouse_seconds=mouse_seconds,
        mouse_bytes=mouse_bytes,
        exit_code=code,
    )


def _median(runs: list[BandwidthRun], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def render(runs: list[BandwidthRun], seconds: float, mouse_seconds: float) -> str:
    """One row per colour mode, medians over its runs."""
    lines = [
        f"`nnview {SIMPLE} --no-watch` at {COLS}x{ROWS}, bytes written to the pty, median of "
        f"{len(runs) // len(MODES)} run(s) per mode:",
        "",
        f"| Colours | first screen B: to the table / settled | idle {seconds:g} s: B/s | `n`/`p` every 100 ms for {seconds:g} s: B/s "
        "| B per key | screens/s "
        + (f"| mouse motion every 20 ms for {mouse_seconds:g} s: B/s | B per motion " if mouse_seconds else "")
        + "| exit status |",
        "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if mouse_seconds else "") + "---|",
    ]
    for mode in MODES:
        mine = [r for r in runs if r.mode == mode]
        screen, key_rate = _median(mine, "first_screen_bytes"), _median(mine, "key_rate")
        row = (
            f"| {mode} | {_median(mine, 'table_bytes'):,.0f} / {screen:,.0f} | {_median(mine, 'idle_rate'):,.0f} "
            f"| {key_rate:,.0f} "
            f"| {_median(mine, 'per_key'):,.0f} | {key_rate / screen:.2f} "
        )
        if mouse_seconds:
            row += f"| {_median(mine, 'mouse_rate'):,.0f} | {_median(mine, 'per_mouse_event'):,.0f} "
        codes = ", ".join(str(c) for c in sorted({r.exit_code for r in mine}, key=str))
        lines.append(row + f"| {codes} |")
    lines += [
        "",
        "For scale: 9600 baud carries 960 B/s, 1 Mbit/s 125,000 B/s. *screens/s* is the key rate over the settled first "
        "screen: how many first screens' worth of bytes per second the moving selection costs.",
    ]
    return "\n".join(lines)


def render_headline(runs: list[BandwidthRun], seconds: float) -> str:
    """The README's lines: idle, moving selection and bytes per key, by colour mode (medians)."""
    lines = []
    for mode in MODES:
        mine = [r for r in runs if r.mode == mode]
        lines.append(
            f"- {mode}: idle {_median(mine, 'idle_rate'):,.0f} B/s (target 0); `n`/`p` every 100 ms "
            f"{_median(mine, 'key_rate'):,.0f} B/s, {_median(mine, 'per_key'):,.0f} B per key"
        )
    return f"`nnview {SIMPLE} --no-watch` at {COLS}x{ROWS}, {seconds:g} s phases:\n\n" + "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The flags in the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--mouse-seconds", type=float, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    args.runs = max(1, args.runs or (1 if args.quick else 2))
    args.seconds = args.seconds or (1.0 if args.quick else 5.0)
    if args.mouse_seconds is None:
        args.mouse_seconds = 1.0 if args.quick else 3.0
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every colour mode ``--runs`` times (modes alternating), print the table; JSON and README too."""
    args = parse_args(argv)
    runs = [measure(mode, args.seconds, args.mouse_seconds) for _ in range(args.runs) for mode in MODES]
    table = render(runs, args.seconds, args.mouse_seconds)
    print(table, flush=True)
    if args.json is not None:
        results: dict[str, Any] = {
            "runs": [
                {
                    **asdict(r),
                    "idle_rate": r.idle_rate,
                    "key_rate": r.key_rate,
                    "per_key": r.per_key,
                    "mouse_rate": r.mouse_rate,
                    "per_mouse_event": r.per_mouse_event,
                }
                for r in runs
            ],
            "machine": machine_note(),
        }
        args.json.write_text(json.dumps(results, indent=2))
    if args.write_results:
        write_results(
            "bandwidth", table, render_headline(runs, args.seconds), command_line(__file__, __package__, argv)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
