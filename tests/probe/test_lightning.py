"""The Lightning adapter in real Lightning runs: DDP on two CPU processes, and one device with accumulation."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
import torch

from tests.probe.adapter_runs import SCRIPTS, child_env, layer, lines, of_kind, run_script

LIGHTNING = find_spec("lightning") is not None or find_spec("pytorch_lightning") is not None
needs_lightning = pytest.mark.skipif(
    not LIGHTNING, reason='PyTorch Lightning is not installed: pip install -e ".[lightning]" to run these tests'
)
SCRIPT = str(SCRIPTS / "lightning_digits.py")
LAYERS = ["net.0", "net.1", "net.2"]  # DigitsMLP: Linear(64, 32), ReLU, Linear(32, 10)


def losses(tmp_path: Path, rank: int) -> list[float]:
    """The losses rank ``rank``'s training_step returned, one per batch, as the script saved them."""
    return json.loads((tmp_path / f"losses-rank{rank}.json").read_text())["losses"]


@needs_lightning
def test_ddp_two_ranks_write_their_steps_layers_and_stop_together(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # every=4: samples at steps 1, 5, 9; the viewer's command is read the step after each sample.
    # The stop request written before batch 7 is read at step 10, so both ranks end after 10 of the 12 steps.
    done = run_script(
        [SCRIPT, str(run_dir), "--devices", "2", "--steps", "12", "--every", "4", "--stop-at", "7"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]

    info = json.loads((run_dir / "run.json").read_text())
    assert (info["world_size"], info["framework"], info["every"]) == (2, "lightning", 4)
    architecture = json.loads((run_dir / "architecture.json").read_text())
    names = [row["name"] for row in architecture["layers"]]
    assert names == ["", "net", *LAYERS]
    assert not any(name.startswith("module") for name in names)

    totals = []
    for rank in (0, 1):
        records = lines(run_dir, rank)
        assert records[0]["kind"] == "start" and (records[0]["rank"], records[0]["world_size"]) == (rank, 2)
        steps = of_kind(records, "step")
        assert [s["step"] for s in steps] == list(range(1, 11))
        own = losses(tmp_path, rank)
        assert len(own) == 10
        assert [s["loss"] for s in steps] == pytest.approx(own, rel=1e-6)
        # self.log("train_loss") reaches the step's metrics: the same number, and train_acc beside it.
        assert [s["metrics"]["train_loss"] for s in steps] == pytest.approx(own, rel=1e-6)
        assert all(0.0 <= s["metrics"]["train_acc"] <= 1.0 for s in steps)
        sampled = of_kind(records, "layers")
        assert [s["step"] for s in sampled] == [1, 5, 9]
        for record in sampled:
            assert [row["name"] for row in record["layers"]] == LAYERS
            assert layer(record, "net.0")["grad_norm"] > 0 and layer(record, "net.2")["grad_norm"] > 0
            assert layer(record, "net.1")["grad_norm"] is None  # a ReLU has no parameters
        totals.append([record["grad_norm"] for record in sampled])
        events = [(e["step"], e["event"]) for e in of_kind(records, "event")]
        assert events == [(10, "stopped"), (10, "closed")]
    # DDP averages the gradients before on_before_optimizer_step: both ranks see the same norms.
    assert totals[0] == pytest.approx(totals[1], rel=1e-5)
    assert losses(tmp_path, 0) != losses(tmp_path, 1)  # each rank trained on its own shard


@needs_lightning
def test_one_device_amp_accumulating_reports_the_unscaled_mean_loss_and_a_failure(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # float16 autocast with a loss scale of 1024; two batches per optimizer step; training_step raises on
    # batch 9, the first of step 5.
    args = ["--devices", "1", "--steps", "6", "--accumulate", "2", "--every", "2", "--amp", "--fail-at", "9"]
    done = run_script([SCRIPT, str(run_dir), *args], tmp_path)
    assert done.returncode == 1
    assert "failing on purpose at batch 9" in done.stderr

    assert json.loads((run_dir / "run.json").read_text())["world_size"] == 1
    records = lines(run_dir, 0)
    steps = of_kind(records, "step")
    own = losses(tmp_path, 0)
    assert len(own) == 8
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    # Each step's loss is the mean of its two batches' losses: not Lightning's halved, scaled last one.
    assert [s["loss"] for s in steps] == pytest.approx([(own[i] + own[i + 1]) / 2 for i in (0, 2, 4, 6)], rel=1e-6)
    sampled = of_kind(records, "layers")
    assert [s["step"] for s in sampled] == [1, 3]
    # Read after Lightning unscales them: scaled by 1024 the total would be in the hundreds.
    assert all(0 < s["grad_norm"] < 5 for s in sampled)
    events = of_kind(records, "event")
    assert [(e["step"], e["event"], e["message"]) for e in events] == [
        (4, "error", "RuntimeError: failing on purpose at batch 9")
    ]


@pytest.fixture(scope="module")
def validated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One device, 4 steps; validation (batches of 500) before training (the sanity check) and after steps 2, 4."""
    if not LIGHTNING:
        pytest.skip('PyTorch Lightning is not installed: pip install -e ".[lightning]" to run these tests')
    folder = tmp_path_factory.mktemp("validated")
    done = run_script(
        [SCRIPT, str(folder / "run"), "--devices", "1", "--steps", "4", "--every", "2", "--validate"], folder
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "run"


@needs_lightning
def test_validation_metrics_reach_the_steps_after_the_validation_that_made_them(validated_run: Path) -> None:
    steps = of_kind(lines(validated_run, 0), "step")
    assert [s["step"] for s in steps] == [1, 2, 3, 4]
    # The sanity check's val_loss is not kept by Lightning; the one after step 2 is seen from step 3 on.
    assert ["val_loss" in s["metrics"] for s in steps] == [False, False, True, True]


@needs_lightning
def test_layer_statistics_and_architecture_come_from_training_batches_not_validation(validated_run: Path) -> None:
    """Lightning's validation passes (no_grad, batches of 500) come before the next training batch: skipped."""
    assert json.loads((validated_run / "architecture.json").read_text())["inputs"][0]["shape"] == [32, 64]


@needs_lightning
@pytest.mark.parametrize("every", [0, -1, 2.5, True, "4"])
def test_a_bad_every_is_refused_when_the_callback_is_made(every: object) -> None:
    from tui.probe.lightning import NnviewCallback

    with pytest.raises(ValueError, match=r"NnviewCallback\(every=...\): a whole number of steps ≥ 1"):
        NnviewCallback("runs/x", every=every)  # type: ignore[arg-type]


@needs_lightning
def test_logged_numbers_keeps_one_number_values_as_copies() -> None:
    from tui.probe.lightning import logged_numbers

    acc = torch.tensor(0.25)
    metrics = {"acc": acc, "loss": torch.tensor([1.5]), "hist": torch.ones(3), "n": 3, "on": True, "name": "x"}
    numbers = logged_numbers(metrics)
    acc.add_(1.0)  # Lightning updating its own tensor later does not change what the step recorded
    assert {name: float(value) for name, value in numbers.items()} == {"acc": 0.25, "loss": 1.5, "n": 3.0}


def test_without_lightning_the_import_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['lightning'] = None; sys.modules['pytorch_lightning'] = None\n"
        "import tui.probe.lightning\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "tui.probe.lightning needs PyTorch Lightning" in done.stderr
    assert 'pip install -e ".[lightning]"' in done.stderr
