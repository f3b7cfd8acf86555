"""Training data: the model file's ``dataset()``, a built-in set by name, or a CSV file.

Every source becomes a :class:`TrainingData` of four tensors. Nothing is downloaded: the built-in
sets are generated (scikit-learn's ``make_*``) or shipped with scikit-learn (``load_digits``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tui.core.load.csv_data import read_csv
from tui.core.load.validate import BUILT_IN as BUILT_IN  # re-exported: its old home
from tui.core.records import ErrorRecord, NnviewError

SPLITS = ("x_train", "y_train", "x_val", "y_val")


@dataclass(frozen=True)
class TrainingData:
    """Train and validation tensors, and what kind of target they hold.

    Attributes:
        x_train, y_train, x_val, y_val: the tensors (first dimension = samples).
        classes: the number of classes for integer labels, else ``None`` (regression / float targets).
        source: where the data came from, for people.
        lines: for a CSV file, the file line of each training and validation sample (for messages).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int | None
    source: str
    lines: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    @property
    def features(self) -> tuple[int, ...]:
        """The shape of one input sample."""
        return tuple(self.x_train.shape[1:])


def _input_error(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _split(x: Any, y: Any, source: str, seed: int = 0, lines: Sequence[int] | None = None) -> TrainingData:
    """An 80/20 split with a fixed seed; integer labels become ``long`` class ids."""
    x_t = torch.as_tensor(x, dtype=torch.float32)
    y_t = torch.as_tensor(y)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x_t), generator=generator)
    cut = int(len(x_t) * 0.8)
    train, val = order[:cut], order[cut:]
    data = _as_training(x_t[train], y_t[train], x_t[val], y_t[val], source)
    if lines is None:
        return data
    kept = (tuple(lines[i] for i in train.tolist()), tuple(lines[i] for i in val.tolist()))
    return TrainingData(data.x_train, data.y_train, data.x_val, data.y_val, data.classes, source, kept)


def _tensor(value: Any, name: str, source: str) -> torch.Tensor:
    """One of the four values as a numeric tensor, or an error naming it and what it holds."""
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        inner = value[0] if isinstance(value, (list, tuple)) and value else None
        holds = f" of {type(inner).__name__}" if inner is not None else ""
        raise _input_error(
            f"{source}: {name} is a {type(value).__name__}{holds}, not numbers ({exc})",
            "return tensors or NumPy arrays of numbers (encode text labels as class ids 0..C-1)",
        ) from exc
    if tensor.is_complex() or not (tensor.is_floating_point() or tensor.dtype in _WHOLE):
        raise _input_error(
            f"{source}: {name} holds {str(tensor.dtype).removeprefix('torch.')} values",
            "return real numbers: float features, integer class ids or float targets",
        )
    if tensor.dim() == 0 or len(tensor) == 0:
        what = "a single number" if tensor.dim() == 0 else "empty"
        raise _input_error(f"{source}: {name} is {what}", "give every split at least one sample (first dimension)")
    return tensor


_WHOLE = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _rows(mask: torch.Tensor) -> str:
    rows = mask.reshape(len(mask), -1).any(dim=1).nonzero().flatten().tolist()
    more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
    return f"row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows[:5]))}{more}"


def _as_training(x_train: Any, y_train: Any, x_val: Any, y_val: Any, source: str) -> TrainingData:
    """Check the four values (numbers, matching lengths, finite) and decide the kind of target."""
    tensors = [_tensor(t, name, source) for t, name in zip((x_train, y_train, x_val, y_val), SPLITS, strict=True)]
    x_train, y_train, x_val, y_val = tensors
    if len(x_train) != len(y_train) or len(x_val) != len(y_val):
        raise _input_error(
            f"{source}: {len(x_train)} training inputs but {len(y_train)} labels "
            f"(validation: {len(x_val)} and {len(y_val)})",
            "give every input sample exactly one target",
        )
    for tensor, name in zip(tensors, SPLITS, strict=True):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _input_error(
                f"{source}: {name} has NaN or infinite values at {_rows(~torch.isfinite(tensor))}",
                "fill in or drop those samples before training: one NaN makes every weight NaN",
            )
    if x_train.shape[1:] != x_val.shape[1:]:
        raise _input_error(
            f"{source}: training samples have shape {tuple(x_train.shape[1:])} but validation samples "
            f"{tuple(x_val.shape[1:])}",
            "give both splits samples of the same shape",
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


def _from_csv(path: Path, target_column: str | None) -> TrainingData:
    table = read_csv(path, target_column)
    return _split(table.x, table.y, f"{path.name} (target {table.column})", lines=table.lines)


def load_training_data(
    data: str | None, target_column: str | None, namespace: dict[str, Any], user_files: tuple[str, ...] = ()
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
        from tui.core.guest.usercode import run_user_code

        value, _ = run_user_code(make, "calling dataset()", user_files, None, "dataset")
        return _from_dataset_function(value, user_files)
    if data in BUILT_IN:
        return _built_in(data)
    path = Path(data)
    if path.suffix.lower() == ".csv" and path.is_file():
        return _from_csv(path, target_column)
    raise _input_error(
        f"--data {data!r} is neither a built-in dataset nor an existing .csv file",
        f"use one of {', '.join(BUILT_IN)}, or a CSV path with --target COLUMN",
    )


def _from_dataset_function(value: Any, user_files: tuple[str, ...]) -> TrainingData:
    """What the file's ``dataset()`` returned: four tensors, or (train, validation) Datasets."""
    source = "dataset() in the model file"
    wanted = "return (x_train, y_train, x_val, y_val) as tensors or arrays, or (train, validation) torch Datasets"
    if not isinstance(value, (tuple, list)) or isinstance(value, str):
        raise _input_error(f"dataset() returned a {type(value).__name__}; nnview needs 4 values or 2 Datasets", wanted)
    if len(value) == 4:
        x_train, y_train, x_val, y_val = value
        return _as_training(x_train, y_train, x_val, y_val, source)
    if len(value) == 2 and all(hasattr(part, "__getitem__") and hasattr(part, "__len__") for part in value):
        if not any(isinstance(part, (torch.Tensor, list, tuple, str)) or hasattr(part, "dtype") for part in value):
            return _from_datasets(value[0], value[1], user_files)
        raise _input_error(
            "dataset() returned 2 arrays (x and y?); nnview needs separate training and validation splits",
            "return x[:n], y[:n], x[n:], y[n:] (four values), or two torch Datasets",
        )
    raise _input_error(f"dataset() returned {len(value)} values; nnview needs 4 (or 2 Datasets)", wanted)


def _from_datasets(train: Any, val: Any, user_files: tuple[str, ...] = ()) -> TrainingData:
    """Stack two map-style torch Datasets of (input, target) pairs into tensors."""
    from tui.core.guest.usercode import run_user_code

    def stack(dataset: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [dataset[i] for i in range(len(dataset))]
        if not pairs or any(not isinstance(p, (tuple, list)) or len(p) != 2 for p in pairs):
            raise _input_error(
                f"the {name} Dataset from dataset() is empty or its items are not (input, target) pairs",
                "make __getitem__ return (x, y), and give each split at least one item",
            )
        try:
            x = torch.stack([torch.as_tensor(p[0]) for p in pairs])
            y = torch.stack([torch.as_tensor(p[1]) for p in pairs])
        except (TypeError, ValueError, RuntimeError) as exc:
            raise _input_error(
                f"the {name} Dataset from dataset() has items that do not stack into tensors: {exc}",
                "return numbers of the same shape from every item (x as a tensor, y as a number or tensor)",
            ) from exc
        return x, y

    doing = "reading the Datasets dataset() returned"  # their __getitem__ is the user's code
    (x_train, y_train), _ = run_user_code(lambda: stack(train, "training"), doing, user_files, None, "dataset")
    (x_val, y_val), _ = run_user_code(lambda: stack(val, "validation"), doing, user_files, None, "dataset")
    return _as_training(x_train, y_train, x_val, y_val, "dataset() in the model file (Datasets)")
