"""The probe in one process: the lines it writes, their exact numbers, its arguments and its lifetime."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.probe.run_lines import lines
from tui.core.runs.layout import ARCHITECTURE_FILE, CONTROL_FILE, RUN_FILE
from tui.probe import Probe


class TwoLayer(nn.Module):
    """fc1 -> relu (functional) -> fc2: the relu is known only from the architecture."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


def _model() -> TwoLayer:
    torch.manual_seed(0)
    return TwoLayer()


def _train(model: nn.Module, probe: Probe, steps: int, lr: float = 0.1) -> list[float]:
    torch.manual_seed(1)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(float(loss.detach()))
        probe.step(loss, accuracy=0.5)
        optimizer.step()
        optimizer.zero_grad()
    return losses


def test_run_folder_files_and_step_lines(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run", every=1) as probe:
        losses = _train(model, probe, 3)
    run = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert (run["format"], run["version"], run["world_size"], run["every"], run["framework"]) == (
        "nnview-run", 1, 1, 1, "torch"
    )
    steps = lines(tmp_path / "run" / "rank0.jsonl", "step")
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert [s["loss"] for s in steps] == pytest.approx(losses, abs=1e-7)
    assert all(s["metrics"] == {"accuracy": 0.5} and s["seconds"] >= 0 for s in steps)
    kinds = [r["kind"] for r in lines(tmp_path / "run" / "rank0.jsonl")]
    assert kinds[0] == "start" and kinds[-1] == "event"
    assert lines(tmp_path / "run" / "rank0.jsonl", "event")[-1]["event"] == "closed"


def test_sampled_numbers_are_the_layers_own(tmp_path: Path) -> None:
    """Step 1's line holds relu(fc1) statistics, each layer's gradient norm and its SGD update ratio."""
    model = _model()
    torch.manual_seed(1)
    x, y = torch.randn(8, 3), torch.randint(0, 2, (8,))
    hidden = F.relu(model.fc1(x)).detach()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    fc1_grad = torch.linalg.vector_norm(torch.stack([model.fc1.weight.grad.norm(), model.fc1.bias.grad.norm()]))
    fc1_size = torch.linalg.vector_norm(torch.stack([model.fc1.weight.norm(), model.fc1.bias.norm()]))
    model.zero_grad()
    expected_update = float(0.1 * fc1_grad / fc1_size)  # SGD moves w by lr * grad

    fresh = _model()
    with Probe(fresh, tmp_path / "run", every=1) as probe:
        _train(fresh, probe, 2)
    first = lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]
    fc1 = next(layer for layer in first["layers"] if layer["name"] == "fc1")
    assert first["step"] == 1 and fc1["type"] == "Linear"
    assert fc1["mean"] == pytest.approx(float(hidden.mean()), rel=1e-6)
    assert fc1["std"] == pytest.approx(float(hidden.std()), rel=1e-6)
    assert fc1["zero_frac"] == pytest.approx(float((hidden == 0).float().mean()))
    dead = float((hidden == 0).all(dim=0).float().mean())
    assert fc1["dead_frac"] == pytest.approx(dead) and fc1["saturated_frac"] is None
    assert fc1["grad_norm"] == pytest.approx(float(fc1_grad), rel=1e-6)
    assert fc1["update_ratio"] == pytest.approx(expected_update, rel=1e-5)
    fc2 = next(layer for layer in first["layers"] if layer["name"] == "fc2")
    assert fc2["dead_frac"] is None  # nothing follows fc2
    assert first["grad_norm"] == pytest.approx(math.hypot(fc1["grad_norm"], fc2["grad_norm"]), rel=1e-6)


def test_every_samples_that_often_and_the_last_sample_is_kept_at_close(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run", every=4) as probe:
        _train(model, probe, 10)
    sampled = [r["step"] for r in lines(tmp_path / "run" / "rank0.jsonl", "layers")]
    assert sampled == [1, 5, 9]


def test_adaptive_sampling_thins_out_on_fast_steps(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run") as probe:
        _train(model, probe, 300)
    sampled = [r["step"] for r in lines(tmp_path / "run" / "rank0.jsonl", "layers")]
    assert sampled[0] == 1 and 2 <= len(sampled) < 150
    assert len(lines(tmp_path / "run" / "rank0.jsonl", "step")) == 300


def test_architecture_is_the_summary_of_the_first_batch(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run", every=1) as probe:
        _train(model, probe, 1)
    summary = json.loads((tmp_path / "run" / ARCHITECTURE_FILE).read_text())
    assert [(row["name"], row["type"]) for row in summary["layers"]] == [
        ("", "TwoLayer"), ("fc1", "Linear"), ("fc2", "Linear")
    ]
    assert summary["layers"][1]["activation"] == "relu"
    assert summary["layers"][1]["outputs"] == [[8, 4]]
    assert summary["totals"]["params"] == 3 * 4 + 4 + 4 * 2 + 2 == 26
    assert summary["totals"]["macs"] == 8 * (3 * 4 + 4 * 2)
    assert model.training  # the trace left the mode as it was


def test_architecture_without_a_forward_lists_the_modules_and_says_why(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run") as probe:
        probe.step(1.0)
    summary = json.loads((tmp_path / "run" / ARCHITECTURE_FILE).read_text())
    assert [row["name"] for row in summary["layers"]] == ["", "fc1", "fc2"]
    assert summary["totals"]["params"] == 26
    assert "not called before the first probe.step()" in summary["error"]


def test_wrapped_models_are_named_without_the_module_prefix(tmp_path: Path) -> None:
    model = _model()
    wrapped = nn.DataParallel(model)  # on CPU it just calls the module; the names it adds are the same
    with Probe(wrapped, tmp_path / "run", every=1) as probe:
        _train(wrapped, probe, 2)
    names = [layer["name"] for layer in lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"]]
    assert names == ["fc1", "fc2"]


def test_non_finite_numbers_are_strings_a_json_reader_accepts(tmp_path: Path) -> None:
    model = _model()
    with Probe(model, tmp_path / "run", every=1) as probe:
        probe.step(torch.tensor(float("nan")), ratio=float("inf"))
        probe.step(float("-inf"))
    steps = lines(tmp_path / "run" / "rank0.jsonl", "step")  # strict: a bare NaN fails here
    assert [s["loss"] for s in steps] == ["nan", "-inf"]
    assert steps[0]["metrics"] == {"ratio": "inf"}


def test_a_half_precision_model_is_measured_in_float32(tmp_path: Path) -> None:
    model = _model().to(torch.bfloat16)
    with Probe(model, tmp_path / "run", every=1) as probe:
        x = torch.randn(8, 3, dtype=torch.bfloat16)
        loss = model(x).float().pow(2).mean()
        loss.backward()
        probe.step(loss)
    fc1 = lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"][0]
    assert fc1["name"] == "fc1" and isinstance(fc1["mean"], float) and fc1["grad_norm"] > 0


def test_a_module_called_twice_keeps_its_first_call(tmp_path: Path) -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.fc(x) * 0 + 5)

    torch.manual_seed(0)
    model = Twice()
    x = torch.ones(1, 2)
    first_call = model.fc(x).detach()
    with Probe(model, tmp_path / "run", every=1) as probe:
        model(x).sum().backward()
        probe.step()
    fc = lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"][0]
    assert fc["mean"] == pytest.approx(float(first_call.mean()))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: Probe("model.pt", p), "model must be a torch.nn.Module, got str"),
        (lambda p: Probe(nn.Linear(1, 1), p, every=0), "a whole number of steps ≥ 1"),
        (lambda p: Probe(nn.Linear(1, 1), p, every=2.5), "a whole number of steps ≥ 1"),
        (lambda p: Probe(nn.Linear(1, 1), p, on_stop="exit"), "one of raise, flag"),
    ],
)
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, make, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        make(tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_bad_step_values_and_a_closed_probe(tmp_path: Path) -> None:
    probe = Probe(nn.Linear(1, 1), tmp_path / "run")
    with pytest.raises(TypeError, match="loss must be a number or a one-element tensor, got str"):
        probe.step("0.5")
    with pytest.raises(TypeError, match="accuracy must be a number or a one-element tensor, got Tensor"):
        probe.step(1.0, accuracy=torch.ones(3))
    probe.close()
    probe.close()  # twice is fine
    with pytest.raises(RuntimeError, match=r"after probe\.close"):
        probe.step(1.0)


def test_an_error_in_the_with_block_is_written_as_the_runs_end(tmp_path: Path) -> None:
    model = _model()
    with pytest.raises(ZeroDivisionError), Probe(model, tmp_path / "run") as probe:
        probe.step(1.0)
        raise ZeroDivisionError("division by zero")
    last = lines(tmp_path / "run" / "rank0.jsonl", "event")[-1]
    assert (last["event"], last["message"]) == ("error", "ZeroDivisionError: division by zero")


def test_default_folder_is_named_after_the_script_and_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["/somewhere/train_digits.py", "--fast"])
    first, second = Probe(nn.Linear(1, 1)), Probe(nn.Linear(1, 1))
    first.close()
    second.close()
    assert first.run_dir.parent == Path("runs") and first.run_dir.name.startswith("train_digits-")
    assert second.run_dir != first.run_dir
    run = json.loads((first.run_dir / RUN_FILE).read_text())
    assert (run["script"], run["command"]) == ("train_digits.py", ["/somewhere/train_digits.py", "--fast"])


def test_a_stop_left_in_the_folder_by_an_earlier_run_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / CONTROL_FILE).write_text(json.dumps({"command": "stop", "id": 7, "time": 0}))
    model = _model()
    with Probe(model, folder, every=1) as probe:
        _train(model, probe, 5)
    assert len(lines(folder / "rank0.jsonl", "step")) == 5


def test_autocast_outputs_are_measured_and_gradients_read_as_they_are(tmp_path: Path) -> None:
    """Under autocast the layers' outputs are bfloat16; the statistics are taken in float32."""
    model = _model()
    x = torch.randn(8, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = F.relu(model.fc1(x)).float()
    with Probe(model, tmp_path / "run", every=1) as probe:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(x).float().pow(2).mean()
        loss.backward()
        grad = float(torch.linalg.vector_norm(torch.stack([model.fc1.weight.grad.norm(), model.fc1.bias.grad.norm()])))
        probe.step(loss)
    fc1 = lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"][0]
    assert fc1["mean"] == pytest.approx(float(expected.mean()), rel=1e-6)
    assert fc1["grad_norm"] == pytest.approx(grad, rel=1e-6)


def test_an_evaluation_under_no_grad_is_not_the_sampled_batch(tmp_path: Path) -> None:
    """A validation pass between steps (no_grad, another batch size) is neither the architecture nor a sample."""
    model = _model()
    train_x = torch.randn(8, 3)
    with Probe(model, tmp_path / "run", every=1) as probe:
        with torch.no_grad():
            model(torch.full((50, 3), 100.0))  # a validation batch, before the first training forward
        expected = F.relu(model.fc1(train_x)).detach()
        model(train_x).sum().backward()
        probe.step(1.0)
    summary = json.loads((tmp_path / "run" / ARCHITECTURE_FILE).read_text())
    assert summary["inputs"][0]["shape"] == [8, 3]
    fc1 = lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"][0]
    assert fc1["mean"] == pytest.approx(float(expected.mean()), rel=1e-6)


def test_a_run_folder_that_cannot_be_made_says_so(tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    with pytest.raises(ValueError, match=r"the run folder is a file, not a folder; name a folder the run can write"):
        Probe(nn.Linear(1, 1), taken)
    assert taken.read_text() == "mine"
    with pytest.raises(ValueError, match=r"the run folder cannot be written"):
        Probe(nn.Linear(1, 1), taken / "run")


def test_attention_weights_owned_beside_children_are_measured(tmp_path: Path) -> None:
    """MultiheadAttention owns in_proj_weight itself and has out_proj as a child: both are layers."""
    torch.manual_seed(0)
    model = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)
    with Probe(model, tmp_path / "run", every=1) as probe:
        model(torch.randn(2, 3, 8)).sum().backward()
        probe.step()
    rows = {row["name"]: row for row in lines(tmp_path / "run" / "rank0.jsonl", "layers")[0]["layers"]}
    assert list(rows)[:2] == ["self_attn", "self_attn.out_proj"]
    own = torch.linalg.vector_norm(torch.stack([model.self_attn.in_proj_weight.grad.norm(),
                                                model.self_attn.in_proj_bias.grad.norm()]))
    assert rows["self_attn"]["grad_norm"] == pytest.approx(float(own), rel=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # importing torch.compile's machinery warns about jit
def test_a_compiled_model_is_named_as_the_model_it_wraps(tmp_path: Path) -> None:
    from tui.core.probe.step_values import unwrapped

    model = _model()
    compiled = torch.compile(model)  # not run: compiling needs a C++ compiler; the wrapper's names are the point
    assert unwrapped(compiled) is model and unwrapped(nn.DataParallel(compiled)) is model
    assert [name for name, _ in compiled.named_modules()][1] == "_orig_mod"
