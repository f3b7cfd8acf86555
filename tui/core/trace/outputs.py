"""Outputs that are not tensors in tuples, lists or dicts: their type, and the tensors inside them.

A model may return a ``torch.distributions.Normal``, a dataclass, a ``ModelOutput``-like dict
subclass or a NumPy array. Pytrees see none of these as containers, so a layer table would show
"-"; here they get a type label and, where an object holds tensors as attributes or fields, those.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

_PLAIN = (tuple, list, dict)
_DEPTH = 3  # objects inside objects: deep enough for a dataclass of distributions, bounded for cycles
_VISITS = 2000  # values looked at per output at most: a post hook must stay cheap on a huge object


def _is_array(value: Any) -> bool:
    """A NumPy array (checked by name so that numpy is not imported for a check)."""
    return type(value).__name__ == "ndarray" and hasattr(value, "shape") and hasattr(value, "dtype")


def output_type(value: Any) -> str | None:
    """A label for an output that is not tensors in plain tuples, lists or dicts; else ``None``.

    ``Normal``, ``ndarray(4,3)``, ``PackedSequence``, a dataclass's or a dict subclass's class name.
    """
    if value is None or isinstance(value, torch.Tensor) or type(value) in _PLAIN:
        return None
    if isinstance(value, (int, float, bool, str)):
        return type(value).__name__
    if _is_array(value):
        return "ndarray(" + ",".join(str(d) for d in value.shape) + ")"
    return type(value).__name__


def tensors_inside(value: Any, depth: int = _DEPTH) -> list[torch.Tensor]:
    """The tensors an object holds: a PackedSequence's data, dataclass fields, public attributes.

    Modules, classes and functions are not looked into: they are code, not outputs.
    """
    found: list[torch.Tensor] = []
    seen: set[int] = set()
    _collect(value, depth, found, seen, [_VISITS])
    return found


def _collect(value: Any, depth: int, found: list[torch.Tensor], seen: set[int], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    if isinstance(value, torch.Tensor):
        if id(value) not in seen:  # the same tensor under two names is one output
            seen.add(id(value))
            found.append(value)
        return
    if depth < 0 or value is None or isinstance(value, (int, float, bool, str, bytes, type, nn.Module)):
        return
    if isinstance(value, PackedSequence):
        # batch_sizes and the index tensors describe the packing; data is what the layer computed.
        _collect(value.data, depth, found, seen, budget)
        return
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, depth - 1, found, seen, budget)
        return
    if isinstance(value, (tuple, list)):
        for item in value:
            _collect(item, depth - 1, found, seen, budget)
        return
    if callable(value) or _is_array(value):
        return
    if dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            _collect(getattr(value, item.name, None), depth - 1, found, seen, budget)
        return
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        for name, item in attributes.items():
            if not name.startswith("_"):  # a Categorical's _param is its probs or logits again
                _collect(item, depth - 1, found, seen, budget)


@contextlib.contextmanager
def distributions_unchecked(meta: bool) -> Iterator[None]:
    """On the meta device, ``torch.distributions`` argument checks off (they read values meta lacks); restored after."""
    distribution = torch.distributions.Distribution
    saved = distribution._validate_args
    try:
        if meta:
            distribution.set_default_validate_args(False)
        yield
    finally:
        distribution._validate_args = saved
