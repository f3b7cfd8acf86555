"""The decision boundary agrees with the model and with the validation accuracy the trainer reports."""

from __future__ import annotations

import torch
from torch import nn

from tui.core.load.datasets import load_training_data
from tui.core.train.boundary import decision_boundary, has_plane_inputs
from tui.core.train.loop import training_updates
from tui.core.train.trainer import TrainConfig, Trainer


def test_boundary_of_a_trained_moons_classifier_matches_its_validation_accuracy() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    data = load_training_data("moons", None, {})
    assert has_plane_inputs(data)
    trainer = Trainer(model, data, TrainConfig(epochs=30, lr=0.05))
    last = [u.epoch_record for u in training_updates(trainer) if u.epoch_record is not None][-1]
    model.train()
    boundary = decision_boundary(model, data, steps=20)
    assert model.training  # mode restored
    assert len(boundary.points) == 400 and len(boundary.samples) == len(data.x_val)
    assert boundary.accuracy == last.val_accuracy
    assert boundary.accuracy >= 0.95
    assert {c for _, _, c in boundary.points} == {0, 1}  # both classes have a region


def test_a_linear_boundary_is_exactly_where_the_logits_cross() -> None:
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model.bias.zero_()
    data = load_training_data("blobs", None, {})
    for x, _, predicted in decision_boundary(model, data, steps=15).points:
        assert predicted == (0 if x > 0 else 1) or x == 0
    assert not has_plane_inputs(load_training_data("digits", None, {}))
