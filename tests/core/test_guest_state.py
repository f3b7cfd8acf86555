"""User code is a guest (issue 7, section 4): what a model file changes in the process is put back.

In-process: the load and trace run in this (main) thread, so thread-local state (grad mode, the
default device) and signal handlers are the ones the next load would inherit.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import warnings
from pathlib import Path

import pytest
import torch

from tests.conftest import MODELS
from tui.core.load.datasets import load_training_data
from tui.core.load.model_file import load_model
from tui.core.load.model_refs import check_model_file
from tui.core.records import NnviewError
from tui.core.session import ModelSession, SessionOptions, summarize
from tui.core.train.trainer import TrainConfig, Trainer

GUEST = Path(__file__).resolve().parents[1] / "corpus" / "guest"


def process_state() -> dict[str, object]:
    """Everything the leaky corpus file changes, as comparable values."""
    return {
        "grad": torch.is_grad_enabled(),
        "dtype": torch.get_default_dtype(),
        "device": torch.get_default_device(),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "anomaly": torch.is_anomaly_enabled(),
        "sigint": signal.getsignal(signal.SIGINT),
        "sigterm": signal.getsignal(signal.SIGTERM),
        "sighup": signal.getsignal(signal.SIGHUP),
        "recursion": sys.getrecursionlimit(),
        "warnings": list(warnings.filters),
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "argv": list(sys.argv),
        "path": list(sys.path),
        "stdout": sys.stdout,
        "stderr": sys.stderr,
    }


@pytest.fixture
def two_threads() -> object:
    """torch at 2 threads, so a guest's set_num_threads(1) is visible; put back afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def open_session(target: Path | str, **options: object) -> ModelSession:
    session = ModelSession(SessionOptions(str(target), **options))  # type: ignore[arg-type]
    session.open()
    return session


def test_every_change_of_a_leaky_file_is_undone_after_load_and_forward(two_threads: object) -> None:
    before = process_state()
    session = open_session(GUEST / "leaks_state.py")
    assert session.result is not None
    # Linear(5, 3): 18 parameters, 4*5*3 = 60 MACs; the file made its default dtype float64, so the model is too
    assert (session.result.totals.params, session.result.totals.macs) == (18, 60)
    after = process_state()
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert changed == {}
    assert "NNVIEW_GUEST_WAS_HERE" not in os.environ and "NNVIEW_GUEST_FORWARD" not in os.environ
    # forward's own changes (set_grad_enabled(True), set_num_threads(1)) are undone by a second trace too
    session.retrace()
    assert process_state() == before


def test_the_next_model_is_unaffected_by_a_leaky_one(two_threads: object) -> None:
    open_session(GUEST / "leaks_state.py")
    result = open_session(MODELS / "simple.py").result
    assert result is not None
    # SimpleNN: 5*10+10 + 10*6+6 + 6*3+3 = 147 params; float32, not the float64 the leaky file set
    assert result.totals.params == 147
    assert result.inputs[0].dtype == "float32"
    # grad mode is on again: a training step works (set_grad_enabled(False) made backward fail before)
    loaded = load_model(str(MODELS / "xor.py"))
    trainer = Trainer(
        loaded.model,
        load_training_data(None, None, loaded.namespace),
        TrainConfig(epochs=1, batch_size=4),
        loaded.namespace,
    )
    trainer.step()
    trainer.close()
    assert trainer.step_count == 1


def test_trainer_close_gives_back_the_thread_count(two_threads: object) -> None:
    loaded = load_model(str(MODELS / "xor.py"))
    trainer = Trainer(
        loaded.model,
        load_training_data(None, None, loaded.namespace),
        TrainConfig(epochs=1, batch_size=4),
        loaded.namespace,
    )
    assert torch.get_num_threads() == 1  # a tiny step runs on one thread
    trainer.step()
    assert torch.get_num_threads() == 1
    trainer.close()
    assert torch.get_num_threads() == 2


def test_fd_level_writes_are_captured_not_printed(capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    session = open_session(GUEST / "writes_fds.py")
    printed = capfd.readouterr()
    for marker in ("GUEST-FD1-TOP", "GUEST-FD2-TOP", "GUEST-PRINT-TOP", "GUEST-FD1-FORWARD"):
        assert marker not in printed.out + printed.err
    assert session.loaded is not None
    assert session.loaded.output.split() == ["GUEST-FD1-TOP", "GUEST-FD2-TOP", "GUEST-PRINT-TOP"]
    assert sys.stdout is not None and os.write(1, b"") == 0  # fd 1 is usable again


def test_requires_grad_flags_are_restored_after_a_trace_that_flips_them() -> None:
    session = open_session(GUEST / "flips_requires_grad.py")
    assert session.loaded is not None and session.result is not None
    model = session.loaded.model
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, False]
    # fc1 (5*4+4 = 24) trainable, fc2 (4*3+3 = 15) frozen: as before the trace, not as forward left them
    assert (session.result.totals.params, session.result.totals.trainable) == (39, 24)


def test_neighbour_module_is_forgotten_watched_and_blamed(tmp_path: Path) -> None:
    folder = tmp_path / "neighbours"
    shutil.copytree(GUEST / "neighbours", folder)
    session = ModelSession(SessionOptions(str(folder / "model.py")))
    with pytest.raises(NnviewError) as caught:
        session.open()
    assert caught.value.record.location == f"{folder / 'blocks.py'}:16"
    assert "blocks" not in sys.modules
    assert session.watched == (str(folder / "model.py"), str(folder / "blocks.py"))
    assert session.loaded is not None and str(folder / "blocks.py") in session.loaded.user_files

    blocks = folder / "blocks.py"
    blocks.write_text(blocks.read_text().replace("self.broken = True", "self.broken = False"))
    result = session.open()  # the reload imports the edited blocks.py, not the cached one
    assert (result.totals.params, result.totals.macs) == (18, 60)  # Linear(5, 3) on a (4, 5) batch


def test_meta_runs_the_top_level_on_meta_and_keeps_ties() -> None:
    tied = GUEST / "tied_at_module_level.py"
    real = summarize(str(tied), stats=False)
    meta = summarize(str(tied), meta=True, stats=False)
    # See the file's docstring: 3,120 with the tied head counted once.
    assert real.totals.params == meta.totals.params == 3120
    assert meta.device == "meta"
    untied = load_model(str(tied)).model.to("meta")  # what --meta did before: one copy per module
    assert sum(p.numel() for p in untied.parameters()) == 3920


def test_meta_top_level_that_needs_values_says_why() -> None:
    source = "import torch\nfrom torch import nn\nscale = torch.ones(3).sum().item()\nmodel = nn.Linear(3, 2)\n"
    path = GUEST.parent.parent / "core" / "_meta_item_tmp.py"
    path.write_text(source)
    try:
        with pytest.raises(NnviewError) as caught:
            load_model(str(path), meta=True)
        assert "meta device, where tensors have shapes but no values" in caught.value.record.hint
        assert load_model(str(path)).model.out_features == 2  # without --meta it loads
    finally:
        path.unlink()


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        ("/dev/zero", "is a character device, not a file"),
        ("/dev/null", "is a character device, not a file"),
        ("/", "is a folder, not a file"),
    ],
)
def test_special_files_are_named_for_what_they_are(path: str, phrase: str) -> None:
    with pytest.raises(NnviewError) as caught:
        check_model_file(Path(path))
    assert caught.value.record.message == f"model file {path} {phrase}"


def test_fifo_and_huge_and_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with pytest.raises(NnviewError, match=r"is a named pipe \(FIFO\), not a file"):
        check_model_file(fifo)
    huge = tmp_path / "huge.py"
    with huge.open("w") as handle:
        handle.write("import torch\n")
        handle.truncate(200 * 2**20)  # sparse: no 200 MB written
    with pytest.raises(NnviewError) as caught:
        load_model(str(huge))
    assert caught.value.record.message == (
        f"model file {huge} is 200 MB: model files are source code, and nnview reads at most 10 MB"
    )
    huge.unlink()
    # Root reads any file, so the permission error is simulated where the file is opened.
    readable = tmp_path / "locked.py"
    readable.write_text("from torch import nn\nmodel = nn.Linear(2, 2)\n")
    real_open = open

    def refuse(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(readable):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(NnviewError) as caught:
        load_model(str(readable))
    assert caught.value.record.message == f"cannot read model file {readable}: permission denied"
    assert f"chmod u+r {readable}" in caught.value.record.hint


def test_package_module_by_path_names_its_dotted_path() -> None:
    with pytest.raises(NnviewError) as caught:
        load_model(str(GUEST / "pkg" / "sub" / "model.py"))
    record = caught.value.record
    assert "uses relative imports" in record.message
    assert record.hint == f"run it as `nnview summary pkg.sub.model:PackagedNet` from {GUEST} (cd there first)"
