"""``nnview train`` under torchrun, in one process: each rank's share, the hook points, the agreement."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch.utils.data.distributed import DistributedSampler

from tests.conftest import MODELS
from tui.core.records import ErrorRecord, NnviewError
from tui.core.train.distributed import VIEWER_STOP, Launch, Ranks, launch_from_env
from tui.core.train.run import TrainOptions, open_training
from tui.core.train.shards import training_shard, validation_rows
from tui.core.train.step_errors import is_ranks_lost, step_failed
from tui.core.train.trainer import TrainConfig, Trainer
from tui.core.train.watched import check_run_dir, run_folder_name

SIMPLE = str(MODELS / "simple.py")  # 800 training and 200 validation samples


def simple_trainer(epochs: int = 2) -> Trainer:
    options = TrainOptions(SIMPLE, config=TrainConfig(epochs=epochs, seed=0), explicit=("epochs", "seed"))
    return open_training(options).trainer


@pytest.mark.parametrize(("samples", "world_size"), [(12, 3), (10, 3), (2, 3), (7, 1), (1437, 2)])
def test_each_rank_takes_what_distributed_sampler_gives_it(samples: int, world_size: int) -> None:
    for rank in range(world_size):
        expected = list(DistributedSampler(range(samples), num_replicas=world_size, rank=rank, shuffle=False))
        assert training_shard(torch.arange(samples), rank, world_size).tolist() == expected


def test_shares_of_a_shuffle_are_disjoint_cover_every_sample_and_are_equally_long() -> None:
    order = torch.randperm(1437, generator=torch.Generator().manual_seed(0))
    shares = [training_shard(order, rank, 2).tolist() for rank in range(2)]
    assert [len(share) for share in shares] == [719, 719]
    assert set(shares[0]).isdisjoint(shares[1][:-1])
    assert shares[1][-1] == shares[0][0] == int(order[0])  # the one padded sample repeats the shuffle's start
    assert set(shares[0]) | set(shares[1]) == set(range(1437))
    even = [training_shard(order[:1436], rank, 4).tolist() for rank in range(4)]
    assert [len(share) for share in even] == [359] * 4
    assert sorted(i for share in even for i in share) == sorted(order[:1436].tolist())  # no padding, no overlap


def test_validation_rows_split_the_split_without_padding() -> None:
    rows = [list(range(10))[validation_rows(10, rank, 3)] for rank in range(3)]
    assert rows == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert list(range(2))[validation_rows(2, 2, 3)] == []


def test_two_ranks_draw_the_same_shuffle_and_step_the_same_number_of_times() -> None:
    alone = simple_trainer()
    ranks = [simple_trainer() for _ in range(2)]
    for rank, trainer in enumerate(ranks):
        trainer.share(rank, 2)
    assert alone.steps_per_epoch == 25
    assert [trainer.steps_per_epoch for trainer in ranks] == [13, 13]  # 400 samples each, batch 32
    assert ranks[0].order.tolist() == alone.order[0::2].tolist()
    assert ranks[1].order.tolist() == alone.order[1::2].tolist()


def test_the_validation_shares_add_up_to_the_whole_split() -> None:
    alone = simple_trainer()
    sent: list[list[float]] = []

    def record(failure: ErrorRecord | None, values: Sequence[float]) -> list[float]:
        sent.append(list(values))
        return list(values)

    for rank in range(2):
        trainer = simple_trainer()
        trainer.model.load_state_dict(alone.model.state_dict())
        trainer.share(rank, 2)
        trainer.agree = record
        trainer._figures_over_ranks()
    loss, accuracy = alone.evaluate()
    summed = [a + b for a, b in zip(*sent, strict=True)]
    assert [values[5] for values in sent] == [100, 100]
    assert summed[1] == 800  # the training samples both ranks will step over
    assert accuracy is not None and summed[6] / summed[7] == accuracy
    assert summed[4] / summed[5] == pytest.approx(loss, rel=1e-6)


def test_every_step_asks_the_ranks_before_backward_and_an_agreed_failure_changes_nothing() -> None:
    trainer = simple_trainer()
    asked: list[tuple[ErrorRecord | None, tuple[float, ...]]] = []

    def agree(failure: ErrorRecord | None, values: Sequence[float]) -> list[float]:
        asked.append((failure, tuple(values)))
        if trainer.step_count == 2:
            raise NnviewError(ErrorRecord(kind="forward", message="rank 1: step 3 failed: boom", hint="fix it"))
        return []

    trainer.agree = agree
    trainer.step()
    trainer.step()
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    with pytest.raises(NnviewError, match=r"^rank 1: step 3 failed: boom$"):
        trainer.step()
    assert asked == [(None, ()), (None, ()), (None, ())]
    assert trainer.step_count == 2
    assert all(torch.equal(before[name], value) for name, value in trainer.model.state_dict().items())
    assert all(p.grad is None for p in trainer.model.parameters())  # zero_grad ran; backward did not


def test_a_rank_that_fails_tells_the_others_what_failed() -> None:
    trainer = simple_trainer()
    trainer.data.x_train[trainer.order[32:64]] = float("nan")  # the second batch
    told: list[ErrorRecord | None] = []

    def agree(failure: ErrorRecord | None, values: Sequence[float]) -> list[float]:
        told.append(failure)
        if failure is not None:
            raise NnviewError(failure)
        return []

    trainer.agree = agree
    trainer.step()
    with pytest.raises(NnviewError):
        trainer.step()
    assert told[0] is None and told[1] is not None
    assert told[1].message.startswith("the loss became nan at step 2; the first layer with non-finite outputs is fc1")


def test_after_backward_sees_the_gradients_before_the_optimizer_moves_the_weights() -> None:
    trainer = simple_trainer()
    before = {name: value.clone() for name, value in trainer.model.state_dict().items()}
    seen: list[tuple[float, float | None, bool, bool]] = []

    def after_backward(loss: torch.Tensor, accuracy: float | None) -> None:
        unchanged = all(torch.equal(before[n], v) for n, v in trainer.model.state_dict().items())
        grads = all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.model.parameters())
        seen.append((float(loss), accuracy, grads, unchanged))

    trainer.after_backward = after_backward
    outcome = trainer.step()
    assert seen == [(outcome.step.loss, outcome.step.accuracy, True, True)]
    assert not all(torch.equal(before[n], v) for n, v in trainer.model.state_dict().items())


def test_torchrun_variables_say_which_rank_this_is() -> None:
    full = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "localhost", "MASTER_PORT": "29500"}
    assert launch_from_env({}) is None
    assert launch_from_env({**full, "WORLD_SIZE": "1"}) is None
    assert launch_from_env(full) == Launch(rank=1, world_size=2, local_rank=1)
    with pytest.raises(NnviewError, match=r"^WORLD_SIZE=2 is set but MASTER_ADDR, MASTER_PORT are not$") as caught:
        launch_from_env({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"})
    assert "torchrun --nproc-per-node 2 -m tui train" in caught.value.record.hint
    with pytest.raises(NnviewError, match=r"^RANK='one' is not a rank number$"):
        launch_from_env({**full, "RANK": "one"})


@pytest.fixture
def one_rank() -> Iterator[Ranks]:
    """A real gloo process group of one rank, in this process."""
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    ranks = Ranks(Launch(0, 1, 0), torch.device("cpu"), owns_group=True)
    try:
        yield ranks
    finally:
        ranks.close(together=True)
    assert not dist.is_initialized()


def test_the_agreement_adds_up_values_and_spreads_stops_and_failures(one_rank: Ranks) -> None:
    assert launch_from_env({}) == Launch(0, 1, 0)  # a group already up is used as it is
    assert one_rank.agree(None, (1.5, 2.0, 3)) == [1.5, 2.0, 3.0]
    assert not one_rank.stop.is_set()
    one_rank.requested = lambda: 15
    assert one_rank.agree(None) == []
    assert one_rank.stop.is_set() and one_rank.stopped_by == (0, 15)
    one_rank.stop.clear()
    one_rank.requested = lambda: VIEWER_STOP
    one_rank.agree(None)
    assert one_rank.stopped_by == (0, VIEWER_STOP)
    failure = ErrorRecord(kind="forward", message="step 3 failed: ValueError: x", hint="fix the model file")
    with pytest.raises(NnviewError) as caught:
        one_rank.agree(failure)
    assert (caught.value.record.message, caught.value.record.hint) == (
        "rank 0: step 3 failed: ValueError: x",
        failure.hint,
    )


def test_attached_ranks_train_through_ddp_and_keep_the_names_without_module(one_rank: Ranks) -> None:
    trainer = simple_trainer(epochs=1)
    one_rank.attach(trainer)
    assert type(trainer.train_model).__name__ == "DistributedDataParallel"
    while not trainer.done:
        outcome = trainer.step()
    assert trainer.step_count == 25 and outcome.epoch is not None
    assert outcome.epoch.val_accuracy == trainer.evaluate()[1]
    assert sorted(trainer.model.state_dict()) == [
        "fc1.bias",
        "fc1.weight",
        "fc2.bias",
        "fc2.weight",
        "fc3.bias",
        "fc3.weight",
    ]


def test_a_collective_that_fails_in_backward_is_a_lost_rank_not_the_model_files_fault() -> None:
    gone = RuntimeError("[gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:4799: Connection reset by peer")
    lost = step_failed(gone, 80, (), rank=1).record
    assert lost.message == f"rank 1 lost touch with the other ranks ({gone})"
    assert is_ranks_lost(lost)
    own = step_failed(ValueError("bad shape"), 80, (), rank=1).record
    assert own.message == "step 80 failed: ValueError: bad shape" and not is_ranks_lost(own)
    assert step_failed(gone, 80, ()).record.message.startswith("step 80 failed: RuntimeError: ")  # one process


def test_run_folders_are_named_after_the_model_and_never_reused(tmp_path: Path) -> None:
    now = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
    first = run_folder_name("models/digits_cnn.py:DigitsCNN", str(tmp_path), now)
    assert first == str(tmp_path / "digits_cnn-20260102-030405")
    Path(first).mkdir()
    assert run_folder_name("models/digits_cnn.py", str(tmp_path), now) == first + "-2"


def test_a_run_dir_that_is_a_file_or_someone_elses_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NnviewError, match="is a file, not a folder"):
        check_run_dir(str(tmp_path / "notes.txt"))
    with pytest.raises(NnviewError, match="holds files that are not a run's"):
        check_run_dir(str(tmp_path))
    check_run_dir(str(tmp_path / "new"))
    (tmp_path / "old-run").mkdir()
    (tmp_path / "old-run" / "rank0.jsonl").write_text("")
    check_run_dir(str(tmp_path / "old-run"))
