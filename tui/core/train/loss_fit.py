"""The loss against the targets and the model's output, checked before the first training step.

Torch reports a loss that cannot take its targets at step 1, in its own words ("Using a target size
(torch.Size([4])) that is different to the input size"), or not at all: MSE broadcasts a (N, 1)
output against (N,) targets into an (N, N) loss with only a warning. Here the loss runs once on a
sample batch and every mismatch is named with what to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from tui.core.guest.usercode import describe_exception
from tui.core.load.datasets import TrainingData
from tui.core.records import ErrorRecord, NnviewError, TensorSpec


class TargetAdapter(nn.Module):
    """A built-in loss that takes the targets as nnview's data holds them.

    A single output per sample (N, 1) meets targets of shape (N,): the targets get the trailing 1
    instead of being broadcast. MSE and BCE targets take the output's dtype (integer 0/1 labels
    train a single-logit classifier with ``--loss bce``).
    """

    def __init__(self, loss: nn.Module, float_targets: bool) -> None:
        super().__init__()
        self.loss = loss
        self.float_targets = float_targets

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The wrapped loss on ``output`` and the adapted ``target``."""
        if output.dim() == target.dim() + 1 and output.shape[-1] == 1:
            target = target.unsqueeze(-1)
        if self.float_targets and output.is_floating_point():
            target = target.to(output.dtype)
        result: torch.Tensor = self.loss(output, target)
        return result


def named_loss(name: str) -> Callable[..., Any]:
    """``cross_entropy`` / ``bce`` / ``mse`` as nnview trains them (raw logits in, adapted targets)."""
    if name == "cross_entropy":
        return nn.CrossEntropyLoss()  # takes raw logits: it applies log-softmax itself
    if name == "bce":
        return TargetAdapter(nn.BCEWithLogitsLoss(), float_targets=True)  # applies the sigmoid itself
    return TargetAdapter(nn.MSELoss(), float_targets=True)


def _shape(tensor: torch.Tensor) -> str:
    """The shape with the batch dimension written N: ``(N, 1)``, ``(N,)``."""
    rest = tuple(tensor.shape[1:])
    return "(N, " + ", ".join(map(str, rest)) + ")" if rest else "(N,)"


def _per_sample(tensor: torch.Tensor) -> str:
    """``1 value`` / ``3 values`` / ``shape (N, 4, 4)``: what one sample holds."""
    rest = tuple(tensor.shape[1:])
    if len(rest) <= 1:
        count = rest[0] if rest else 1
        return f"{count} value{'s' if count != 1 else ''} per sample"
    return f"shape {_shape(tensor)}"


def _rows(mask: torch.Tensor, name: str) -> str:
    """``y_train rows 3, 17 (and 5 more)`` for the samples where ``mask`` is true."""
    rows = mask.reshape(len(mask), -1).any(dim=1).nonzero().flatten().tolist()
    more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
    return f"{name} row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows[:5]))}{more}"


def _error(message: str, hint: str, expected: str | None = None) -> NnviewError:
    return NnviewError(ErrorRecord(kind="input", message=message, hint=hint, expected=expected))


INFERRED_CROSS_ENTROPY = (
    " (cross-entropy was inferred because the labels are whole numbers; for regression pass --loss mse)"
)


def check_labels(data: TrainingData, width: int, inferred: bool = False) -> None:
    """Cross-entropy's class ids must lie in 0..width-1, in both splits.

    Raises:
        NnviewError: naming every value out of range and where it is: the lines of a CSV file,
            else the rows of ``y_train`` and ``y_val``.
    """
    values: set[int] = set()
    lines: list[int] = []
    places: list[str] = []
    for split, (name, labels) in enumerate((("y_train", data.y_train), ("y_val", data.y_val))):
        if labels.is_floating_point() or labels.numel() == 0:
            continue
        bad = (labels < 0) | (labels >= width)
        if not bool(bad.any()):
            continue
        values |= {int(v) for v in labels[bad].flatten()[:1000].tolist()}
        if data.lines is not None and labels.dim() == 1:
            lines += [data.lines[split][i] for i in bad.nonzero().flatten().tolist()]
        else:
            places.append(_rows(bad, name))
    if not values:
        return
    if lines:
        lines.sort()
        more = f" (and {len(lines) - 5} more)" if len(lines) > 5 else ""
        places.append(f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:5]))}{more}")
    shown = sorted(values)
    raise _error(
        f"cross-entropy needs class ids 0..{width - 1} (the model outputs {width} values per sample), "
        f"but {data.source} has {', '.join(map(str, shown[:5]))} at {'; '.join(places)}",
        "number the classes from 0 (e.g. map -1/1 to 0/1), or make the last layer output one value per class"
        + (INFERRED_CROSS_ENTROPY if inferred else ""),
        expected=f"labels in 0..{width - 1}",
    )


# Torch losses that compare output and target element by element: they need the same shape.
ELEMENTWISE = (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss)


def check_loss(
    loss_fn: Callable[..., Any],
    loss_name: str,
    inferred: bool,
    output: torch.Tensor,
    target: torch.Tensor,
    data: TrainingData,
) -> None:
    """Run the loss once on a sample batch; refuse what would fail or silently broadcast at step 1.

    Args:
        loss_fn: the loss the trainer will use.
        loss_name: ``cross_entropy``, ``bce``, ``mse`` or the name of the file's loss.
        inferred: whether nnview picked the loss from the targets (no ``--loss``, no file loss).
        output: the model's output on the sample batch.
        target: the sample batch's targets.
        data: the training data, for its source and classes.

    Raises:
        NnviewError: kind ``input`` saying which of the model, the targets or the loss to change.
    """
    outputs = f"shape {_shape(output)}"
    targets = f"{str(target.dtype).removeprefix('torch.')} targets of shape {_shape(target)}"
    if data.classes is not None and not target.is_floating_point():
        targets += f" (class ids 0..{data.classes - 1})"
    if loss_name == "cross_entropy" and not target.is_floating_point() and output.dim() >= 2:
        check_labels(data, int(output.shape[1]), inferred)
    if loss_name == "bce" and data.classes is not None and data.classes > 2:
        raise _error(
            f"--loss bce needs 0/1 targets, but {data.source} has {data.classes} classes",
            f"use --loss cross_entropy with a last layer of {data.classes} outputs",
        )
    named = loss_name in ("mse", "bce")
    if named or isinstance(loss_fn, ELEMENTWISE):
        adapted = (
            target.unsqueeze(-1) if named and output.dim() == target.dim() + 1 and output.shape[-1] == 1 else target
        )
        if adapted.shape != output.shape:
            label = loss_name.upper() if named else loss_name
            why = (
                "was inferred because the targets are float"
                if inferred
                else (f"was chosen (--loss {loss_name})" if named else "is the model file's loss")
            )
            raise _error(
                f"{label} {why}; it needs the model's output and the targets in the same shape, but the model "
                f"outputs {outputs} and {data.source} has {targets}",
                _fix(output, target, data.classes),
            )
    try:
        loss = loss_fn(output, target)
    except Exception as exc:  # the user's loss or torch's: either way, name the shapes and the fix
        raise _error(
            f"the loss ({loss_name}) cannot take the model's output of {outputs} with the {targets} of "
            f"{data.source}: {describe_exception(exc)}",
            _fix(output, target, data.classes),
        ) from exc
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise _error(
            f"the loss ({loss_name}) returned {got}, not a single number",
            "return a scalar tensor from the loss (e.g. reduction='mean')",
        )


def _fix(output: torch.Tensor, target: torch.Tensor, classes: int | None) -> str:
    """What to change so that the loss can take the model's output and the targets."""
    width = int(output.shape[-1]) if output.dim() >= 2 else 1
    if classes is not None and width != classes:
        fix = (
            f"the data has {classes} classes: make the last layer output {classes} values and use --loss cross_entropy"
        )
        if classes == 2 and width == 1:
            fix += ", or keep one output and use --loss bce with 0/1 targets"
        return fix
    if classes is not None:
        return "use --loss cross_entropy (class ids with raw logits), or a loss that takes integer labels"
    whole = target.is_floating_point() and bool((target == target.round()).all())
    if whole and target.dim() == 1 and width > 1:
        return (
            f"for a classifier give integer labels 0..{width - 1} (e.g. y.long()) and pass --loss cross_entropy; "
            "for regression make the last layer output 1 value"
        )
    return f"make the model output {_per_sample(target)}, or pick another loss with --loss"


def check_loss_on_sample(
    model: nn.Module,
    sample: torch.Tensor,
    target: torch.Tensor,
    loss: tuple[Callable[..., Any], str, bool],
    data: TrainingData,
) -> None:
    """One forward pass on ``sample`` (eval mode, no gradients), then :func:`check_loss` on its output.

    Args:
        model: the model about to be trained.
        sample: a few training inputs, on the model's device.
        target: their targets.
        loss: the loss function, its name and whether nnview inferred it.
        data: the training data.

    Raises:
        NnviewError: kind ``input`` when the loss cannot take the output and the targets.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(sample)
    except Exception:  # noqa: BLE001 - the trace ran this forward already; a new failure is the step's to report
        return
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor):
        return  # a dict or tuple output goes to the file's own loss, which check_loss cannot reason about
    loss_fn, loss_name, inferred = loss
    check_loss(loss_fn, loss_name, inferred, output, target, data)


def check_output_width(data: TrainingData, outputs: tuple[TensorSpec, ...], loss_name: str, inferred: bool) -> None:
    """Cross-entropy on integer labels needs at least one output per class.

    Raises:
        NnviewError: kind ``input`` naming the largest label and the model's output width.
    """
    if data.classes is None or not outputs or loss_name != "cross_entropy":
        return
    width = outputs[0].shape[-1]
    if width < data.classes:
        raise _error(
            f"the labels go up to {data.classes - 1} but the model outputs {width} values per sample ({data.source})",
            f"make the last layer output {data.classes} values, or use data with {width} classes"
            + (INFERRED_CROSS_ENTROPY if inferred else ""),
            expected=f"{data.classes} outputs",
        )
