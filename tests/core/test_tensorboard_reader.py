"""Reading TensorBoard log folders while they grow: runs in sub-folders, exact counts and last values, half-written
records, both kinds of scalar, a restarted run's purge (as TensorBoard and tbparse see it), and refusals."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy
import pytest

from tui.core.error_records import NnviewError
from tui.core.tensorboard.groups import series_label, tag_group, tag_groups, thinned
from tui.core.tensorboard.reader import TensorBoardReader, is_tensorboard_folder, tensorboard_json
from tui.core.tensorboard.writer import TensorBoardLog

tbparse = pytest.importorskip("tbparse", reason='pip install -e ".[tensorboard]"')
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")  # tbparse on pandas 3


def write(folder: Path, tag: str, points: list[tuple[int, float]]) -> None:
    with TensorBoardLog(folder) as log:
        for step, value in points:
            log.scalar(tag, value, step)


def test_runs_are_the_folders_with_event_files_and_the_numbers_are_exact(tmp_path: Path) -> None:
    write(tmp_path, "loss/train", [(0, 2.0), (1, 1.5)])  # the log folder itself: run "."
    write(tmp_path / "a", "loss/train", [(1, 1.0), (2, 0.5), (3, 0.25)])
    write(tmp_path / "a", "loss/val", [(3, math.inf)])
    write(tmp_path / "b" / "seed1", "accuracy/val", [(10, 0.125)])
    (tmp_path / "b" / "notes.txt").write_text("not a run")
    reader = TensorBoardReader(tmp_path)
    assert reader.poll() is True
    assert json.loads(json.dumps(tensorboard_json(reader.state))) == {
        "runs": {
            ".": {"loss/train": {"steps": 2, "last_step": 1, "last_value": 1.5}},
            "a": {
                "loss/train": {"steps": 3, "last_step": 3, "last_value": 0.25},
                "loss/val": {"steps": 1, "last_step": 3, "last_value": "inf"},
            },
            "b/seed1": {"accuracy/val": {"steps": 1, "last_step": 10, "last_value": 0.125}},
        }
    }
    assert reader.state.tags == 4
    assert reader.state.runs["a"].scalars["loss/train"].points() == [(1.0, 1.0), (2.0, 0.5), (3.0, 0.25)]
    assert reader.poll() is False  # nothing new


def test_a_growing_log_adds_only_the_new_points_and_leaves_other_runs_as_they_were(tmp_path: Path) -> None:
    write(tmp_path / "other", "loss/train", [(1, 1.0)])
    log = TensorBoardLog(tmp_path / "live")
    log.scalar("loss/train", 1.0, 1)
    log.flush()
    reader = TensorBoardReader(tmp_path)
    reader.poll()
    other = reader.state.runs["other"]
    assert reader.state.runs["live"].scalars["loss/train"].steps == (1,)
    for step in (2, 3):
        log.scalar("loss/train", 1.0 / step, step)
    log.scalar("lr", 0.5, 3)
    log.flush()
    assert reader.poll() is True
    live = reader.state.runs["live"].scalars
    assert live["loss/train"].steps == (1, 2, 3)
    assert live["loss/train"].values == (1.0, 0.5, float(numpy.float32(1 / 3)))  # event files hold float32
    assert live["lr"].steps == (3,)
    assert reader.state.runs["other"] is other  # unchanged: the very same snapshot object
    log.close()


def test_a_record_still_being_written_is_read_once_it_is_whole(tmp_path: Path) -> None:
    write(tmp_path / "source", "loss/train", [(1, 1.0), (2, 0.5)])
    data = next((tmp_path / "source").glob("events.out.tfevents.*")).read_bytes()
    target = tmp_path / "logs" / "run" / "events.out.tfevents.1.host"
    target.parent.mkdir(parents=True)
    target.write_bytes(data[:-7])  # the last record without its end
    reader = TensorBoardReader(tmp_path / "logs")
    reader.poll()
    assert reader.state.runs["run"].scalars["loss/train"].steps == (1,)
    with target.open("ab") as out:
        out.write(data[-7:])
    assert reader.poll() is True
    assert reader.state.runs["run"].scalars["loss/train"].steps == (1, 2)


def test_tensor_scalars_as_tf2_and_keras_write_them_are_read_too(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_scalar("epoch_loss", 0.75, 0, new_style=True)  # a tensor with the scalars plugin's metadata
        writer.add_scalar("epoch_loss", 0.5, 1, new_style=True)
    reader = TensorBoardReader(tmp_path)
    reader.poll()
    assert tensorboard_json(reader.state) == {
        "runs": {".": {"epoch_loss": {"steps": 2, "last_step": 1, "last_value": 0.5}}}
    }


@pytest.mark.parametrize("first_purge_step", [None, 0])
def test_a_resumed_run_loses_its_redone_steps_when_tensorboard_would(
    tmp_path: Path, first_purge_step: int | None
) -> None:
    """TensorBoard purges the redone steps at a second session start (torch writes one only with ``purge_step``).

    tbparse reads each event file on its own and so never purges: it gives all 13 points either way.
    """
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path), purge_step=first_purge_step) as writer:
        for step in range(10):
            writer.add_scalar("loss", 1.0, step)
    with SummaryWriter(str(tmp_path), purge_step=5) as writer:  # resumed from the step-5 checkpoint
        for step in range(5, 8):
            writer.add_scalar("loss", 0.5, step)
    reader = TensorBoardReader(tmp_path)
    reader.poll()
    series = reader.state.runs["."].scalars["loss"]
    kept = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9) if first_purge_step is None else (0, 1, 2, 3, 4)
    assert series.steps == (*kept, 5, 6, 7)
    assert series.values == (1.0,) * len(kept) + (0.5,) * 3
    assert len(tbparse.SummaryReader(str(tmp_path)).scalars) == 13


def test_a_run_that_fails_to_read_is_named_and_the_others_go_on(tmp_path: Path) -> None:
    write(tmp_path / "good", "loss", [(1, 1.0)])
    write(tmp_path / "bad", "loss", [(1, 1.0)])
    reader = TensorBoardReader(tmp_path)
    reader.poll()

    def broken() -> None:
        raise OSError("Input/output error")

    reader._accumulators["bad"].Reload = broken
    write(tmp_path / "good", "loss", [(2, 0.5)])
    assert reader.poll() is True
    assert reader.state.errors == {"bad": "OSError: Input/output error"}
    assert reader.state.runs["good"].scalars["loss"].steps == (1, 2)
    assert tensorboard_json(reader.state)["errors"] == {"bad": "OSError: Input/output error"}


def test_what_watch_reads_as_tensorboard_logs(tmp_path: Path) -> None:
    write(tmp_path / "logs" / "deep" / "er", "loss", [(1, 1.0)])
    assert is_tensorboard_folder(tmp_path / "logs") is True
    assert is_tensorboard_folder(tmp_path / "logs" / "deep" / "er") is True
    run = tmp_path / "probed"  # an nnview run folder the probe also wrote event files into
    write(run, "loss/train", [(1, 1.0)])
    (run / "rank0.jsonl").write_text("")
    assert is_tensorboard_folder(run) is False
    (tmp_path / "empty").mkdir()
    assert is_tensorboard_folder(tmp_path / "empty") is False
    assert is_tensorboard_folder(tmp_path / "missing") is False


def missing(folder: Path) -> Path:
    return folder / "missing"


def a_file(folder: Path) -> Path:
    (folder / "f.txt").write_text("x")
    return folder / "f.txt"


def an_empty_folder(folder: Path) -> Path:
    (folder / "e").mkdir()
    return folder / "e"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (missing, "{p}/missing does not exist"),
        (a_file, "{p}/f.txt is a file, not a log folder"),
        (an_empty_folder, "{p}/e holds no TensorBoard event file (events.out.tfevents.*)"),
    ],
)
def test_what_is_not_a_log_folder_is_refused_by_name(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(NnviewError) as caught:
        TensorBoardReader(make(tmp_path))
    assert caught.value.record.kind == "input"
    assert caught.value.record.message == message.format(p=tmp_path)
    assert "SummaryWriter(log_dir)" in caught.value.record.hint


def test_without_the_tensorboard_package_reading_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "loss", [(1, 1.0)])
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing", None)
    with pytest.raises(NnviewError) as caught:
        TensorBoardReader(tmp_path)
    assert caught.value.record.message.startswith("reading TensorBoard logs needs the tensorboard package")
    assert 'pip install -e ".[tensorboard]"' in caught.value.record.hint


def test_tags_are_grouped_up_to_their_last_slash() -> None:
    tags = ["loss/val", "loss/train", "layers/grad_norm/fc2", "layers/grad_norm/fc1", "lr"]
    assert tag_groups(tags) == {
        "layers/grad_norm": ["layers/grad_norm/fc1", "layers/grad_norm/fc2"],
        "loss": ["loss/train", "loss/val"],
        "lr": ["lr"],
    }
    assert (tag_group("lr"), series_label("lr"), series_label("layers/grad_norm/fc1")) == ("lr", "lr", "fc1")


def test_a_long_curve_is_thinned_to_each_buckets_lowest_and_highest_point() -> None:
    points = [(float(i), float(i % 10)) for i in range(1000)]
    points[503] = (503.0, 99.0)  # a spike survives
    kept = thinned(points, 50)
    assert len(kept) == 101  # 50 buckets x (low, high), and the last point
    assert (503.0, 99.0) in kept and kept[-1] == (999.0, 9.0)
    assert thinned(points[:100], 50) == points[:100]
    nan_run = [(float(i), math.nan) for i in range(300)]
    assert len(thinned(nan_run, 10)) == 11
