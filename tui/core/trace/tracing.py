"""One forward pass, module hooks plus a dispatch mode -> one :class:`LayerRecord` per module call.

Everything the trace changes (hooks, train/eval mode, the attention fast path) is undone in
``finally``, on success and on failure alike.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

from tui.core.example_input import ExampleInput
from tui.core.options import DEFAULT_BUDGET_BYTES
from tui.core.records import NnviewError, TraceResult
from tui.core.trace.activations import module_activation
from tui.core.trace.attention_ops import read_attention
from tui.core.trace.calls import CallLog, ModuleCall
from tui.core.trace.capture import ACTIVATED, INPUT, OUTPUT, CaptureStore
from tui.core.trace.diagnosis import diagnose
from tui.core.trace.hints import refine
from tui.core.trace.layer_records import layer_records
from tui.core.trace.modes import mode_dependent_layers
from tui.core.trace.opwatch import OpWatcher
from tui.core.trace.outputs import distributions_unchecked, output_type
from tui.core.trace.own_errors import internal_error, internal_record
from tui.core.trace.param_counts import packed_weight_note, uninitialized_params
from tui.core.trace.scripted import list_scripted_submodules, remap_keys, scripted_note, type_name
from tui.core.trace.stats import totals_for
from tui.core.trace.tensors_in import spec_of, tensors_in


class _Call:
    """A module call while the trace is running; frozen into a :class:`ModuleCall` afterwards."""

    __slots__ = (
        "activation",
        "call",
        "flops",
        "index",
        "inputs",
        "module",
        "name",
        "output_type",
        "outputs",
        "parent_index",
    )  # fmt: skip

    def __init__(self, index: int, module: nn.Module, name: str, parent: _Call | None, call: int) -> None:
        self.index = index
        self.module = module
        self.name = name
        self.parent_index = -1 if parent is None else parent.index
        self.call = call
        self.inputs: list[torch.Tensor] = []
        self.outputs: list[torch.Tensor] = []
        self.output_type: str | None = None
        self.flops = 0
        self.activation: str | None = None

    def freeze(self) -> ModuleCall:
        """The public record of this call, as it stands now."""
        return ModuleCall(
            index=self.index,
            name=self.name,
            module=self.module,
            parent_index=self.parent_index,
            call=self.call,
            inputs=tuple(self.inputs),
            outputs=tuple(self.outputs),
            output_type=self.output_type,
            flops=self.flops,
            activation=self.activation,
        )


class _Recorder:
    """Hook and dispatch-mode callbacks that build the list of calls."""

    def __init__(self, model: nn.Module, store: CaptureStore) -> None:
        self.names = {id(m): n for n, m in model.named_modules()}
        self.calls: list[_Call] = []
        self.stack: list[_Call] = []
        self.counts: dict[int, int] = {}
        self.producers: dict[int, tuple[int, ...]] = {}
        self.store = store
        self.model_inputs: list[torch.Tensor] = []
        self.thread = threading.get_ident()
        self.watcher = OpWatcher(self.on_flops, self.on_activation, store.before_write, self.on_attention)

    def pre(self, module: nn.Module, args: Any) -> None:
        if id(module) not in self.names or threading.get_ident() != self.thread:
            return  # another model, a module made inside forward, or another thread
        count = self.counts.get(id(module), 0)
        self.counts[id(module)] = count + 1
        parent = self.stack[-1] if self.stack else None
        call = _Call(len(self.calls), module, self.names[id(module)], parent, count)
        call.inputs = tensors_in(args)
        if not module._modules and isinstance(getattr(module, "weight", None), torch.Tensor):
            # Kept before forward runs: the neuron view needs x exactly as this layer saw it.
            self.store.keep((INPUT, call.index), call.inputs)
        self.calls.append(call)
        self.stack.append(call)
        name = module_activation(module)
        if name is not None and call.inputs:
            self.mark(call.inputs[0], name)

    def post(self, module: nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        if id(module) not in self.names or threading.get_ident() != self.thread:
            return
        while self.stack:  # a child that raised inside a try/except never reached its post hook
            call = self.stack.pop()
            if call.module is module:
                break
        else:
            return
        if kwargs:  # global pre-hooks do not see keyword arguments; post-hooks do
            call.inputs.extend(tensors_in(kwargs))
        call.outputs = tensors_in(output, look_inside=True)
        call.output_type = output_type(output)
        inherited: tuple[int, ...] = ()
        if module_activation(module) is not None and call.inputs:
            # An activation module passes its input's producers through, so "from fc1" survives ReLU.
            inherited = self.producers.get(id(call.inputs[0]), ())
            for tensor in call.outputs:
                self.producers[id(tensor)] = inherited
        else:
            for tensor in call.outputs:
                self.producers[id(tensor)] = (*self.producers.get(id(tensor), ()), call.index)
        with self.watcher.suspended():
            if call.outputs:  # nn.Softsign and the like run no activation op the watcher knows
                for index in inherited:
                    self.store.keep_activated(index, call.outputs[0])
            self.store.keep_output(call.index, call.outputs)

    def on_flops(self, flops: int) -> None:
        if self.stack:
            self.stack[-1].flops += flops

    def on_attention(self, func: Any, args: Any, kwargs: Any, out: Any) -> None:
        found = read_attention(func, args, kwargs, out) if self.stack else None
        if found is not None:  # the innermost running call computed it: its own forward, not a child module
            self.store.keep_attention(self.stack[-1].index, found)

    def mark(self, tensor: torch.Tensor, name: str) -> None:
        """Name ``name`` as the activation of every layer whose output ``tensor`` is."""
        for index in self.producers.get(id(tensor), ()):
            if self.calls[index].activation is None:
                self.calls[index].activation = name

    def log(self) -> CallLog:
        """What the trace recorded so far, frozen: the calls, the one still running, the producers."""
        return CallLog(
            calls=tuple(call.freeze() for call in self.calls),
            failing=self.stack[-1].index if self.stack else None,
            model_inputs=tuple(self.model_inputs),
            producers=self.producers,
        )

    def on_activation(self, source: torch.Tensor, out: Any, name: str) -> None:
        self.mark(source, name)
        if isinstance(out, torch.Tensor):
            for index in self.producers.get(id(source), ()):
                self.store.keep_activated(index, out, in_place=out is source)
        if isinstance(out, torch.Tensor) and id(source) in self.producers:
            self.producers[id(out)] = self.producers[id(source)]


@contextlib.contextmanager
def traced(model: nn.Module, recorder: _Recorder) -> Iterator[None]:
    """Hooks on every module, eval mode, no grad and no attention fast path; all undone after.

    Every parameter's ``requires_grad`` is put back too, also when forward flips it (a freezing
    helper that calls ``requires_grad_(False)`` inside forward must not freeze the model).
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    handles = []
    try:
        # Two global hooks instead of two per module: installing 10,000 handles costs more than the pass.
        handles.append(register_module_forward_pre_hook(recorder.pre))
        handles.append(register_module_forward_hook(recorder.post, with_kwargs=True))
        model.eval()
        # The fused kernels hide sub-modules (out_proj, linear1); the unfused path shows them.
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.no_grad(), recorder.watcher:
            yield
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            if module.training != training:
                object.__setattr__(module, "training", training)  # skips nn.Module's slow __setattr__
        for param, requires_grad in flags:
            if param.requires_grad != requires_grad:
                param.requires_grad_(requires_grad)
        torch.backends.mha.set_fastpath_enabled(fastpath)


def trace_model(
    model: nn.Module,
    example: ExampleInput,
    *,
    model_name: str = "",
    source: str = "",
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
    user_files: tuple[str, ...] = (),
    stats: bool = True,
) -> TraceResult:
    """Run one forward pass of ``model`` and record every module call.

    Args:
        model: the model; its mode, device and ``requires_grad`` flags are left as they were.
        example: the arguments to call it with (on the model's device).
        model_name: the name reports use; the class name by default.
        source: where the model came from, for reports.
        budget_bytes: how many bytes of output tensors to keep for display; past it, statistics only.
        user_files: the model's source files, so error locations point into them.
        stats: compute each layer's output statistics (the costliest part on big activations).

    Returns:
        The records, totals and captured outputs.

    Raises:
        NnviewError: with a diagnosed :class:`ErrorRecord` (and the partial records) if forward fails.
    """
    collecting = gc.isenabled()
    gc.disable()  # thousands of small records: collector passes would cost more than the pass itself
    try:
        return _run_trace(model, example, model_name, source, budget_bytes, user_files, stats)
    except (NnviewError, KeyboardInterrupt):
        raise
    except Exception as exc:  # not the model: _run_trace diagnoses what its forward raised
        own = internal_error(exc, skip_outer=0) or internal_record(exc, "finishing the trace")
        raise NnviewError(own) from exc
    finally:
        if collecting:
            gc.enable()


def _run_trace(
    model: nn.Module,
    example: ExampleInput,
    model_name: str,
    source: str,
    budget_bytes: int,
    user_files: tuple[str, ...],
    stats: bool,
) -> TraceResult:
    store = CaptureStore(budget_bytes, describe=stats)
    recorder = _Recorder(model, store)
    recorder.model_inputs = tensors_in(example.args) + tensors_in(example.kwargs)
    try:
        meta = any(t.device.type == "meta" for t in recorder.model_inputs)
        with traced(model, recorder), distributions_unchecked(meta):
            model(*example.args, **example.kwargs)
    except (NnviewError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        store.finish()
        log = recorder.log()
        partial = tuple(layer_records(log.calls, store))
        record = diagnose(exc, log, partial, user_files)
        raise NnviewError(refine(record, exc, log, example)) from exc
    store.finish()
    calls = recorder.log().calls
    # A TorchScript module's submodules never reach the hooks: list them under its row instead.
    frozen = layer_records(calls, store)
    records, renumbered = list_scripted_submodules(frozen, [c.module for c in calls])
    note = scripted_note(records)
    given = tensors_in(example.args) + tensors_in(example.kwargs)
    return TraceResult(
        model_name=type_name(model) if not model_name or model_name == type(model).__name__ else model_name,
        source=source,
        inputs=tuple(spec_of(t) for t in given),
        input_inferred=example.inferred,
        input_origin=example.origin,
        device=str(given[0].device) if given else "cpu",
        layers=tuple(records),
        totals=totals_for(model, records),
        captured=remap_keys(store.slots(OUTPUT), renumbered),
        captured_inputs=remap_keys(store.slots(INPUT), renumbered),
        activated=remap_keys({index: tensors[0] for index, tensors in store.slots(ACTIVATED).items()}, renumbered),
        attention=remap_keys(store.attention_found(), renumbered),
        budget_bytes=budget_bytes,
        budget_exceeded=store.exceeded,
        macs_uncounted=tuple(sorted(recorder.watcher.uncounted)),
        mode_dependent=mode_dependent_layers((call.name, call.module) for call in calls),
        uninitialized_params=uninitialized_params(model),
        notes=tuple(n for n in (note, packed_weight_note(model)) if n),
    )
