"""The viewer's pause, resume and stop, obeyed by a training loop at a step boundary."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.probe.run_lines import lines
from tui.core.runs.layout import CONTROL_FILE, write_json_atomically
from tui.probe import Probe, RunStopped


def _ask(folder: Path, command: str, ident: int) -> None:
    write_json_atomically(folder / CONTROL_FILE, {"command": command, "id": ident, "time": time.time()})


def _steps(folder: Path) -> int:
    path = folder / "rank0.jsonl"
    return len(lines(path, "step")) if path.exists() else 0


def _wait(predicate, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _events(folder: Path) -> list[str]:
    return [r["event"] for r in lines(folder / "rank0.jsonl", "event")]


class Loop(threading.Thread):
    """A training loop in a thread: tiny steps, a probe sampling every step, until stopped or done."""

    def __init__(self, folder: Path, steps: int, on_stop: str = "raise") -> None:
        super().__init__(daemon=True)
        self.folder, self.steps, self.on_stop = folder, steps, on_stop
        self.outcome: BaseException | None = None
        self.taken = 0
        self.probe: Probe | None = None

    def run(self) -> None:
        model = nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        try:
            with Probe(model, self.folder, every=1, on_stop=self.on_stop) as probe:
                self.probe = probe
                for _ in range(self.steps):
                    model(torch.ones(4, 2)).sum().backward()
                    probe.step(0.5)
                    optimizer.step()
                    optimizer.zero_grad()
                    self.taken += 1
                    if probe.stop_requested:
                        break
                    time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001  (the test looks at what ended the loop: RunStopped too)
            self.outcome = exc


def test_pause_holds_the_loop_and_resume_lets_it_go_on(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    loop = Loop(folder, 400)
    loop.start()
    _wait(lambda: _steps(folder) >= 5)
    _ask(folder, "pause", 1)
    _wait(lambda: "paused" in _events(folder))
    held = loop.taken
    time.sleep(0.5)
    assert loop.taken == held  # nothing ran while paused
    _ask(folder, "resume", 2)
    loop.join(60)
    assert loop.outcome is None and loop.taken == 400
    assert _events(folder) == ["paused", "resumed", "closed"]


def test_stop_raises_run_stopped_with_exit_status_zero(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    loop = Loop(folder, 100_000)
    loop.start()
    _wait(lambda: _steps(folder) >= 5)
    _ask(folder, "stop", 1)
    loop.join(60)
    assert isinstance(loop.outcome, RunStopped) and loop.outcome.code == 0
    assert loop.outcome.step == loop.taken + 1  # raised in the step before its optimizer step
    assert _events(folder) == ["stopped", "closed"]


def test_stop_while_paused_and_the_flag_for_frameworks(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    loop = Loop(folder, 100_000, on_stop="flag")
    loop.start()
    _wait(lambda: _steps(folder) >= 5)
    _ask(folder, "pause", 1)
    _wait(lambda: "paused" in _events(folder))
    _ask(folder, "stop", 2)
    loop.join(60)
    assert loop.outcome is None and loop.probe is not None and loop.probe.stop_requested
    assert _events(folder) == ["paused", "stopped", "closed"]


@pytest.mark.parametrize("text", ["{not json", '{"command": "explode", "id": 1}', "[1, 2]"])
def test_a_control_file_that_makes_no_sense_is_ignored(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "run"
    loop = Loop(folder, 60)
    loop.start()
    _wait(lambda: _steps(folder) >= 5)
    (folder / CONTROL_FILE).write_text(text)
    loop.join(60)
    assert loop.outcome is None and loop.taken == 60 and _events(folder) == ["closed"]
