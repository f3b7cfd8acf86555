"""Which layers compute differently in train and eval mode, so a report can say what eval meant.

A trace always runs in eval mode. That is invisible for most layers and decisive for a few:
batch norm normalises with its running statistics instead of the batch's, dropout passes
everything through, RReLU uses a fixed slope. Decided by type for torch's own layers (and by their
settings: a BatchNorm with ``track_running_stats=False`` or a Dropout with ``p=0`` behaves the same
in both modes), and for the model's own classes by whether their ``forward`` reads ``.training``.
"""

from __future__ import annotations

import inspect
import re
import weakref
from collections.abc import Iterable

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.modules.instancenorm import _InstanceNorm

from tui.core.records import ModeDependentLayer

# Per class, weakly: a reloaded model file makes new classes, and the old ones must be free to go.
_reads_training: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()
_TRAINING = re.compile(r"\.training\b")


def _forward_reads_training(cls: type) -> bool:
    """Whether ``cls.forward``'s source mentions ``.training`` (``if self.training:``, ``training=self.training``)."""
    known = _reads_training.get(cls)
    if known is None:
        try:
            known = _TRAINING.search(inspect.getsource(cls.forward)) is not None  # type: ignore[attr-defined]
        except (OSError, TypeError):  # no source (built in C, made by exec): nothing to tell
            known = False
        _reads_training[cls] = known
    return known


def in_eval(module: nn.Module) -> str | None:
    """What eval mode means for ``module``, or None when it computes the same in both modes.

    Args:
        module: any module.

    Returns:
        A phrase to follow the layer's type ("uses running statistics", "is off", ...), or None.
    """
    if isinstance(module, (_BatchNorm, _InstanceNorm)):
        # Without running statistics batch norm normalises with the batch's own in both modes.
        tracked = module.track_running_stats and getattr(module, "running_mean", None) is not None
        return "uses running statistics" if tracked else None
    if isinstance(module, _DropoutNd):
        return "is off" if module.p > 0 else None
    if isinstance(module, nn.RReLU):
        return "uses its fixed mean slope"
    if isinstance(module, nn.MultiheadAttention):
        return "has attention dropout off" if module.dropout > 0 else None
    if isinstance(module, nn.RNNBase):
        return "has its dropout between layers off" if module.dropout > 0 and module.num_layers > 1 else None
    cls = type(module)
    if not cls.__module__.startswith("torch.") and _forward_reads_training(cls):
        return "takes the eval branch of its forward (it reads self.training)"
    return None


def mode_dependent_layers(modules: Iterable[tuple[str, nn.Module]]) -> tuple[ModeDependentLayer, ...]:
    """The layers among ``modules`` (name, module) whose output depends on train/eval mode.

    Args:
        modules: (qualified name, module) pairs, e.g. of the modules that ran; repeats are dropped.

    Returns:
        One record per distinct module, in the order given.
    """
    found: dict[int, ModeDependentLayer] = {}
    for name, module in modules:
        if id(module) in found:
            continue
        meaning = in_eval(module)
        if meaning is not None:
            found[id(module)] = ModeDependentLayer(name, type(module).__name__, meaning)
    return tuple(found.values())
