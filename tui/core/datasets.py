"""Training data: the model file's ``dataset()``, a built-in set by name, or a CSV file.

Every source becomes a :class:`TrainingData` of four tensors. Nothing is downloaded: the built-in
sets are generated (scikit-learn's ``make_*``) or shipped with scikit-learn (``load_digits``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tui.core.records import ErrorRecord, NnviewError

BUILT_IN = ("xor", "moons", "circles", "spiral", "blobs", "classification", "digits")


@dataclass(frozen=True)
class TrainingData:
    """Train and validation tensors, and what kind of target they hold.

    Attributes:
        x_train, y_train, x_val, y_val: the tensors (first dimension = samples).
        classes: the number of classes for integer labels, else ``None`` (regression / float targets).
        source: where the data came from, for people.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int | None
    source: str

    @property
    def features(self) -> tuple[int, ...]:
        """The shape of one input sample."""
        return tuple(self.x_train.shape[1:])


def _input_error(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _split(x: Any, y: Any, source: str, seed: int = 0) -> TrainingData:
    """An 80/20 split with a fixed seed; integer labels become ``long`` class ids."""
    x_t = torch.as_tensor(x, dtype=torch.float32)
    y_t = torch.as_tensor(y)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x_t), generator=generator)
    cut = int(len(x_t) * 0.8)
    train, val = order[:cut], order[cut:]
    return _as_training(x_t[train], y_t[train], x_t[val], y_t[val], source)


def _as_training(x_train: Any, y_train: Any, x_val: Any, y_val: Any, source: str) -> TrainingData:
    tensors = [torch.as_tensor(t) for t in (x_train, y_train, x_val, y_val)]
    if any(t.dim() == 0 or len(t) == 0 for t in tensors):
        raise _input_error(f"{source} has an empty or scalar tensor", "return (x_train, y_train, x_val, y_val)")
    x_train, y_train, x_val, y_val = tensors
    if len(x_train) != len(y_train) or len(x_val) != len(y_val):
        raise _input_error(
            f"{source}: {len(x_train)} training inputs but {len(y_train)} labels "
            f"(validation: {len(x_val)} and {len(y_val)})",
            "give every input sample exactly one target",
        )
    if x_train.is_floating_point() is False and x_train.dtype != torch.long:
        x_train, x_val = x_train.float(), x_val.float()
    classes = None
    if not y_train.is_floating_point() and y_train.dim() == 1:
        y_train, y_val = y_train.long(), y_val.long()
        classes = int(max(int(y_train.max()), int(y_val.max()))) + 1
    return TrainingData(x_train, y_train, x_val, y_val, classes, source)


def _spiral(samples: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    per = samples // 2
    t = torch.linspace(0.25, 3 * torch.pi, per)
    arms = []
    for label, turn in ((0, 0.0), (1, torch.pi)):
        r = t / (3 * torch.pi)
        points = torch.stack([r * torch.cos(t + turn), r * torch.sin(t + turn)], 1)
        arms.append((points + 0.03 * torch.randn(per, 2, generator=generator), torch.full((per,), label)))
    return torch.cat([a[0] for a in arms]), torch.cat([a[1] for a in arms])


def _built_in(name: str) -> TrainingData:
    from sklearn import datasets as sk

    makers: dict[str, Callable[[], tuple[Any, Any]]] = {
        "xor": lambda: (
            torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
            torch.tensor([0, 1, 1, 0]),
        ),
        "moons": lambda: sk.make_moons(n_samples=600, noise=0.15, random_state=0),
        "circles": lambda: sk.make_circles(n_samples=600, noise=0.08, factor=0.5, random_state=0),
        "spiral": _spiral,
        "blobs": lambda: sk.make_blobs(n_samples=600, centers=3, n_features=2, random_state=0),
        "classification": lambda: sk.make_classification(
            n_samples=1000, n_features=5, n_classes=3, n_informative=3, random_state=42
        ),
        "digits": lambda: (sk.load_digits().data / 16.0, sk.load_digits().target),
    }
    x, y = makers[name]()
    if name == "xor":  # four points: train and validate on all of them
        return _as_training(x, y, x, y, "xor")
    return _split(x, y, name)


def _from_csv(path: Path, target: str | None) -> TrainingData:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 3:
        raise _input_error(f"{path} has {len(rows)} lines; it needs a header and at least two rows", "check the file")
    header, body = rows[0], rows[1:]
    column = target if target is not None else header[-1]
    if column not in header:
        raise _input_error(f"{path} has no column {column!r} (columns: {', '.join(header)})", "pick one with --target")
    index = header.index(column)
    try:
        x = [[float(v) for i, v in enumerate(row) if i != index] for row in body]
    except ValueError as exc:
        raise _input_error(f"{path}: a feature is not a number ({exc})", "use numeric feature columns only") from exc
    labels = [row[index] for row in body]
    try:
        values = [float(v) for v in labels]
        y: Any = torch.tensor(values)
        if all(v.is_integer() for v in values):
            y = y.long()
    except ValueError:
        names = sorted(set(labels))  # text labels become class ids in sorted order
        y = torch.tensor([names.index(v) for v in labels])
    return _split(x, y, f"{path.name} (target {column})")


def load_training_data(
    data: str | None, target: str | None, namespace: dict[str, Any], user_files: tuple[str, ...] = ()
) -> TrainingData:
    """Resolve ``--data``: a built-in name, a CSV path, or (when ``None``) the model file's ``dataset()``.

    Raises:
        NnviewError: kind ``input`` when nothing usable is found, with what to pass instead.
    """
    if data is None:
        make = namespace.get("dataset")
        if not callable(make):
            raise _input_error(
                "the model file has no dataset() and no --data was given",
                f"pass --data with one of {', '.join(BUILT_IN)} or a CSV file, or define dataset() in the file",
            )
        from tui.core.usercode import run_user_code

        value, _ = run_user_code(make, "calling dataset()", user_files, None, "dataset")
        if isinstance(value, (tuple, list)) and len(value) == 4:
            x_train, y_train, x_val, y_val = value
            return _as_training(x_train, y_train, x_val, y_val, "dataset() in the model file")
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return _from_datasets(value[0], value[1])
        raise _input_error(
            f"dataset() returned {type(value).__name__}; nnview needs (x_train, y_train, x_val, y_val)",
            "return four tensors, or (train, validation) torch Datasets",
        )
    if data in BUILT_IN:
        return _built_in(data)
    path = Path(data)
    if path.suffix.lower() == ".csv" and path.is_file():
        return _from_csv(path, target)
    raise _input_error(
        f"--data {data!r} is neither a built-in dataset nor an existing .csv file",
        f"use one of {', '.join(BUILT_IN)}, or a CSV path with --target COLUMN",
    )


def _from_datasets(train: Any, val: Any) -> TrainingData:
    """Stack two map-style torch Datasets of (input, target) pairs into tensors."""

    def stack(dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [dataset[i] for i in range(len(dataset))]
        return torch.stack([torch.as_tensor(p[0]) for p in pairs]), torch.stack([torch.as_tensor(p[1]) for p in pairs])

    (x_train, y_train), (x_val, y_val) = stack(train), stack(val)
    return _as_training(x_train, y_train, x_val, y_val, "dataset() in the model file (Datasets)")
