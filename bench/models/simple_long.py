"""models/simple.py set to train for a million epochs: the terminal benchmarks' training window never ends early.

At ~3,000 steps/s, the file's own 100 epochs (2,500 steps) finish in under a second, and a window of
"bytes while training" would mostly measure the screen after training.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

import simple


class SimpleNN(simple.SimpleNN):
    """The same model (nnview picks a class defined in the file it opens)."""


dataset = simple.dataset

hyperparameters = {"epochs": 1_000_000, "batch_size": 32, "lr": 0.01}
