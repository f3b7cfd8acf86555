"""Finding the tensors inside what a module took or returned, and describing one tensor."""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.utils.rnn import PackedSequence
from torch.utils._pytree import tree_leaves

from tui.core.example_input import dtype_name
from tui.core.records import TensorSpec
from tui.core.trace.outputs import tensors_inside


def tensors_in(value: Any, look_inside: bool = False) -> list[torch.Tensor]:
    """Every tensor inside ``value`` (tuples, lists, dicts and other pytrees walked in full), in order.

    With ``look_inside`` (outputs), objects pytrees do not open are searched too: a distribution's
    ``loc``/``scale``, a dataclass's fields. Inputs are not: a cache object handed to every layer
    would otherwise add its tensors to every row.
    """
    if isinstance(value, torch.Tensor):
        return [value]
    if type(value) in (tuple, list):
        found: list[torch.Tensor] = []
        for item in value:
            found.extend([item] if isinstance(item, torch.Tensor) else tensors_in(item, look_inside))
        return found
    if type(value) is dict:
        return tensors_in(list(value.values()), look_inside)
    if value is None or isinstance(value, (int, float, bool, str)):
        return []
    found = []
    # A PackedSequence is a namedtuple to pytrees; its data is the tensor, batch_sizes only describe it.
    for leaf in tree_leaves(value, is_leaf=lambda x: isinstance(x, PackedSequence)):
        if isinstance(leaf, torch.Tensor):
            found.append(leaf)
        elif isinstance(leaf, PackedSequence):
            found.append(leaf.data)
        elif look_inside and leaf is not None and not isinstance(leaf, (int, float, bool, str)):
            found.extend(tensors_inside(leaf))  # a distribution, a dataclass, a dict subclass...
    return found


def spec_of(tensor: torch.Tensor) -> TensorSpec:
    """The :class:`TensorSpec` of one tensor."""
    return TensorSpec(tuple(tensor.shape), dtype_name(tensor.dtype))
