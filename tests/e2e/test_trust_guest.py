"""The real ``nnview summary`` on hostile model files (issue 7, sections 3 "files" and 4, and ``--meta``).

Each case checks the exit status, one message without a traceback, and that the corpus is unchanged.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_terminal import NNVIEW, Tmux, session, tmux  # noqa: F401 - fixtures, used by name
from tests.trust import ROOT, assert_user_error, files_unchanged, flat, run_all, run_nnview

GUEST = ROOT / "tests" / "corpus" / "guest"


@pytest.fixture(scope="module")
def timeouts() -> dict[str, subprocess.CompletedProcess[str]]:
    """The three code paths that never return, bounded by --timeout 1, run at once."""
    with files_unchanged(GUEST):
        return run_all(
            {
                "python_loop": ["summary", "--timeout", "1", str(GUEST / "hangs_in_forward.py")],
                "c_lock": ["summary", "--timeout", "1", "--json", str(GUEST / "hangs_in_c.py")],
                "constructor": ["summary", "--timeout", "1", str(GUEST / "hangs_in_constructor.py")],
            },
            timeout=90,
        )


def test_timeout_ends_a_forward_stuck_in_a_python_loop(timeouts: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = timeouts["python_loop"]
    message = assert_user_error(proc, "error [timeout]: forward still running after 1 s: in forward()")
    assert f"at: {GUEST / 'hangs_in_forward.py'}:1" in message  # line 13 or 14: the loop's two lines
    assert "fix: make the loop there end (or be faster), or allow more time with --timeout SECONDS" in message


def test_timeout_ends_a_forward_blocked_in_c_and_json_stays_json(
    timeouts: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    proc = timeouts["c_lock"]
    assert_user_error(proc, "forward still running after 1 s: in forward()")
    error = json.loads(proc.stdout)["error"]  # stdout is exactly one JSON object
    assert (error["kind"], error["location"]) == ("timeout", f"{GUEST / 'hangs_in_c.py'}:23")


def test_timeout_ends_a_constructor_that_never_returns(timeouts: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = timeouts["constructor"]
    assert_user_error(proc, "building the model with Forever still running after 1 s: in __init__()")
    assert f"{GUEST / 'hangs_in_constructor.py'}:12" in flat(proc.stderr)


def test_ctrl_c_ends_a_stuck_forward_that_ignored_sigint(tmp_path: Path) -> None:
    started = tmp_path / "started"
    env = {**os.environ, "NNVIEW_TEST_STARTED": str(started), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "summary", str(GUEST / "hangs_in_c.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():  # forward has begun (and the file has set SIGINT to SIG_IGN)
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 2
    assert proc.returncode == 130, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out + err, err
    assert lines[0].startswith("interrupted: forward still running after "), err
    assert lines[0].endswith(f" s: in forward() at {GUEST / 'hangs_in_c.py'}:23"), err


def test_writes_to_fds_1_and_2_do_not_corrupt_json() -> None:
    proc = run_nnview(["summary", "--json", str(GUEST / "writes_fds.py")])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # the whole of stdout is one JSON object
    assert (result["totals"]["params"], result["totals"]["macs"]) == (18, 60)  # Linear(5, 3) on (4, 5)
    assert "GUEST-" not in proc.stdout + proc.stderr


def test_threads_and_children_a_model_leaves_running_do_not_hold_the_exit(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    cases = {
        "thread": ["summary", str(GUEST / "leaves_thread.py")],
        "children": ["summary", str(GUEST / "leaves_children.py")],
    }
    try:
        done = run_all(cases, env={"NNVIEW_TEST_PIDS": str(pids)}, timeout=60)
        for name, proc in done.items():
            assert proc.returncode == 0, (name, proc.stderr)
            assert "Params: 18 (trainable 18, non-trainable 0)" in proc.stdout, name
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_file_mistakes_each_get_one_clear_message(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.py"
    with huge.open("w") as handle:
        handle.write("import torch\n")
        handle.truncate(200 * 2**20)
    cases = {
        "zero": ["summary", "/dev/zero"],
        "null": ["summary", "/dev/null"],
        "fifo": ["summary", str(fifo)],
        "folder": ["summary", str(tmp_path)],
        "huge": ["summary", str(huge)],
        "huge_explorer": [str(huge)],
        "relative": ["summary", str(GUEST / "pkg" / "sub" / "model.py")],
    }
    try:
        with files_unchanged(GUEST):
            done = run_all(cases, timeout=90)
    finally:
        huge.unlink()
    assert_user_error(done["zero"], "model file /dev/zero is a character device, not a file", "fix: give the path")
    assert_user_error(done["null"], "model file /dev/null is a character device, not a file")
    assert_user_error(done["fifo"], f"model file {fifo} is a named pipe (FIFO), not a file")
    assert_user_error(done["folder"], f"model file {tmp_path} is a folder, not a file")
    for name in ("huge", "huge_explorer"):  # the explorer refuses it before its screen opens
        assert_user_error(done[name], f"model file {huge} is 200 MB: model files are source code")
    assert "\x1b[?1049h" not in done["huge_explorer"].stdout
    assert_user_error(
        done["relative"],
        "uses relative imports (from . import ...)",
        f"run it as `nnview summary pkg.sub.model:PackagedNet` from {GUEST} (cd there first)",
    )
    dotted = run_nnview(["summary", "pkg.sub.model:PackagedNet"], cwd=GUEST)  # the advice works
    assert dotted.returncode == 0 and "Params: 18" in dotted.stdout, dotted.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file (tests/core covers it by simulation)")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.py"
    locked.write_text("from torch import nn\nmodel = nn.Linear(2, 2)\n")
    locked.chmod(0)
    assert_user_error(run_nnview(["summary", str(locked)]), f"cannot read model file {locked}: permission denied")


def test_neighbour_error_points_into_the_neighbour() -> None:
    proc = run_nnview(["summary", str(GUEST / "neighbours" / "model.py")])
    assert_user_error(proc, f"at: {GUEST / 'neighbours' / 'blocks.py'}:16", "blocks.py is broken on purpose")


def test_meta_tied_model_at_module_level_counts_the_tie_once() -> None:
    proc = run_nnview(["summary", "--meta", "--json", str(GUEST / "tied_at_module_level.py")])
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["device"], result["totals"]["params"]) == ("meta", 3120)  # see the file: not 3,920


def _capped() -> None:
    cap = 3 * 2**30  # 3 GB of address space: the 7B model's weights alone would be 27 GB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def test_meta_7b_model_built_at_module_level_allocates_nothing(tmp_path: Path) -> None:
    source = (ROOT / "bench" / "models" / "llama7b.py").read_text()
    assert "def build_model() -> Llama:" in source
    module_level = tmp_path / "llama_module_level.py"
    module_level.write_text(
        source.replace("def build_model() -> Llama:", "model = Llama()\n\n\ndef _unused() -> Llama:")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "summary", "--meta", "--json", "--no-stats", str(module_level)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_capped,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["totals"]["params"] == 6_738_415_616  # LLaMA-7B, as bench/models/llama7b.py states


def test_explorer_screen_survives_fd_writes_and_q_leaves_a_stuck_forward(tmux: Tmux, session: str) -> None:  # noqa: F811
    """In a real terminal: a model's os.write(1/2) never reaches the screen; q quits while forward hangs."""
    assert NNVIEW is not None
    tmux.start(session, 120, 40, [NNVIEW, str(GUEST / "writes_fds.py"), "--no-watch"])
    screen = tmux.wait_text(session, "Noisy", "params 18", "fc")
    tmux.keys(session, "b")  # a new batch: forward writes to fd 1 again while the screen is up
    time.sleep(1.0)
    screen = tmux.wait_text(session, "Noisy", "params 18")
    assert "GUEST-" not in screen, screen
    tmux.keys(session, "q")
    assert tmux.exit_status(session) == 0

    stuck = f"{session}-stuck"
    tmux.start(stuck, 120, 40, [NNVIEW, str(GUEST / "hangs_in_forward.py"), "--no-watch"])
    try:
        tmux.wait_text(stuck, "forward still running after", "(q quits)")
        started = time.monotonic()
        tmux.keys(stuck, "q")
        assert tmux.exit_status(stuck) == 0
        assert time.monotonic() - started < 3  # ~1 s, plus tmux's polling
        assert "\x1b[?1049h" not in tmux.screen(stuck, escapes=True)  # the terminal is back to normal
    finally:
        subprocess.run([*tmux.base, "kill-session", "-t", stuck], env=tmux.env, capture_output=True, check=False)
