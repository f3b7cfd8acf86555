"""Deciding the example input of a loaded model: from the file, from ``--input``, or inferred."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from tui.core.dtypes import model_float_dtype
from tui.core.example_input import ExampleInput, dtype_name, make_tensor, model_device
from tui.core.guest.usercode import run_user_code
from tui.core.load.input_checks import (
    check_forward_arity,
    check_keywords,
    full_lengths,
    is_lengths,
    is_uninitialized_lazy,
    lazy_first_layer,
    move_inputs,
    positional_names,
)
from tui.core.load.input_specs import check_input_size
from tui.core.load.input_specs import parse_input_spec as parse_input_spec  # re-exported: the session reads it here
from tui.core.load.model_file import LoadedModel
from tui.core.records import ErrorRecord, NnviewError, TensorSpec

SEQUENCE_LENGTH = 16
SPATIAL_SIZE = 32


def _id_limit(model: nn.Module) -> int:
    """The exclusive upper bound for random integer ids: the first Embedding's vocabulary."""
    for module in model.modules():
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            return int(module.num_embeddings)
    return 10


def _first_layer_spec(model: nn.Module, batch: int) -> tuple[str, TensorSpec] | None:
    """The input shape the first recognised layer implies, with a phrase naming that layer."""
    for name, module in model.named_modules():
        if is_uninitialized_lazy(module):  # its size comes from the first batch: nothing to infer from
            raise NnviewError(lazy_first_layer(name, module, batch))
        label = f"{name or type(module).__name__} ({type(module).__name__}"
        if isinstance(module, nn.Linear):
            return f"{label}, in_features={module.in_features})", TensorSpec((batch, module.in_features), "float32")
        if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            ids = f"{label}, ids < {module.num_embeddings}, sequence length {SEQUENCE_LENGTH})"
            return ids, TensorSpec((batch, SEQUENCE_LENGTH), "int64")
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
            spatial = (SPATIAL_SIZE,) * (len(module.kernel_size))
            shape = (batch, module.in_channels, *spatial)
            return f"{label}, in_channels={module.in_channels}, size {SPATIAL_SIZE})", TensorSpec(shape, "float32")
        if isinstance(module, nn.RNNBase):
            seq = (batch, SEQUENCE_LENGTH) if module.batch_first else (SEQUENCE_LENGTH, batch)
            return f"{label}, input_size={module.input_size})", TensorSpec((*seq, module.input_size), "float32")
        if isinstance(module, nn.LayerNorm):
            shape = (batch, *module.normalized_shape)
            return f"{label}, normalized_shape={list(module.normalized_shape)})", TensorSpec(shape, "float32")
        if isinstance(module, nn.BatchNorm1d):
            return f"{label}, num_features={module.num_features})", TensorSpec((batch, module.num_features), "float32")
        if isinstance(module, nn.BatchNorm2d):
            shape = (batch, module.num_features, SPATIAL_SIZE, SPATIAL_SIZE)
            return f"{label}, num_features={module.num_features})", TensorSpec(shape, "float32")
    return None


def _from_value(value: Any, origin: str) -> ExampleInput:
    """Read ``example_input``: a tensor, a tuple of positional arguments or a dict of keywords."""
    if isinstance(value, dict):
        check_keywords(value, origin)
        return ExampleInput((), dict(value), False, origin)
    if isinstance(value, PackedSequence):  # a namedtuple, but one input, not a tuple of them
        return ExampleInput((value,), {}, False, origin)
    if isinstance(value, tuple):
        return ExampleInput(value, {}, False, origin)
    if isinstance(value, torch.Tensor):
        return ExampleInput((value,), {}, False, origin)
    raise NnviewError(
        ErrorRecord(
            kind="input",
            message=f"{origin} is a {type(value).__name__}; nnview needs a tensor, a tuple or a dict",
            hint="set example_input = torch.randn(4, 5) (a tuple for several inputs, a dict for keywords)",
        )
    )


def resolve_inputs(loaded: LoadedModel, specs: list[TensorSpec], batch: int = 4) -> ExampleInput:
    """Decide the example input: ``--input`` if given, else the file's, else inferred.

    An explicit ``--input`` wins over the file's ``example_input`` so that a user can try
    another shape without editing the file. Tensors are moved to the model's device.

    Raises:
        NnviewError: kind ``input`` when no input can be found or made.
    """
    model = loaded.model
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        message = f"--batch {batch}: the batch size must be a whole number of at least 1"
        raise NnviewError(ErrorRecord(kind="input", message=message, hint="pass e.g. --batch 4"))
    device = model_device(model)
    generator = torch.Generator().manual_seed(0)
    if specs:
        if device.type != "meta":
            check_input_size(specs, "a smaller --input shape")
        made = [make_tensor(s, device, _id_limit(model), generator) for s in specs]
        for i, name in enumerate(positional_names(model)[: len(made)]):
            if is_lengths(name, made[i]):  # pack_padded_sequence needs valid lengths on the CPU
                made[i] = full_lengths(made[i].shape[0], made[:i] + made[i + 1 :])
        example = ExampleInput(tuple(made), {}, False, "--input")
    elif "example_input" in loaded.namespace:
        value = loaded.namespace["example_input"]
        if callable(value) and not isinstance(value, torch.Tensor):
            value, _ = run_user_code(value, "calling example_input()", loaded.user_files, None, loaded.source)
            example = _from_value(value, "example_input()")
        else:
            example = _from_value(value, "example_input")
    else:
        found = _first_layer_spec(model, batch)
        if found is None:
            raise NnviewError(
                ErrorRecord(
                    kind="input",
                    message=f"cannot infer an input for {loaded.name}: it has no Linear, Embedding, Conv or RNN layer",
                    hint="pass --input SHAPE (e.g. --input 4x3x32x32) or define example_input in the model file",
                )
            )
        label, spec = found
        floating = model_float_dtype(model)  # a .double() or .half() model is fed its own dtype
        if spec.dtype == "float32" and floating is not None:
            spec = TensorSpec(spec.shape, dtype_name(floating))
        if device.type != "meta":
            check_input_size([spec], f"a smaller --batch (it was {batch})")
        tensor = make_tensor(spec, device, _id_limit(model), generator)
        example = ExampleInput((tensor,), {}, True, f"inferred from {label}")

    check_forward_arity(model, example.args, example.kwargs, example.origin)
    args, kwargs = move_inputs(model, example.args, example.kwargs, device)
    return ExampleInput(args, kwargs, example.inferred, example.origin)
