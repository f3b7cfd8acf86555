"""Training: the seeds' accuracy targets, determinism, health, NaN, data that does not fit."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tests.conftest import MODELS
from tui.core.load.datasets import load_training_data
from tui.core.load.model_file import load_model
from tui.core.records import NnviewError
from tui.core.train.health import layer_health
from tui.core.train.loop import training_updates
from tui.core.train.records import EpochRecord, StepOutcome
from tui.core.train.run import TrainOptions, open_training
from tui.core.train.trainer import TrainConfig, Trainer


def final_epoch(trainer: Trainer) -> EpochRecord:
    epochs = [u.epoch_record for u in training_updates(trainer) if u.epoch_record is not None]
    return epochs[-1]


def test_simple_nn_reaches_the_seed_accuracy_with_its_defaults() -> None:
    session = open_training(TrainOptions(str(MODELS / "simple.py")))
    assert (session.config.epochs, session.config.batch_size, session.config.lr) == (100, 32, 0.01)
    assert session.trainer.loss_name == "cross_entropy"
    last = final_epoch(session.trainer)
    assert last.epoch == 100
    assert last.val_accuracy >= 0.88  # plain PyTorch reaches ~0.93 in the seed
    assert session.trainer.step_count == 100 * 25  # 800 training samples in batches of 32


def test_xor_defaults_solve_xor() -> None:
    session = open_training(TrainOptions(str(MODELS / "xor.py")))
    last = final_epoch(session.trainer)
    assert last.val_accuracy == 1.0
    outputs = session.trainer.model(torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
    assert (outputs > 0.5).flatten().tolist() == [False, True, True, False]


def test_digits_cnn_reaches_095_on_real_digits() -> None:
    session = open_training(TrainOptions(str(MODELS / "digits_cnn.py"), config=TrainConfig(epochs=15, lr=0.01)))
    assert len(session.data.x_train) + len(session.data.x_val) == 1797
    assert final_epoch(session.trainer).val_accuracy >= 0.95


def test_seed_xor_net_with_two_units_shows_its_dead_relus_when_it_fails() -> None:
    loaded = load_model(str(MODELS / "xor.py"))
    data = load_training_data(None, None, loaded.namespace)
    torch.manual_seed(0)
    model = loaded.namespace["XORNet"](hidden=2)
    trainer = Trainer(model, data, TrainConfig(epochs=300, batch_size=4, seed=0), loaded.namespace)
    assert final_epoch(trainer).val_accuracy == 0.5
    hidden = next(h for h in layer_health(model, data.x_train) if h.layer == "hidden")
    assert hidden.dead_frac == 1.0
    assert "dead" in hidden.hint and "LeakyReLU" in hidden.hint


def test_same_seed_same_losses_and_reset_restores_the_start() -> None:
    def losses() -> list[float]:
        session = open_training(
            TrainOptions(str(MODELS / "simple.py"), config=TrainConfig(epochs=2), explicit=("epochs",))
        )
        return [s.loss for u in training_updates(session.trainer) for s in u.steps]

    assert losses() == losses()
    session = open_training(TrainOptions(str(MODELS / "simple.py"), config=TrainConfig(epochs=1), explicit=("epochs",)))
    start = {k: v.clone() for k, v in session.trainer.model.state_dict().items()}
    first = session.trainer.step()
    session.trainer.reset_weights()
    assert all(torch.equal(v, start[k]) for k, v in session.trainer.model.state_dict().items())
    assert session.trainer.step_count == 0
    assert session.trainer.step().step.loss == first.step.loss


def test_one_step_is_one_batch() -> None:
    session = open_training(TrainOptions(str(MODELS / "simple.py")))
    outcome = session.trainer.step()
    assert isinstance(outcome, StepOutcome) and outcome.epoch is None
    assert (outcome.step.step, outcome.step.epoch, session.trainer.position) == (1, 1, 32)


def test_nan_in_the_data_stops_training_and_names_the_first_layer() -> None:
    session = open_training(TrainOptions(str(MODELS / "simple.py")))
    trainer = session.trainer
    trainer.data.x_train[trainer.order[:32]] = float("nan")
    with pytest.raises(NnviewError) as caught:
        trainer.step()
    assert caught.value.record.layer == "fc1"
    assert "loss became nan at step 1" in caught.value.record.message
    assert "learning rate" in caught.value.record.hint


def test_data_with_the_wrong_feature_count_is_refused_before_training() -> None:
    with pytest.raises(NnviewError) as caught:
        open_training(TrainOptions(str(MODELS / "simple.py"), data="moons"))
    record = caught.value.record
    assert (record.kind, record.layer) == ("shape_mismatch", "fc1")
    assert record.message.startswith("moons (samples of shape 2) does not fit the model")


def test_labels_beyond_the_output_size_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.py"
    path.write_text("from torch import nn\nmodel = nn.Linear(2, 2)\n")
    with pytest.raises(NnviewError) as caught:
        open_training(TrainOptions(str(path), data="blobs"))
    assert caught.value.record.message.startswith("the labels go up to 2 but the model outputs 2 values")
    assert "make the last layer output 3 values" in caught.value.record.hint


def test_unknown_data_and_missing_dataset_say_what_to_pass(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("from torch import nn\nmodel = nn.Linear(2, 2)\n")
    with pytest.raises(NnviewError) as caught:
        open_training(TrainOptions(str(path)))
    assert "no dataset()" in caught.value.record.message and "--data" in caught.value.record.hint
    with pytest.raises(NnviewError) as caught:
        open_training(TrainOptions(str(path), data="imagenet"))
    assert "neither a built-in dataset nor an existing .csv file" in caught.value.record.message


@pytest.mark.parametrize(("name", "features", "classes"), [
    ("xor", (2,), 2), ("moons", (2,), 2), ("circles", (2,), 2), ("spiral", (2,), 2),
    ("blobs", (2,), 3), ("classification", (5,), 3), ("digits", (64,), 10),
])  # fmt: skip
def test_built_in_datasets_have_the_documented_shapes(name: str, features: tuple[int, ...], classes: int) -> None:
    data = load_training_data(name, None, {})
    assert (data.features, data.classes) == (features, classes)
    assert data.y_train.dtype == torch.int64


def test_csv_with_text_labels_and_a_chosen_target(tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    rows = ["a,b,species"] + [f"{i},{i % 3},{['setosa', 'virginica'][i % 2]}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    data = load_training_data(str(path), "species", {})
    assert (data.features, data.classes, len(data.x_train), len(data.x_val)) == ((2,), 2, 8, 2)
    with pytest.raises(NnviewError) as caught:
        load_training_data(str(path), "colour", {})
    assert "no column 'colour'" in caught.value.record.message


def test_command_line_overrides_the_files_hyperparameters() -> None:
    options = TrainOptions(str(MODELS / "simple.py"), config=TrainConfig(epochs=3, lr=0.5), explicit=("epochs", "lr"))
    session = open_training(options)
    assert (session.config.epochs, session.config.lr, session.config.batch_size) == (3, 0.5, 32)


def test_unknown_device_is_refused() -> None:
    with pytest.raises(NnviewError) as caught:
        Trainer(nn.Linear(2, 2), load_training_data("xor", None, {}), TrainConfig(device="tpu"))
    assert "unknown device 'tpu'" in caught.value.record.message
