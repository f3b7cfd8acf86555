"""The rules every number and name the user gives must meet, checked before any work starts.

One place for ``nnview summary``, ``nnview train``, the explorer's arguments, a model file's
``hyperparameters`` dict and the explorer's ``e`` form, so the same value is refused the same way
wherever it is typed. No torch here: the command line checks its arguments before the seconds
``import torch`` takes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.records import ErrorRecord, NnviewError

BUILT_IN = ("xor", "moons", "circles", "spiral", "blobs", "classification", "digits")
OPTIMIZERS = ("sgd", "adam", "adamw")
LOSSES = ("cross_entropy", "bce", "mse")


@dataclass(frozen=True)
class Rule:
    """What one numeric setting must be: whole or real, and its lowest allowed value."""

    whole: bool
    minimum: float
    above: bool  # strictly above ``minimum`` (a learning rate of 0 trains nothing)
    meaning: str
    example: str

    @property
    def requirement(self) -> str:
        """``"a whole number of at least 1"`` or ``"a finite number above 0"``."""
        kind = "a whole number" if self.whole else "a finite number"
        bound = f"{self.minimum:g}"
        return f"{kind} above {bound}" if self.above else f"{kind} of at least {bound}"


RULES: dict[str, Rule] = {
    "lr": Rule(False, 0, True, "the learning rate", "0.01"),
    "weight_decay": Rule(False, 0, False, "the weight decay", "0.0001"),
    "epochs": Rule(True, 1, False, "the number of epochs", "20"),
    "batch_size": Rule(True, 1, False, "the batch size", "32"),
    "threads": Rule(True, 1, False, "the number of CPU threads", "1"),
    "seed": Rule(True, 0, False, "the seed", "0"),
    "batch": Rule(True, 1, False, "the batch size", "4"),
    "depth": Rule(True, 0, False, "the depth", "2"),
    "budget_mb": Rule(False, 0, False, "the memory budget in MiB", "256"),
    "timeout": Rule(False, 0, True, "the time limit in seconds", "60"),
}
# torch seeds are unsigned 64-bit; anything past that fails inside torch.manual_seed.
_LARGEST = {"seed": 2**64 - 1}
_CHOICES: dict[str, tuple[str, ...]] = {"optimizer": OPTIMIZERS, "loss": LOSSES}


def _error(message: str, hint: str) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint))


def _problem(name: str, value: float) -> str | None:
    """Why ``value`` breaks ``name``'s rule, or ``None`` when it is fine."""
    rule = RULES[name]
    if not math.isfinite(value):
        return f"{rule.meaning} must be {rule.requirement}, not {value}"
    if value < rule.minimum or (rule.above and value == rule.minimum):
        return f"{rule.meaning} must be {rule.requirement}"
    if value > _LARGEST.get(name, math.inf):
        return f"{rule.meaning} must be at most {_LARGEST[name]}"
    return None


def _from_text(name: str, text: str) -> tuple[int | float | None, str | None]:
    """A number from what was typed, or the reason it is not one."""
    rule = RULES[name]
    try:
        number: int | float = int(text.strip()) if rule.whole else float(text.strip())
    except ValueError:
        return None, f"{rule.meaning} must be {rule.requirement}"
    return number, _problem(name, number)


def parse_argument(name: str, text: str, flag: str) -> int | float:
    """A command-line value (``--lr 0.01``) checked against ``RULES[name]``.

    Raises:
        NnviewError: kind ``input``, naming the flag, the value, the rule and an example.
    """
    number, problem = _from_text(name, text)
    if problem is not None or number is None:
        raise _error(f"{flag} {text}: {problem}", f"pass e.g. {flag} {RULES[name].example}")
    return number


def parse_field(name: str, text: str, label: str) -> int | float:
    """A value typed in a form field, checked against ``RULES[name]``.

    Raises:
        NnviewError: kind ``input``, naming the field and the rule.
    """
    number, problem = _from_text(name, text)
    if problem is not None or number is None:
        raise _error(f"{label} {text.strip() or '(empty)'}: {problem}", f"type e.g. {RULES[name].example}")
    return number


def _setting_problem(name: str, value: Any) -> str | None:
    """Why a Python value from a model file cannot be ``name``; ``None`` when it can."""
    if name in _CHOICES:
        if value is None or value in _CHOICES[name]:
            return None
        return f"unknown {name} {value!r}; nnview knows {', '.join(_CHOICES[name])}"
    if name == "device":
        return None if isinstance(value, str) else f"the device must be a name such as 'cpu', not {value!r}"
    if value is None and name in ("lr", "threads"):
        return None  # the documented "use the default" value
    rule = RULES[name]
    if isinstance(value, str):
        return f"{rule.meaning} must be a number, not the text {value!r} (drop the quotes)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{rule.meaning} must be {rule.requirement}, not {value!r}"
    if rule.whole and not isinstance(value, int):
        return f"{rule.meaning} must be {rule.requirement}, not {value!r}"
    return _problem(name, float(value) if not isinstance(value, int) else value)


def check_hyperparameters(
    values: object, known: Sequence[str], source: str, overridden: Sequence[str] = ()
) -> dict[str, Any]:
    """A model file's ``hyperparameters`` dict, every key known and every value usable.

    Args:
        values: what the file assigned to ``hyperparameters``.
        known: the keys nnview reads (the fields of ``TrainConfig``).
        source: the model file, for the message.
        overridden: keys the command line set; their values in the file are not used, so not checked.

    Raises:
        NnviewError: kind ``input`` naming the key, the value and what it must be.
    """
    where = f"hyperparameters in {source}"
    if not isinstance(values, Mapping):
        raise _error(
            f"{where} is a {type(values).__name__}; nnview needs a dict",
            'write hyperparameters = {"epochs": 20, "batch_size": 32, "lr": 0.01}',
        )
    unknown = [str(key) for key in values if key not in known]
    if unknown:
        raise _error(
            f"{where} has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
            f"use only {', '.join(known)} (check the spelling)",
        )
    for key, value in values.items():
        problem = None if key in overridden else _setting_problem(key, value)
        if problem is not None:
            example = (
                f'"{key}": {RULES[key].example}' if key in RULES else f'"{key}": "{_CHOICES.get(key, ("cpu",))[0]}"'
            )
            raise _error(f'{where}: "{key}": {value!r}: {problem}', f"write e.g. {example}")
    return dict(values)


def check_settings(values: Mapping[str, Any], where: str) -> None:
    """Check already-typed settings (a ``TrainConfig``'s fields) for code that builds one itself.

    Raises:
        NnviewError: kind ``input`` naming the first setting that breaks its rule.
    """
    for key, value in values.items():
        if key in RULES or key in _CHOICES or key == "device":
            problem = _setting_problem(key, value)
            if problem is not None:
                raise _error(
                    f"{where}: {key} = {value!r}: {problem}",
                    f"use e.g. {key} = {RULES[key].example}"
                    if key in RULES
                    else f"use one of {', '.join(_CHOICES.get(key, ('cpu',)))}",
                )


def check_weights_argument(weights: str | None) -> None:
    """``--weights`` names an existing file (what is in it is checked when the model is built).

    Raises:
        NnviewError: kind ``load``: the path does not exist or is a folder.
    """
    if weights is None or Path(weights).is_file():
        return
    # The same kind and words as loading the weights would give, only before anything is loaded.
    if Path(weights).is_dir():
        message, hint = f"--weights {weights} is a folder", "name the .safetensors file inside it"
    else:
        message = f"weights file {weights} does not exist"
        hint = "check the --weights path (a checkpoint saved by ctrl+s or `nnview train --save`)"
    raise NnviewError(ErrorRecord(kind="load", message=message, hint=hint))


def check_data_argument(data: str | None, target_column: str | None) -> None:
    """``--data`` names a built-in set or an existing ``.csv`` file; ``--target`` goes with a CSV.

    Raises:
        NnviewError: kind ``input`` with the names nnview knows.
    """
    if data is None or data in BUILT_IN:
        if target_column is not None:
            raise _error(
                f"--target {target_column} picks a CSV column, but no CSV file was given with --data",
                "pass --data FILE.csv with --target, or leave --target out",
            )
        return
    path = Path(data)
    if path.suffix.lower() == ".csv" and path.is_file():
        return
    what = "a folder" if path.is_dir() else "neither a built-in dataset nor an existing .csv file"
    raise _error(f"--data {data!r} is {what}", f"use one of {', '.join(BUILT_IN)}, or a CSV path with --target COLUMN")
