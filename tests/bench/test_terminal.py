"""Smoke tests of bench/startup.py, bench/bandwidth.py and their pty harness: ``--quick`` runs end to end.

Both drive the installed ``nnview`` in a pty of their own (bench/terminal.py), so what is asserted is what a
real terminal would have shown: the table text was found, the keys moved the selection, the program exited 0,
and the numbers are well-formed.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import bandwidth, startup, terminal

pytestmark = pytest.mark.skipif(shutil.which("nnview") is None, reason="the nnview console script is not installed")


def run_quick(main: Any, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """stdout and the JSON of one ``--quick`` run, in-process."""
    out = tmp_path / "quick.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--quick", "--json", str(out)]) == 0
    return printed.getvalue(), json.loads(out.read_text())


def test_startup_quick_finds_the_table_and_answers_keys(tmp_path: Path) -> None:
    printed, results = run_quick(startup.main, tmp_path)
    (simple,) = results["simple"]
    assert simple["nnview_exit_code"] == 0
    for key in ("nnview_first_bytes", "nnview_first_paint", "nnview_table", "nnview_restored", "nnview_quit"):
        assert isinstance(simple[key], float) and 0 < simple[key] < math.inf, (key, simple[key])
    for key in ("torchinfo_done", "torchinfo_exit"):
        assert isinstance(simple[key], float) and 0 < simple[key] < math.inf, (key, simple[key])
    assert simple["nnview_first_bytes"] <= simple["nnview_first_paint"] <= simple["nnview_table"]
    assert simple["nnview_restored"] <= simple["nnview_quit"]
    assert simple["torchinfo_done"] <= simple["torchinfo_exit"]
    assert isinstance(results["ratio"], float) and 0 < results["ratio"] < math.inf
    shown = re.search(r"nnview / torchinfo \(full table on screen, medians\): \*\*([0-9.]+)\*\*", printed)
    assert shown is not None and float(shown.group(1)) == pytest.approx(results["ratio"], abs=0.006)

    (deep,) = results["deep"]
    assert deep["modules"] == 2 * startup.QUICK_PAIRS
    assert 0 < deep["table"] < math.inf
    assert deep["help_latency"] is not None and deep["help_latency"] > 0  # "?" opened the help
    assert deep["keys_followed"] is True and len(deep["key_latencies"]) == 5  # five j, five rows down
    assert all(0 < latency < math.inf for latency in deep["key_latencies"])
    assert deep["exit_code"] == 0
    assert f"`nnview {startup.DEEP} --no-watch`, 500 modules + root, 1 run(s):" in printed


def test_bandwidth_quick_counts_bytes(tmp_path: Path) -> None:
    printed, results = run_quick(bandwidth.main, tmp_path)
    runs = results["runs"]
    assert [run["mode"] for run in runs] == list(bandwidth.MODES)
    for run in runs:
        assert run["exit_code"] == 0
        assert run["keys"] == 10 and run["mouse_events"] == 50  # 1 s of keys every 100 ms, mouse every 20 ms
        for key in ("table_bytes", "first_screen_bytes", "idle_bytes", "key_bytes", "mouse_bytes"):
            assert isinstance(run[key], int) and run[key] >= 0, (key, run[key])
        assert 0 < run["table_bytes"] <= run["first_screen_bytes"]  # the table was painted
        assert run["key_bytes"] > 0  # moving the selection repaints
        for key in ("idle_rate", "key_rate", "per_key", "mouse_rate", "per_mouse_event"):
            assert isinstance(run[key], (int, float)) and 0 <= run[key] < math.inf, (key, run[key])
    rows = [line for line in printed.splitlines() if line.startswith("| ") and not line.startswith("| Colours")]
    assert [row.split("|")[1].strip() for row in rows] == list(bandwidth.MODES)


def test_screen_model_follows_cursor_moves_erases_wide_characters_and_split_escapes() -> None:
    screen = terminal.Screen(cols=12, rows=3)
    stream = "\x1b[?1049h\x1b[?7l\x1b[2;3H\x1b[1;38;2;1;2;3mab\x1b[0m漢c\x1b]22;x\x07\x1b[1;1Hxyz\x1b[1;2H\x1b[K|"
    data = stream.encode()
    for i in range(0, len(data), 5):  # cut anywhere, even inside escapes and UTF-8 sequences
        screen.feed(data[i : i + 5])
    assert screen.lines() == ["x|", "  ab漢c", ""]
    screen.feed(b"\x1b[3;10Htoolong")  # no autowrap (?7l): the last column is overwritten
    assert screen.lines()[2] == "         tog"


def test_settle_returns_once_the_program_has_been_quiet(tmp_path: Path) -> None:
    script = "import time; print('one', flush=True); time.sleep(0.4); print('two', flush=True); time.sleep(30)"
    run = terminal.PtyRun([sys.executable, "-c", script], 40, 5, cwd=str(tmp_path))
    try:
        run.settle(quiet=1.0, limit=10.0)  # the 0.4 s between the lines is not quiet enough to stop at
        assert run.screen().lines()[:2] == ["one", "two"]
        assert run.process.poll() is None  # it stopped on the quiet, not at the program's end
    finally:
        assert run.close(quit_keys=b"") == -signal.SIGTERM


def test_simple_table_needs_the_header_of_that_path_and_the_last_row() -> None:
    screen = terminal.Screen(cols=60, rows=3)
    screen.feed(b"SimpleNN  bench/models/simple_long.py  params 147\r\n")
    screen.feed(b"fc3   Linear   (4,6)   (3,6)   (4,3)")
    assert terminal.simple_table("bench/models/simple_long.py")(screen)
    assert not terminal.simple_table("models/simple.py")(screen)


def test_headlines_state_the_figures_beside_their_targets() -> None:
    simple = startup.SimpleRound(0.150, 0.239, 1.022, 0.201, 0.511, 0, 0.653, 0.872)
    deep = startup.DeepRun(5000, 0.228, 0.761, True, 2.311, "Sequential  Sequential", [0.041, 0.027], True)
    assert startup.render_headline([simple], 1.57, [deep]).splitlines() == [
        "- full table of models/simple.py on screen: nnview / torchinfo **1.57** (target ≤ 1.0)",
        "- first paint: 239 ms after process start (target ≤ 500 ms)",
        "- 5,000 modules: first frame 228 ms, table on screen 2311 ms (target ≤ 3 s), `j` after the load 41 ms at most "
        "(target ≤ 50 ms)",
    ]
    runs = [
        bandwidth.BandwidthRun("256 colours", 10906, 49370, 1.0, 5.0, 0, 50, 5.0, 418_540, 150, 3.0, 364_992, 0),
        bandwidth.BandwidthRun("truecolor", 13690, 62955, 1.0, 5.0, 0, 50, 5.0, 546_590, 150, 3.0, 439_908, 0),
    ]
    assert bandwidth.render_headline(runs, 5.0).splitlines() == [
        "`nnview models/simple.py --no-watch` at 120x40, 5 s phases:",
        "",
        "- 256 colours: idle 0 B/s (target 0); `n`/`p` every 100 ms 83,708 B/s, 8,371 B per key",
        "- truecolor: idle 0 B/s (target 0); `n`/`p` every 100 ms 109,318 B/s, 10,932 B per key",
    ]
