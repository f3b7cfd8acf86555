"""The final layer read as classes, with the truth: labels of dataset() rows, class names, one output, positions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.conftest import MODELS
from tui.core.explain.sample_view import final_layer, sample_view
from tui.core.session import ModelSession, SessionOptions

ONE_OUTPUT = '''
import torch
from torch import nn

class Net(nn.Module):
    """z = 2 a - b + 0.5{sigmoid_doc}."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[2.0, -1.0]]))
            self.fc.bias.fill_(0.5)
        self.out = {out}

    def forward(self, x):
        return self.out(self.fc(x))

X = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [1.0, 1.0]])  # z = 0.5, 2.5, -2.5, 1.5
Y = {labels}

def dataset():
    return X, Y, X, Y
{extra}
'''

Z = (0.5, 2.5, -2.5, 1.5)
BINARY = "torch.tensor([[1.0], [0.0], [0.0], [1.0]])"


def _one_output(tmp_path: Path, *, sigmoid: bool, labels: str = BINARY, extra: str = "") -> ModelSession:
    """A 2 -> 1 model with known weights, opened on the first rows of its dataset()."""
    path = tmp_path / "one_output.py"
    out = "nn.Sigmoid()" if sigmoid else "nn.Identity()"
    doc = ", then a sigmoid" if sigmoid else " (a logit)"
    path.write_text(ONE_OUTPUT.format(out=out, sigmoid_doc=doc, labels=labels, extra=extra))
    session = ModelSession(SessionOptions(str(path)))
    session.open()
    assert session.first_rows() is not None
    return session


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_simple_nn_first_rows_carry_their_labels_and_each_sample_says_right_or_wrong() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "simple.py")))
    inferred = session.open()
    assert session.labels is None and session.labels_of(inferred) is None  # made-up input: no truth
    result = session.first_rows()
    assert result is not None and result.input_origin == "first 4 rows of dataset()"
    assert session.loaded is not None
    x_train, y_train, _, _ = session.loaded.namespace["dataset"]()
    labels = session.labels_of(result)
    assert labels is not None and labels.tolist() == y_train[:4].tolist() == [0, 2, 2, 1]
    assert session.labels_of(inferred) is None  # the trace before the rows is not given their labels
    with torch.no_grad():
        logits = session.loaded.model(x_train[:4]).double()
    last = final_layer(result)
    truths, predictions = [], []
    for sample in range(4):
        classes = sample_view(result, last, sample, labels=labels).classes
        assert classes is not None and classes.note == "" and classes.names == ()
        assert classes.probabilities == pytest.approx(torch.softmax(logits[sample], 0).tolist(), abs=1e-6)
        truths.append(classes.truth)
        predictions.append(classes.predicted)
    assert truths == [0, 2, 2, 1]
    assert predictions == logits.argmax(dim=1).tolist() == [2, 2, 2, 2]  # untrained: right on samples 2 and 3 only
    assert sample_view(result, last, 0).classes.truth is None  # type: ignore[union-attr]  # no labels handed over


def test_a_new_batch_has_the_labels_of_its_rows_and_a_retrace_keeps_them() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "simple.py")))
    first = session.open()
    drawn = session.new_batch()
    assert drawn.input_origin == "dataset() batch 1"
    assert session.loaded is not None
    _, y_train, _, _ = session.loaded.namespace["dataset"]()
    picks = torch.randint(0, len(y_train), (4,), generator=torch.Generator().manual_seed(1))
    labels = session.labels_of(drawn)
    assert labels is not None and labels.tolist() == y_train[picks].tolist()
    again = session.retrace()
    assert session.labels_of(again) is labels and session.labels_of(first) is None
    reloaded = session.open()
    assert session.labels is None and session.labels_of(reloaded) is None


def test_one_sigmoid_output_reads_p_against_one_half(tmp_path: Path) -> None:
    session = _one_output(tmp_path, sigmoid=True)
    result, labels = session.result, session.labels
    assert result is not None and labels is not None
    views = [sample_view(result, final_layer(result), s, labels=labels) for s in range(4)]
    got = [v.classes for v in views]
    assert all(c is not None and c.threshold == 0.5 for c in got)
    assert [c.logits[0] for c in got] == pytest.approx([_sigmoid(z) for z in Z])  # type: ignore[union-attr]
    assert [c.probabilities[1] for c in got] == pytest.approx([_sigmoid(z) for z in Z])  # type: ignore[union-attr]
    assert [c.predicted for c in got] == [1, 1, 0, 1]  # type: ignore[union-attr]
    assert [c.truth for c in got] == [1, 0, 0, 1]  # type: ignore[union-attr]  # sample 2 is wrong


def test_one_logit_reads_against_zero_when_the_labels_are_binary(tmp_path: Path) -> None:
    session = _one_output(tmp_path, sigmoid=False)
    result = session.result
    assert result is not None
    got = [sample_view(result, final_layer(result), s, labels=session.labels).classes for s in range(4)]
    assert all(c is not None and c.threshold == 0.0 for c in got)
    assert [c.logits[0] for c in got] == pytest.approx(Z)  # type: ignore[union-attr]
    assert [c.probabilities[1] for c in got] == pytest.approx([_sigmoid(z) for z in Z])  # type: ignore[union-attr]
    assert [c.predicted for c in got] == [1, 1, 0, 1]  # type: ignore[union-attr]
    # Without labels a lone unbounded number could be a regression: only named classes make it a class.
    assert sample_view(result, final_layer(result), 0).classes is None
    named = sample_view(result, final_layer(result), 1, names=["cat", "dog"]).classes
    assert named is not None and named.name(named.predicted) == "1 dog"


def test_one_output_with_labels_that_are_not_classes_is_a_regression(tmp_path: Path) -> None:
    session = _one_output(tmp_path, sigmoid=False, labels="torch.tensor([[3.5], [0.2], [7.0], [1.0]])")
    result = session.result
    assert result is not None and session.labels is not None
    assert sample_view(result, final_layer(result), 0, labels=session.labels).classes is None


def test_class_names_from_the_file_and_malformed_ones_give_a_note() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "simple.py")))
    session.open()
    result = session.first_rows()
    assert result is not None
    last, labels = final_layer(result), session.labels
    named = sample_view(result, last, 0, labels=labels, names=["red", "green", "blue"]).classes
    assert named is not None and named.names == ("red", "green", "blue") and named.note == ""
    assert (named.name(named.truth), named.name(named.predicted)) == ("0 red", "2 blue")  # type: ignore[arg-type]
    cases = {
        ("red", "green"): "classes ignored: it names 2 classes, the output has 3",
        "rgb": "classes ignored: a list of strings names the classes, not str 'rgb'",
        (1, 2, 3): "classes ignored: a list of strings names the classes, not tuple (1, 2, 3)",
    }
    for names, note in cases.items():
        classes = sample_view(result, last, 0, labels=labels, names=names).classes
        assert classes is not None and classes.names == () and classes.note == note
        assert (classes.truth, classes.predicted) == (0, 2)  # the rest of the reading stands


def test_labels_that_are_not_class_ids_give_a_note_and_one_hot_rows_are_read() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "simple.py")))
    result = session.open()
    last = final_layer(result)

    def read(labels: torch.Tensor) -> tuple[int | None, str]:
        classes = sample_view(result, last, 1, labels=labels).classes
        assert classes is not None
        return classes.truth, classes.note

    assert read(torch.tensor([0, 7, 1, 1])) == (None, "label 7 is not one of the classes 0..2")
    assert read(torch.tensor([0.0, 1.5, 1.0, 1.0])) == (None, "label 1.5 is not a class id")
    assert read(torch.eye(3)[[0, 2, 1, 1]]) == (2, "")
    assert read(torch.tensor([[0.2, 0.3], [0.5, 0.5], [1, 0], [0, 1]])) == (
        None,
        "a label of 2 values is not a class id",
    )
    assert read(torch.tensor([0, 1, 2])) == (None, "")  # three labels for a batch of four: not this batch's


def test_tiny_gpt_head_is_read_at_the_chosen_position_with_the_next_token_as_truth() -> None:
    session = ModelSession(SessionOptions(str(MODELS / "tiny_gpt.py")))
    session.open()
    result = session.new_batch()
    labels = session.labels_of(result)
    assert labels is not None and labels.shape == (4, 16)
    head = result.layer("head")
    assert final_layer(result) == head.index
    assert session.example is not None
    ids = session.example.args[0]  # the token ids traced
    logits = result.captured[head.index][0].double()
    for position, shown in ((0, 0), (5, 5), (14, 14), (15, 15), (99, 15)):
        view = sample_view(result, head.index, 2, position, labels=labels)
        assert (view.position, view.positions, view.note) == (shown, 16, f"position {shown} of 16")
        assert view.values == pytest.approx(logits[2, shown].tolist())
        classes = view.classes
        assert classes is not None
        assert classes.probabilities == pytest.approx(torch.softmax(logits[2, shown], 0).tolist())
        assert classes.predicted == int(logits[2, shown].argmax())
        assert classes.truth == int(labels[2, shown])
        if shown < 15:  # counting sequences: the target at p is the input at p + 1
            assert classes.truth == int(ids[2, shown + 1])
    inner = result.layer("blocks.0.fc")  # any sequence layer moves along the same positions
    view = sample_view(result, inner.index, 1, 7)
    assert (view.position, view.note, view.classes) == (7, "position 7 of 16", None)
    assert view.values == pytest.approx(result.captured[inner.index][0][1, 7].tolist())


def test_layers_without_positions_ignore_the_position() -> None:
    result = ModelSession(SessionOptions(str(MODELS / "simple.py"))).open()
    view = sample_view(result, result.layer("fc1").index, 0, 7)
    assert (view.position, view.positions, view.note) == (0, 0, "")
