"""Checkpoints stay a readable, consistent pair whatever instant a save is stopped at (issue 7, section 2).

Kill instants are made exact by patching ``os.replace`` (Ctrl+C at the first or the second rename) and by a
real SIGKILL of a writer that announces the instant and then sleeps there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.trust import ROOT, file_hashes
from tui.core.load import checkpoints
from tui.core.load.checkpoints import SaveInterrupted, read_checkpoint, save_checkpoint, sidecar
from tui.core.load.save_path import check_save_path, save_rescue
from tui.core.records import NnviewError


def linear(value: float) -> nn.Linear:
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(value)
        model.bias.fill_(value)
    return model


def loaded_value(path: Path) -> tuple[float, checkpoints.CheckpointRead]:
    model = nn.Linear(3, 2)
    read = read_checkpoint(path, model)
    return float(model.weight[0, 0].detach()), read


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def replace_interrupted_at(monkeypatch: pytest.MonkeyPatch, which: int) -> list[tuple[str, str]]:
    """Make the ``which``-th os.replace raise KeyboardInterrupt before renaming (as Ctrl+C there would)."""
    calls: list[tuple[str, str]] = []
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == which:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(checkpoints.os, "replace", replace)
    return calls


def test_the_sidecar_is_named_after_the_whole_file_and_holds_the_weights_hash(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "config.safetensors", linear(1.0), {"version": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.safetensors", "config.safetensors.json"]
    side = json.loads(sidecar(path).read_text())
    assert side["version"] == 1
    assert side["nnview_checkpoint"]["weights"] == "config.safetensors"
    assert len(side["nnview_checkpoint"]["weights_sha256"]) == 64
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~0o022)  # umask 022 here: 0644, not mkstemp's 0600
    value, read = loaded_value(path)
    assert (value, read.info, read.notes) == (1.0, {"version": 1}, ())


def test_ctrl_c_at_the_first_rename_leaves_the_old_pair_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", linear(1.0), {"version": 1})
    before = file_hashes(tmp_path)
    calls = replace_interrupted_at(monkeypatch, 1)
    with pytest.raises(SaveInterrupted) as caught:
        save_checkpoint(path, linear(2.0), {"version": 2})
    assert calls[0][1] == "w.safetensors"  # the weights are renamed first
    assert caught.value.on_disk == f"{path} was not changed"
    assert file_hashes(tmp_path) == before  # old pair intact, no temporary left
    value, read = loaded_value(path)
    assert (value, read.info, read.notes) == (1.0, {"version": 1}, ())


def test_ctrl_c_at_the_second_rename_keeps_new_weights_and_reports_the_stale_sidecar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", linear(1.0), {"version": 1})
    old_side = sidecar(path).read_bytes()
    calls = replace_interrupted_at(monkeypatch, 2)
    with pytest.raises(SaveInterrupted) as caught:
        save_checkpoint(path, linear(2.0), {"version": 2})
    assert [dst for _, dst in calls] == ["w.safetensors", "w.safetensors.json"]
    assert caught.value.on_disk == (
        f"{path} holds the new weights (their hyperparameters and metrics are inside it), "
        "but w.safetensors.json still describes the earlier save"
    )
    assert isinstance(caught.value, KeyboardInterrupt)  # callers that only know Ctrl+C still stop
    assert sidecar(path).read_bytes() == old_side
    assert temporaries(tmp_path) == []
    value, read = loaded_value(path)
    assert value == 2.0
    assert read.info == {"version": 2}  # the record inside the weights, not the stale sidecar's version 1
    assert len(read.notes) == 1 and "w.safetensors.json does not describe these weights" in read.notes[0]


def test_ctrl_c_at_the_second_rename_of_a_first_save_says_the_sidecar_was_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace_interrupted_at(monkeypatch, 2)
    with pytest.raises(SaveInterrupted) as caught:
        save_checkpoint(tmp_path / "w.safetensors", linear(3.0), {"version": 3})
    assert caught.value.on_disk.endswith("but w.safetensors.json was not written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]
    value, read = loaded_value(tmp_path / "w.safetensors")
    assert (value, read.info, read.notes) == (3.0, {"version": 3}, ())


def test_a_full_disk_is_an_error_that_says_what_is_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", linear(1.0), {"version": 1})
    before = file_hashes(tmp_path)

    def full(model: nn.Module, filename: str, metadata: dict[str, str]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints, "save_safetensors_model", full)
    with pytest.raises(NnviewError) as caught:
        save_checkpoint(path, linear(2.0), {"version": 2})
    assert caught.value.record.kind == "save"
    assert caught.value.record.message == f"could not save {path}: No space left on device; {path} was not changed"
    assert file_hashes(tmp_path) == before


def test_a_folder_removed_mid_run_is_made_again(tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    check_save_path(folder / "w.safetensors")
    assert not folder.exists()  # the probe undoes the folders it made
    path = save_checkpoint(folder / "w.safetensors", linear(1.0), {})
    assert path.is_file() and sidecar(path).is_file()


STALE_PID_SCRIPT = "import os; print(os.getpid())"


def test_next_save_removes_only_nnview_temporaries_of_dead_processes(tmp_path: Path) -> None:
    dead = int(subprocess.run([sys.executable, "-c", STALE_PID_SCRIPT], capture_output=True, text=True).stdout)
    alive = os.getppid()  # pytest's parent: alive for the whole test
    names = {
        f".w.safetensors.nnview-{dead}-abcd1234.tmp": False,  # a killed save: removed
        f".other.safetensors.json.nnview-{dead}-x_9.tmp": False,  # a killed save of another name: removed
        f".w.safetensors.nnview-{alive}-live0001.tmp": True,  # another nnview saving now: kept
        ".w.safetensors.abcd1234.tmp": True,  # not nnview's pattern: kept
        "notes.tmp": True,
        f"w.safetensors.nnview-{dead}-abcd1234.tmp": True,  # not hidden: not ours
    }
    for name in names:
        (tmp_path / name).write_text("x")
    save_checkpoint(tmp_path / "new.safetensors", linear(1.0), {})
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {name for name, kept in names.items() if kept} | {"new.safetensors", "new.safetensors.json"}


WRITER = textwrap.dedent(
    """
    import os, sys, time, torch
    from torch import nn
    from tui.core.load import checkpoints
    path, pause_at = sys.argv[1], int(sys.argv[2])
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(1.0); model.bias.fill_(1.0)
    checkpoints.save_checkpoint(path, model, {"version": 1})
    real, calls = os.replace, []
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == pause_at:
            print("at", pause_at, flush=True)
            time.sleep(60)  # the parent SIGKILLs us here
        real(src, dst)
    checkpoints.os.replace = replace
    with torch.no_grad():
        model.weight.fill_(2.0); model.bias.fill_(2.0)
    checkpoints.save_checkpoint(path, model, {"version": 2})
    """
)


@pytest.mark.parametrize(("pause_at", "weights", "stale"), [(1, 1.0, False), (2, 2.0, True), (3, 2.0, False)])
def test_sigkill_at_each_instant_leaves_a_pair_that_loads_and_temporaries_the_next_save_removes(
    tmp_path: Path, pause_at: int, weights: float, stale: bool
) -> None:
    # pause_at 1: before the weights' rename; 2: between the renames; 3: never reached (the save completes).
    path = tmp_path / "w.safetensors"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(pause_at)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if pause_at < 3:
        assert line == f"at {pause_at}"
        proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == (-signal.SIGKILL if pause_at < 3 else 0)
    left = temporaries(tmp_path)
    assert len(left) == (2 if pause_at == 1 else 1 if pause_at == 2 else 0), left
    value, read = loaded_value(path)
    assert value == weights
    assert read.info == {"version": int(weights)}
    assert bool(read.notes) is stale
    save_checkpoint(tmp_path / "again.safetensors", linear(5.0), {})  # the next save to this folder
    assert temporaries(tmp_path) == []


def test_a_corrupt_or_foreign_sidecar_is_reported_never_fatal(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", linear(4.0), {"version": 4})
    side = sidecar(path)
    cases = {
        b"{not json": "w.safetensors.json is damaged (JSONDecodeError): ignored",
        b"\xff\xfe\x00garbage": "w.safetensors.json is damaged (UnicodeDecodeError): ignored",
        b"[1, 2, 3]": "w.safetensors.json was not written by nnview: ignored",
        b'{"version": 99}': "w.safetensors.json was not written by nnview: ignored",
        b"": "w.safetensors.json is damaged (JSONDecodeError): ignored",
    }
    for content, note in cases.items():
        side.write_bytes(content)
        value, read = loaded_value(path)
        assert value == 4.0
        assert read.info == {"version": 4}, content
        assert len(read.notes) == 1 and note in read.notes[0], (content, read.notes)
        assert read.notes[0].endswith("used the record inside the weights file")
    side.unlink()
    side.mkdir()
    value, read = loaded_value(path)
    assert read.info == {"version": 4} and "w.safetensors.json is a folder: ignored" in read.notes[0]


def test_the_old_sidecar_name_is_never_read(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "w.safetensors", linear(1.0), {"version": 1})
    sidecar(path).unlink()
    (tmp_path / "w.json").write_text('{"version": 7}')  # could be the user's own file: never read
    value, read = loaded_value(path)
    assert (value, read.info, read.notes) == (1.0, {"version": 1}, ())


def _refusal(path: Path | str, force: bool = False) -> str:
    with pytest.raises(NnviewError) as caught:
        check_save_path(path, force=force)
    assert caught.value.record.kind == "save"
    return f"{caught.value.record.message} | {caught.value.record.hint}"


def test_save_paths_are_refused_up_front_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("model.py").write_text("x = 1\n")
    Path("config.safetensors.json").write_text('{"user": true}')
    Path("afile").write_text("")
    Path("folder").mkdir()
    save_checkpoint("old.safetensors", linear(1.0), {})
    save_checkpoint("orphan.safetensors", linear(1.0), {})
    Path("orphan.safetensors").unlink()
    before = file_hashes(tmp_path)
    assert _refusal("weights.json") == (
        "--save weights.json: a checkpoint must be a .safetensors file | "
        "name it like --save weights.safetensors (nnview writes weights.safetensors.json beside it)"
    )
    assert _refusal("model.py").startswith("--save model.py: a checkpoint must be a .safetensors file")
    assert _refusal("model").startswith(
        "--save model: a checkpoint must be a .safetensors file | name it like --save model.safetensors"
    )
    assert _refusal("folder") == "--save folder is a folder | name a file inside it: --save folder/model.safetensors"
    assert _refusal("") == "--save was given an empty path | name a file: --save model.safetensors"
    assert _refusal("/proc/w.safetensors").startswith("--save /proc/w.safetensors is under /proc, a system folder")
    assert _refusal("/sys/kernel/w.safetensors").startswith("--save /sys/kernel/w.safetensors is under /sys")
    assert _refusal("/dev/null.safetensors").startswith("--save /dev/null.safetensors is under /dev")
    assert _refusal("old.safetensors") == (
        "--save old.safetensors already exists | pass --force to replace it, or choose another name"
    )
    assert _refusal("orphan.safetensors").startswith("orphan.safetensors.json (from an earlier save) already exists")
    for force in (False, True):  # never over a file nnview did not write, even with --force
        assert _refusal("config.safetensors", force) == (
            "--save config.safetensors would replace config.safetensors.json, which nnview did not write | "
            "move that file away, or choose another --save name"
        )
    assert _refusal("afile/deeper/w.safetensors").startswith(
        "--save afile/deeper/w.safetensors: afile is a file, so the folder afile/deeper cannot be made"
    )
    assert check_save_path("old.safetensors", force=True) == Path("old.safetensors")
    assert check_save_path("new/sub/w.safetensors") == Path("new/sub/w.safetensors")
    assert file_hashes(tmp_path) == before and not Path("new").exists()


def test_an_unwritable_folder_is_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores chmod, so the refusal of the OS is simulated at the probe's temporary file.
    def refuse(path: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tui.core.load.save_path.temporary_beside", refuse)
    message = _refusal(tmp_path / "ro" / "w.safetensors")
    assert message.startswith(f"--save {tmp_path}/ro/w.safetensors: cannot write in {tmp_path}/ro: Permission denied")
    assert not (tmp_path / "ro").exists()  # the folder made for the probe is removed again


def test_rescue_goes_to_the_next_folder_that_takes_it(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    good = tmp_path / "good"
    path = save_rescue(linear(6.0), {"step": 6}, "my model", (blocked, good))
    assert path.parent == good and path.name.startswith("nnview-rescue-my_model-") and path.suffix == ".safetensors"
    value, read = loaded_value(path)
    assert (value, read.info) == (6.0, {"step": 6})
    with pytest.raises(NnviewError) as caught:
        save_rescue(linear(6.0), {}, "m", (blocked,))
    assert caught.value.record.message.startswith("the weights could not be saved anywhere")
