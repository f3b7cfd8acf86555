"""The Hugging Face adapter in real Trainer runs on tiny models built from configs (nothing downloaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.probe.adapter_runs import SCRIPTS, child_env, layer, lines, of_kind, run_script

HF = find_spec("transformers") is not None and find_spec("accelerate") is not None
needs_hf = pytest.mark.skipif(
    not HF, reason='transformers and accelerate are not installed: pip install -e ".[hf]" to run these tests'
)
SCRIPT = str(SCRIPTS / "hf_tiny.py")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing reaches the Hugging Face hub (the child processes get the same variables from child_env)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@needs_hf
def test_step_loss_matches_the_trainer_and_layer_norms_are_after_clipping(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run_script(
        [SCRIPT, str(run_dir), "--model", "bert", "--steps", "6", "--every", "2", "--max-grad-norm", "0.1"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]

    info = json.loads((run_dir / "run.json").read_text())
    assert (info["world_size"], info["framework"], info["every"]) == (1, "hf", 2)
    names = [row["name"] for row in json.loads((run_dir / "architecture.json").read_text())["layers"]]
    assert "bert.embeddings.word_embeddings" in names and "classifier" in names
    assert not any(name.startswith("module") for name in names)

    records = lines(run_dir, 0)
    steps = of_kind(records, "step")
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    logs = [r for r in of_kind(records, "log") if "grad_norm" in r["values"]]  # logging_steps=1: one per step
    assert [r["step"] for r in logs] == [1, 2, 3, 4, 5, 6]
    # The step line's loss is the Trainer's own loss of that step (what it logs, with logging_steps=1).
    assert [s["loss"] for s in steps] == pytest.approx([r["values"]["loss"] for r in logs], rel=1e-6)
    assert all(r["values"]["learning_rate"] > 0 for r in logs)

    pre_clip = {r["step"]: r["values"]["grad_norm"] for r in logs}
    sampled = of_kind(records, "layers")
    assert [s["step"] for s in sampled] == [1, 3, 5]
    for record in sampled:
        # The Trainer logs the norm before clipping; the probe sees the clipped gradients (max_grad_norm=0.1).
        assert pre_clip[record["step"]] > 0.1
        assert record["grad_norm"] == pytest.approx(0.1, rel=1e-4)
        assert 0 < layer(record, "classifier")["grad_norm"] <= 0.1
        assert 0 < layer(record, "bert.embeddings.word_embeddings")["grad_norm"] <= 0.1
    assert [(e["step"], e["event"]) for e in of_kind(records, "event")] == [(6, "closed")]


@needs_hf
def test_torchrun_two_ranks_with_accumulation_and_a_stop_request(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # every=2: samples at steps 1, 3, 5; the stop written before step 3 is read at step 4 on both ranks.
    done = run_script(
        [
            SCRIPT,
            str(run_dir),
            "--model",
            "gpt2",
            "--steps",
            "6",
            "--accumulate",
            "2",
            "--every",
            "2",
            "--stop-at",
            "3",
        ],
        tmp_path,
        torchrun=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    assert json.loads((run_dir / "run.json").read_text())["world_size"] == 2
    step_losses = []
    for rank in (0, 1):
        records = lines(run_dir, rank)
        assert (records[0]["kind"], records[0]["rank"], records[0]["world_size"]) == ("start", rank, 2)
        steps = of_kind(records, "step")
        assert [s["step"] for s in steps] == [1, 2, 3, 4]
        step_losses.append([s["loss"] for s in steps])
        assert [s["step"] for s in of_kind(records, "layers")] == [1, 3]
        assert [(e["step"], e["event"]) for e in of_kind(records, "event")] == [(4, "stopped"), (4, "closed")]
    # The Trainer's logged loss is the mean over ranks of each rank's step loss.
    logged = [r["values"]["loss"] for r in of_kind(lines(run_dir, 0), "log") if "grad_norm" in r["values"]]
    means = [(a + b) / 2 for a, b in zip(*step_losses, strict=True)]
    assert logged == pytest.approx(means, rel=1e-5)
    assert step_losses[0] != step_losses[1]


@needs_hf
@pytest.mark.parametrize("every", [0, -3, 1.5, False])
def test_a_bad_every_is_refused_when_the_callback_is_made(every: object) -> None:
    from tui.probe.hf import NnviewCallback

    with pytest.raises(ValueError, match=r"NnviewCallback\(every=...\): a whole number of steps ≥ 1"):
        NnviewCallback("runs/x", every=every)  # type: ignore[arg-type]


@needs_hf
def test_train_begin_without_a_model_names_what_it_got(tmp_path: Path) -> None:
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from tui.probe.hf import NnviewCallback

    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    callback = NnviewCallback(tmp_path / "run")
    with pytest.raises(TypeError, match=r"needs the Trainer's model \(a torch.nn.Module\), got NoneType"):
        callback.on_train_begin(args, TrainerState(), TrainerControl(), model=None)
    assert not (tmp_path / "run").exists()


def test_without_transformers_the_import_error_says_what_to_install() -> None:
    code = "import sys; sys.modules['transformers'] = None\nimport tui.probe.hf\n"
    done = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "tui.probe.hf needs Hugging Face transformers" in done.stderr
    assert 'pip install -e ".[hf]"' in done.stderr
