"""TensorBoard event files written by nnview, read back with tbparse: exact tags, exact counts, the values written.

Values are chosen to be exact in float32 (event files hold scalars as float32).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

from tui.core.error_records import NnviewError
from tui.core.tensorboard.probe_lines import ProbeTensorBoard, probe_tensorboard
from tui.core.tensorboard.writer import TensorBoardLog, check_log_dir
from tui.core.train.health import LayerHealth
from tui.core.train.loop import TrainingUpdate
from tui.core.train.records import EpochRecord

tbparse = pytest.importorskip("tbparse", reason='pip install -e ".[tensorboard]"')
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")  # tbparse on pandas 3


def scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every tag's (step, value) points, as tbparse reads the folder."""
    frame = tbparse.SummaryReader(str(log_dir)).scalars
    points: dict[str, list[tuple[int, float]]] = {}
    for tag, step, value in zip(frame["tag"], frame["step"], frame["value"], strict=True):
        points.setdefault(str(tag), []).append((int(step), float(value)))
    return points


def epoch(
    number: int, train_loss: float, val_loss: float, train_acc: float | None, val_acc: float | None
) -> EpochRecord:
    return EpochRecord(number, 3, train_loss, val_loss, train_acc, val_acc)


def test_epochs_write_loss_accuracy_and_learning_rate_by_epoch(tmp_path: Path) -> None:
    with TensorBoardLog(tmp_path / "tb") as log:
        log.epoch(epoch(1, 2.5, 2.75, 0.25, 0.125), lr=0.5)
        log.epoch(epoch(2, 1.5, 1.75, 0.5, 0.375), lr=0.25)
        log.epoch(epoch(3, 0.5, 0.625, 0.75, 0.625), lr=0.125)
    assert scalars(tmp_path / "tb") == {
        "loss/train": [(1, 2.5), (2, 1.5), (3, 0.5)],
        "loss/val": [(1, 2.75), (2, 1.75), (3, 0.625)],
        "accuracy/train": [(1, 0.25), (2, 0.5), (3, 0.75)],
        "accuracy/val": [(1, 0.125), (2, 0.375), (3, 0.625)],
        "learning_rate": [(1, 0.5), (2, 0.25), (3, 0.125)],
    }


def test_a_regression_run_has_no_accuracy_tags_and_nan_loss_is_kept(tmp_path: Path) -> None:
    with TensorBoardLog(tmp_path) as log:
        log.epoch(epoch(1, 4.0, math.nan, None, None))
        log.epoch(epoch(2, 3.0, 2.0, None, None))
    points = scalars(tmp_path)
    assert sorted(points) == ["loss/train", "loss/val"]
    assert points["loss/train"] == [(1, 4.0), (2, 3.0)]
    assert points["loss/val"][1] == (2, 2.0) and math.isnan(points["loss/val"][0][1])


def test_a_training_update_writes_each_epoch_it_ended_with_its_learning_rate(tmp_path: Path) -> None:
    update = TrainingUpdate(
        epoch=2, epochs=3, step=8, steps_per_epoch=4, done=False, lr=0.0625, steps_per_second=10.0,
        epoch_records=(epoch(1, 1.0, 1.5, 0.5, 0.25), epoch(2, 0.5, 1.25, 0.75, 0.5)),
    )  # fmt: skip
    quiet = TrainingUpdate(epoch=3, epochs=3, step=9, steps_per_epoch=4, done=False, lr=0.0625, steps_per_second=10.0)
    with TensorBoardLog(tmp_path) as log:
        log.update(update)
        log.update(quiet)  # ended no epoch: writes nothing
    assert scalars(tmp_path)["learning_rate"] == [(1, 0.0625), (2, 0.0625)]
    assert scalars(tmp_path)["loss/val"] == [(1, 1.5), (2, 1.25)]
    assert log.written == 10


def test_layers_write_grad_norm_and_update_ratio_per_layer_at_the_given_step(tmp_path: Path) -> None:
    health = [
        LayerHealth("fc1", "Linear", 0.0, None, 0.5, 0.015625, ""),
        LayerHealth("fc2", "Linear", None, None, 0.25, None, ""),  # no update measured yet: left out
    ]
    with TensorBoardLog(tmp_path) as log:
        assert log.layers(10, health) == 3
        assert log.layers(20, [{"name": "fc1", "grad_norm": 0.75, "update_ratio": "nan"}]) == 2
    points = scalars(tmp_path)
    assert sorted(points) == ["layers/grad_norm/fc1", "layers/grad_norm/fc2", "layers/update_ratio/fc1"]
    assert points["layers/grad_norm/fc1"] == [(10, 0.5), (20, 0.75)]
    assert points["layers/grad_norm/fc2"] == [(10, 0.25)]
    assert points["layers/update_ratio/fc1"][0] == (10, 0.015625) and math.isnan(
        points["layers/update_ratio/fc1"][1][1]
    )


def probe_lines() -> list[dict[str, Any]]:
    """Lines as the probe writes them (tui.core.runs.layout): four steps, a sample, a log, events."""
    layers = [
        {"name": "fc1", "type": "Linear", "mean": 0.1, "grad_norm": 0.5, "update_ratio": 0.0078125},
        {"name": "fc2", "type": "Linear", "mean": 0.2, "grad_norm": 0.25, "update_ratio": 0.00390625},
    ]
    return [
        {"kind": "start", "rank": 0, "world_size": 1, "pid": 1, "host": "h", "device": "cpu", "time": 1.0e9},
        *(
            {
                "kind": "step",
                "step": s,
                "time": 1.0e9 + s,
                "loss": 2.0 / s,
                "seconds": 0.1,
                "metrics": {"accuracy": s / 4},
            }
            for s in (1, 2, 4)
        ),
        {"kind": "step", "step": 3, "time": 1.0e9 + 3, "loss": "nan", "seconds": 0.1},  # no metrics this step
        {"kind": "layers", "step": 2, "time": 1.0e9 + 2, "grad_norm": 0.5625, "layers": layers},
        {"kind": "log", "step": 4, "time": 1.0e9 + 4, "values": {"grad_norm": 3.5, "val/acc": 0.875}},
        {"kind": "event", "step": 4, "time": 1.0e9 + 4, "event": "closed"},
    ]


def test_the_probes_lines_become_step_metric_layer_and_log_scalars(tmp_path: Path) -> None:
    writer = ProbeTensorBoard(tmp_path / "run")
    written = [writer.line(line) for line in probe_lines()]
    writer.close()
    assert written == [0, 2, 2, 2, 1, 5, 2, 0]
    points = scalars(tmp_path / "run")
    assert sorted(points) == [
        "accuracy/train", "layers/grad_norm/(all layers)", "layers/grad_norm/fc1", "layers/grad_norm/fc2",
        "layers/update_ratio/fc1", "layers/update_ratio/fc2", "log/grad_norm", "log/val/acc", "loss/train",
    ]  # fmt: skip
    assert points["accuracy/train"] == [(1, 0.25), (2, 0.5), (4, 1.0)]
    assert [p for p in points["loss/train"] if p[0] != 3] == [(1, 2.0), (2, 1.0), (4, 0.5)]
    assert math.isnan(dict(points["loss/train"])[3])
    assert points["layers/grad_norm/(all layers)"] == [(2, 0.5625)]
    assert points["layers/update_ratio/fc2"] == [(2, 0.00390625)]
    assert points["log/grad_norm"] == [(4, 3.5)] and points["log/val/acc"] == [(4, 0.875)]


def test_the_probe_lines_keep_their_wall_time(tmp_path: Path) -> None:
    with ProbeTensorBoard(tmp_path).log as log:
        log.scalar("loss/train", 1.0, 5, wall_time=1234567890.5)
    frame = tbparse.SummaryReader(str(tmp_path), extra_columns={"wall_time"}).scalars
    assert list(frame["wall_time"]) == [1234567890.5]


def test_probe_setting_true_writes_into_the_run_folder_on_rank_0_only(tmp_path: Path) -> None:
    assert probe_tensorboard(None, tmp_path, 0) is None
    assert probe_tensorboard(False, tmp_path, 0) is None
    assert probe_tensorboard(True, tmp_path, 1) is None
    first = probe_tensorboard(True, tmp_path, 0)
    second = probe_tensorboard(str(tmp_path / "tb"), tmp_path, 0)
    assert first is not None and first.log_dir == tmp_path
    assert second is not None and second.log_dir == tmp_path / "tb"
    first.close()
    second.close()
    with pytest.raises(TypeError, match=r"Probe\(tensorboard=...\): True, a folder or None; got int"):
        probe_tensorboard(1, tmp_path, 0)  # type: ignore[arg-type]


def test_a_second_log_in_the_same_folder_adds_a_file_and_overwrites_nothing(tmp_path: Path) -> None:
    with TensorBoardLog(tmp_path) as log:
        log.scalar("loss/train", 1.0, 1)
    with TensorBoardLog(tmp_path) as log:
        log.scalar("loss/train", 0.5, 2)
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2
    assert scalars(tmp_path) == {"loss/train": [(1, 1.0), (2, 0.5)]}


def test_a_log_folder_that_is_a_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(NnviewError) as caught:
        TensorBoardLog(taken)
    assert caught.value.record.kind == "input"
    assert caught.value.record.message == f"the TensorBoard log folder {taken} is a file, not a folder"
    assert "give a folder for the event files" in caught.value.record.hint
    with pytest.raises(NnviewError, match=f"cannot be made: {taken} is a file"):
        check_log_dir(taken / "tb")
    assert taken.read_text() == "mine"


def test_a_missing_log_folder_is_made(tmp_path: Path) -> None:
    assert check_log_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()


def test_without_the_tensorboard_package_the_message_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    with pytest.raises(NnviewError) as caught:
        TensorBoardLog(tmp_path)
    assert caught.value.record.message.startswith("writing TensorBoard logs needs the tensorboard package")
    assert caught.value.record.hint == 'install it: pip install -e ".[tensorboard]" (or pip install tensorboard)'
