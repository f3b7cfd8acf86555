"""``nnview train --save/--weights`` through the real entry point: nothing the user made is lost (issue 7, 2-3).

Exit statuses: 2 a path or weights file refused before the first step; 1 trained but ``--save`` could not be
written at the end (the weights went to ``nnview-rescue-*.safetensors``, named on screen); 130 Ctrl+C.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_model
from torch import nn

from tests.conftest import MODELS
from tests.trust import ROOT, assert_user_error, file_hashes, files_unchanged, flat, run_all, run_nnview
from tui.core.load.checkpoints import read_checkpoint, save_checkpoint
from tui.core.load.model_file import load_model

SIMPLE = str(MODELS / "simple.py")
ONE_EPOCH = ("--epochs", "1")


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the user's files that every refused --save must leave byte-for-byte alone."""
    folder = tmp_path_factory.mktemp("user")
    (folder / "mymodel.py").write_text((MODELS / "simple.py").read_text())
    (folder / "config.json").write_text('{"hidden": 10}\n')
    (folder / "config.safetensors.json").write_text('{"theirs": true}\n')
    (folder / "weights.json").write_text('{"keep": 1}\n')
    (folder / "afile").write_text("not a folder\n")
    (folder / "runs").mkdir()
    save_checkpoint(folder / "old.safetensors", load_model(SIMPLE).model, {"old": True})
    return folder


SAVE_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (--save value, phrases of the one message)
    "json": (
        "weights.json",
        ("--save weights.json: a checkpoint must be a .safetensors file", "--save weights.safetensors"),
    ),
    "source": ("mymodel.py", ("--save mymodel.py: a checkpoint must be a .safetensors file", "mymodel.safetensors")),
    "no suffix": ("weights", ("a checkpoint must be a .safetensors file", "--save weights.safetensors")),
    "user sidecar": (
        "config.safetensors",
        ("would replace config.safetensors.json, which nnview did not write", "choose another --save name"),
    ),
    "existing": ("old.safetensors", ("--save old.safetensors already exists", "pass --force to replace it")),
    "folder": ("runs", ("--save runs is a folder", "--save runs/model.safetensors")),
    "cwd": (".", ("--save . is a folder",)),
    "proc": ("/proc/self/w.safetensors", ("is under /proc, a system folder", "save under your project")),
    "sys": ("/sys/w.safetensors", ("is under /sys, a system folder",)),
    "dev": ("/dev/w.safetensors", ("is under /dev, a system folder",)),
    "parent is a file": ("afile/w.safetensors", ("afile is a file, so the folder afile cannot be made",)),
    "empty": ("", ("--save was given an empty path", "--save model.safetensors")),
}


def test_bad_save_paths_are_refused_before_the_first_step_and_touch_nothing(user_folder: Path) -> None:
    cases = {name: ["train", SIMPLE, *ONE_EPOCH, "--save", value] for name, (value, _) in SAVE_CASES.items()}
    cases["user sidecar, forced"] = [*cases["user sidecar"], "--force"]
    with files_unchanged(user_folder):
        done = run_all(cases, cwd=user_folder)
    for name, proc in done.items():
        phrases = SAVE_CASES[name.split(",")[0]][1]
        assert_user_error(proc, *phrases)
        assert "Epoch [" not in proc.stdout, name  # refused before any training
        assert proc.stderr.count("error [save]") == 1, (name, proc.stderr)


def test_force_replaces_a_checkpoint_and_writes_the_sidecar_beside_it(tmp_path: Path) -> None:
    old = save_checkpoint(tmp_path / "model.safetensors", load_model(SIMPLE).model, {"old": True})
    (tmp_path / "model.json").write_text('{"the user": "owns this"}\n')  # the old sidecar name: never touched
    before = file_hashes(tmp_path)
    done = run_nnview(["train", SIMPLE, *ONE_EPOCH, "--save", "model.safetensors", "--force"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "saved model.safetensors (and model.safetensors.json)" in flat(done.stdout)
    after = file_hashes(tmp_path)
    assert after["model.json"] == before["model.json"]
    assert after[old.name] != before[old.name]
    assert sorted(after) == ["model.json", "model.safetensors", "model.safetensors.json"]
    info = read_checkpoint(old, load_model(SIMPLE).model).info
    assert info["hyperparameters"]["epochs"] == 1 and info["metrics"]["epoch"] == 1 and "old" not in info


BREAKER = textwrap.dedent(
    """
    import shutil
    from pathlib import Path
    from torch import nn

    class Breaker(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.training and self.calls == 3:  # mid-run, the --save folder is replaced by a file
                shutil.rmtree("out")
                Path("out").write_text("the folder became this file")
            return self.fc(x)

    hyperparameters = {"epochs": 1, "batch_size": 50}
    """
)


def test_a_save_folder_broken_mid_run_sends_the_weights_to_a_named_rescue_file_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "breaker.py").write_text(BREAKER)
    (tmp_path / "out").mkdir()
    done = run_nnview(["train", "breaker.py", "--data", "moons", "--save", "out/w.safetensors"], cwd=tmp_path)
    both = done.stdout + done.stderr
    assert done.returncode == 1, both
    assert "Traceback" not in both
    rescued = sorted(tmp_path.glob("nnview-rescue-breaker-*.safetensors"))
    assert len(rescued) == 1, sorted(p.name for p in tmp_path.iterdir())
    assert f"the trained weights were saved to {rescued[0].resolve()} instead" in flat(both)
    assert "could not save out/w.safetensors" in flat(both)
    assert (tmp_path / "out").read_text() == "the folder became this file"
    info = read_checkpoint(rescued[0], load_model(str(tmp_path / "breaker.py")).model).info
    assert info["metrics"]["epoch"] == 1 and info["model"] == "breaker.py"


HARNESS = textwrap.dedent(
    """
    import os, sys
    from tui.core.load import checkpoints
    fault = os.environ["FAULT"]
    real_save, real_replace, replaced = checkpoints.save_safetensors_model, os.replace, []

    def save(model, filename, metadata=None):
        if fault == "full" or (fault == "full-but-rescue" and "nnview-rescue" not in filename):
            raise OSError(28, "No space left on device")
        real_save(model, filename, metadata=metadata)

    def replace(src, dst):
        replaced.append(dst)
        if fault == f"ctrl-c-{len(replaced)}":
            raise KeyboardInterrupt
        real_replace(src, dst)

    checkpoints.save_safetensors_model = save
    checkpoints.os.replace = replace
    from tui.commands.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


def run_with_fault(folder: Path, fault: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = folder / "harness.py"
    script.write_text(HARNESS)
    env = {**os.environ, "FAULT": fault, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("fault", "status", "message", "files"),
    [
        ("ctrl-c-1", 130, "interrupted while saving: old.safetensors was not changed", 2),
        (
            "ctrl-c-2",
            130,
            "interrupted while saving: old.safetensors holds the new weights (their hyperparameters and metrics "
            "are inside it), but old.safetensors.json still describes the earlier save",
            2,
        ),
        ("full-but-rescue", 1, "No space left on device; old.safetensors was not changed.", 4),
        ("full", 1, "the trained weights are lost", 2),
    ],
)
def test_a_save_that_fails_at_the_end_says_exactly_what_is_on_disk(
    tmp_path: Path, fault: str, status: int, message: str, files: int
) -> None:
    old = save_checkpoint(tmp_path / "old.safetensors", load_model(SIMPLE).model, {"old": True})
    done = run_with_fault(tmp_path, fault, "train", SIMPLE, *ONE_EPOCH, "--save", old.name, "--force")
    both = done.stdout + done.stderr
    assert done.returncode == status, both
    assert "Traceback" not in both and "nothing was saved" not in both
    assert message in flat(both), both
    assert len([p for p in tmp_path.iterdir() if p.name != "harness.py"]) == files  # no temporaries left
    fresh = load_model(SIMPLE).model
    read = read_checkpoint(old, fresh)
    assert read.info.get("old") is (None if fault == "ctrl-c-2" else True)
    assert bool(read.notes) is (fault == "ctrl-c-2")  # the stale sidecar is named when loaded


def weights_cases(folder: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Hostile --weights files: name -> (path, phrases of the one message)."""
    good = folder / "good.safetensors"
    save_model(load_model(SIMPLE).model, str(good))
    data = good.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    header["fc1.weight"]["data_offsets"][1] += 4000  # the header promises tensors past the end
    lying = json.dumps(header).encode()
    files = {
        "truncated.safetensors": data[: len(data) - 40],
        "header-only.safetensors": data[: 8 + length],
        "empty.safetensors": b"",
        "random.safetensors": bytes(range(256)) * 4,
        "text.safetensors": b"these are not weights\n" * 20,
        "json.safetensors": b'{"fc1.weight": [1, 2, 3]}',
        "long-header.safetensors": (10**6).to_bytes(8, "little") + data[8:],
        "lying.safetensors": len(lying).to_bytes(8, "little") + lying + data[8 + length :],
        "bad-json.safetensors": (12).to_bytes(8, "little") + b"{not json!!}" + b"\0" * 64,
        "short.safetensors": b"\x05\x00",
        "text.pt": b"not a pickle at all\n",
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (folder / "adir.safetensors").mkdir()
    return {
        "truncated": ("truncated.safetensors", ("it was cut short", "save it again")),
        "header only": ("header-only.safetensors", ("it was cut short",)),
        "empty": ("empty.safetensors", ("is empty (0 bytes)", "save it again")),
        "random bytes": ("random.safetensors", ("it is not a safetensors file (it starts with",)),
        "text": ("text.safetensors", ("it is not a safetensors file (it starts with 'these are not we",)),
        "json": ("json.safetensors", ("it is not a safetensors file (it starts with",)),
        "header too long": ("long-header.safetensors", ("its header claims 1000000 bytes but the file has only",)),
        "header lies": ("lying.safetensors", ("its tensors need", "it was cut short")),
        "header not json": ("bad-json.safetensors", ("its header is not valid JSON",)),
        "8 bytes short": ("short.safetensors", ("it is 2 bytes long, too short to be a safetensors file",)),
        "text pickle": ("text.pt", ("refused to load", "it is not a plain tensor file")),
        "folder": ("adir.safetensors", ("--weights", "adir.safetensors is a folder", "name the .safetensors file")),
        "missing": ("missing.safetensors", ("missing.safetensors does not exist", "check the --weights path")),
    }


def test_hostile_weights_files_give_one_clear_message_and_exit_2(tmp_path: Path) -> None:
    cases = weights_cases(tmp_path)
    with files_unchanged(tmp_path):
        done = run_all(
            {name: ["train", SIMPLE, *ONE_EPOCH, "--weights", path] for name, (path, _) in cases.items()},
            cwd=tmp_path,
        )
    for name, proc in done.items():
        message = assert_user_error(proc, *cases[name][1])
        assert "Epoch [" not in proc.stdout, name
        assert message.count("error [load]") == 1, (name, message)


def test_a_corrupt_sidecar_beside_good_weights_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    model = load_model(SIMPLE).model
    save_checkpoint(tmp_path / "a.safetensors", model, {"step": 1})
    save_checkpoint(tmp_path / "b.safetensors", model, {"step": 2})
    save_checkpoint(tmp_path / "c.safetensors", nn.Linear(5, 3), {"step": 3})  # c's sidecar is put beside b
    (tmp_path / "a.safetensors.json").write_bytes(b"\x00\xff{{{ garbage")
    (tmp_path / "b.safetensors.json").write_bytes((tmp_path / "c.safetensors.json").read_bytes())
    with files_unchanged(tmp_path):
        done = run_all(
            {n: ["train", SIMPLE, *ONE_EPOCH, "--weights", f"{n}.safetensors"] for n in ("a", "b")}, cwd=tmp_path
        )
    assert done["a"].returncode == 0, done["a"].stderr
    assert "warning: a.safetensors.json is damaged (UnicodeDecodeError): ignored" in flat(done["a"].stderr)
    assert done["b"].returncode == 0, done["b"].stderr
    assert "warning: b.safetensors.json does not describe these weights" in flat(done["b"].stderr)
    for proc in done.values():
        assert "Traceback" not in proc.stdout + proc.stderr
        assert proc.stdout.count("Epoch [1/1]") == 1


def test_weights_trained_here_load_back_after_the_rename(tmp_path: Path) -> None:
    model = load_model(SIMPLE).model
    with torch.no_grad():
        model.fc1.weight.fill_(0.5)
    save_checkpoint(tmp_path / "start.safetensors", model, {})
    done = run_nnview(["train", SIMPLE, *ONE_EPOCH, "--weights", "start.safetensors", "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"event": "epoch"' in done.stdout and done.stderr == ""
