"""What a trainer is built from besides the model and data: the device, the loss and the optimizer.

Each honours the model file first (its ``loss``, its ``optimizer(params)``), then the settings, then
nnview's defaults (the seed's Adam at 0.01; a loss inferred from the targets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from tui.core.load.validate import LOSSES, OPTIMIZERS
from tui.core.records import ErrorRecord, NnviewError
from tui.core.train.loss_fit import named_loss

if TYPE_CHECKING:
    from tui.core.load.datasets import TrainingData
    from tui.core.train.trainer import TrainConfig

FLOAT16_ADAM_EPS = 1e-4


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; a named device that is missing is refused.

    Raises:
        NnviewError: kind ``input`` for an unknown name or a device this machine does not have.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if name not in available:
        raise NnviewError(
            ErrorRecord(kind="input", message=f"unknown device {name!r}", hint="use cpu, cuda, mps or auto")
        )
    if not available[name]:
        raise NnviewError(
            ErrorRecord(kind="input", message=f"--device {name} is not available here", hint="use --device auto or cpu")
        )
    return torch.device(name)


def loss_function(config: TrainConfig, data: TrainingData, namespace: dict[str, Any]) -> tuple[Callable[..., Any], str]:
    """The file's ``loss`` if it has one, else ``config.loss``, else inferred from the targets.

    Returns:
        The loss callable and the name nnview shows for it.

    Raises:
        NnviewError: kind ``input`` for a loss name nnview does not know.
    """
    given = namespace.get("loss")
    if config.loss is None and given is not None and callable(given):
        return given, type(given).__name__ if isinstance(given, nn.Module) else "loss() in the file"
    name = config.loss or ("cross_entropy" if data.classes is not None else "mse")
    if name not in LOSSES:
        raise NnviewError(
            ErrorRecord(kind="input", message=f"unknown loss {name!r}", hint=f"use one of {', '.join(LOSSES)}")
        )
    return named_loss(name), name


def make_optimizer(config: TrainConfig, params: Any, namespace: dict[str, Any]) -> torch.optim.Optimizer:
    """The file's ``optimizer(params)`` unless the settings name one or a learning rate, else theirs.

    Raises:
        NnviewError: kind ``input`` for an optimizer name nnview does not know.
    """
    make = namespace.get("optimizer")
    if callable(make) and config.optimizer is None and config.lr is None:
        optimizer: torch.optim.Optimizer = make(params)
        return optimizer
    kinds: dict[str, Any] = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }
    name = config.optimizer or "adam"
    if name not in kinds:
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"unknown optimizer {name!r}",
                hint=f"use one of {', '.join(OPTIMIZERS)}",
            )
        )
    params = list(params)
    extra: dict[str, float] = {}
    if name != "sgd" and any(p.dtype == torch.float16 for p in params):
        # Adam's eps of 1e-8 is 0 in float16: a weight whose gradient is 0 (a dead ReLU unit) gets
        # 0/0 = NaN at step 2. 1e-4 is the usual eps for float16 weights.
        extra["eps"] = FLOAT16_ADAM_EPS
    made: torch.optim.Optimizer = kinds[name](
        params, lr=0.01 if config.lr is None else config.lr, weight_decay=config.weight_decay, **extra
    )
    return made


def accuracy_counts(
    output: torch.Tensor, target: torch.Tensor, loss_fn: Callable[..., Any], loss_name: str
) -> tuple[int, int] | None:
    """(correct, total) for classification-like targets; ``None`` for regression."""
    if not target.is_floating_point() and output.dim() == target.dim() + 1:
        if output.shape[-1] == 1:  # one logit per sample on 0/1 labels (--loss bce): argmax is always 0
            if loss_name != "bce" and not isinstance(loss_fn, (nn.BCELoss, nn.BCEWithLogitsLoss)):
                return None  # a regression on whole numbers (--loss mse) has no accuracy
            threshold = 0.5 if isinstance(loss_fn, nn.BCELoss) else 0.0
            predicted = (output.squeeze(-1) > threshold).long()
        elif output.shape[:1] + output.shape[2:] == target.shape:  # (N, C, ...) like CrossEntropyLoss
            predicted = output.argmax(dim=1)
        elif output.shape[:-1] == target.shape:  # classes last: (N, L, C) for a loss of the file's own
            predicted = output.argmax(dim=-1)
        else:
            return None
        return int((predicted == target).sum()), target.numel()
    if target.is_floating_point() and output.shape == target.shape and bool(((target == 0) | (target == 1)).all()):
        threshold = 0.5 if isinstance(loss_fn, nn.BCELoss) else 0.0  # probabilities vs logits
        return int(((output > threshold).float() == target).sum()), target.numel()
    return None
