"""``diagnose`` and ``refine`` take public records: a log of module calls built by hand is enough.

Each test builds the :class:`CallLog` a trace would have recorded up to the failure, without running a
trace, and checks the exact record. The exceptions are the real ones torch raises for those inputs,
with the traceback dropped, so no location is found and the message has no ``(at file:line)``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from tui.core.example_input import ExampleInput
from tui.core.records import NnviewError, TensorSpec
from tui.core.trace.calls import CallLog, ModuleCall
from tui.core.trace.diagnosis import diagnose
from tui.core.trace.hints import refine
from tui.core.trace.tracing import trace_model


def _raised(run: Callable[[], object]) -> BaseException:
    """What ``run`` raises, without its traceback."""
    try:
        run()
    except RuntimeError as exc:
        return exc.with_traceback(None)
    raise AssertionError("expected an exception")


class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(10, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def _two_layers_log(traced_producers: bool) -> tuple[CallLog, BaseException]:
    """``fc2(relu(fc1(x)))`` with fc2 built for 10 features where fc1 gives 16."""
    model = TwoLayers()
    x = torch.randn(4, 8)
    hidden = model.fc1(x)
    activated = torch.relu(hidden)
    calls = (
        ModuleCall(0, "", model, inputs=(x,)),
        ModuleCall(1, "fc1", model.fc1, parent_index=0, inputs=(x,), outputs=(hidden,), activation="relu"),
        ModuleCall(2, "fc2", model.fc2, parent_index=0, inputs=(activated,)),
    )
    # As the trace records it, relu passes fc1's output on; without, only fc1's own output is fc1's.
    producers = {id(hidden): (1,), id(activated): (1,)} if traced_producers else None
    exc = _raised(lambda: model.fc2(activated))
    return CallLog(calls, failing=2, model_inputs=(x,), producers=producers), exc


def test_a_linear_fed_the_wrong_feature_count_by_the_model_input() -> None:
    model = nn.Sequential(nn.Linear(10, 5))
    x = torch.randn(4, 8)
    log = CallLog(
        (ModuleCall(0, "", model, inputs=(x,)), ModuleCall(1, "0", model[0], parent_index=0, inputs=(x,))),
        failing=1,
        model_inputs=(x,),
    )
    record = diagnose(_raised(lambda: model(x)), log)
    assert record.kind == "shape_mismatch"
    assert record.message == "0 = nn.Linear(10, 5) got input (4, 8): 8 features where it needs 10"
    assert record.hint == (
        "0 = nn.Linear(10, 5) receives 8 features from the model input: "
        "feed inputs with 10 features, or change in_features to 8"
    )
    assert (record.layer, record.type, record.expected, record.location) == ("0", "Linear", "(*, 10)", None)
    assert record.inputs == (TensorSpec((4, 8), "float32"),)
    assert record.partial == ()


def test_a_linear_fed_by_another_layer_through_relu_names_that_layer() -> None:
    log, exc = _two_layers_log(traced_producers=True)
    record = diagnose(exc, log)
    assert record.message == "fc2 = nn.Linear(10, 4) got input (4, 16): 16 features where it needs 10"
    assert record.hint == "fc2 = nn.Linear(10, 4) receives 16 features from fc1: change in_features to 16"
    assert (record.kind, record.layer, record.type, record.expected) == ("shape_mismatch", "fc2", "Linear", "(*, 10)")
    # The trace records the same: its own log of this model gives the same diagnosis.
    with pytest.raises(NnviewError) as caught:
        trace_model(TwoLayers(), ExampleInput((torch.randn(4, 8),)))
    traced = caught.value.record
    assert (traced.kind, traced.message, traced.hint, traced.layer, traced.type, traced.inputs, traced.expected) == (
        record.kind,
        record.message,
        record.hint,
        record.layer,
        record.type,
        record.inputs,
        record.expected,
    )


def test_without_producers_a_tensor_no_call_returned_comes_from_the_code_after_the_last_layer() -> None:
    log, exc = _two_layers_log(traced_producers=False)
    assert log.produced_by(log.calls[1].outputs[0]) == (1,)
    assert log.produced_by(log.calls[2].inputs[0]) == ()
    record = diagnose(exc, log)
    assert record.hint == (
        "fc2 = nn.Linear(10, 4) receives 16 features from the code after fc1: change in_features to 16"
    )


def test_a_conv2d_fed_the_wrong_channels() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3))
    x = torch.randn(2, 1, 8, 8)
    log = CallLog(
        (ModuleCall(0, "", model, inputs=(x,)), ModuleCall(1, "0", model[0], parent_index=0, inputs=(x,))),
        failing=1,
        model_inputs=(x,),
    )
    record = diagnose(_raised(lambda: model(x)), log)
    assert record.kind == "shape_mismatch"
    assert record.message == "0 (Conv2d) expects 3 input channels but got 1 (input (2, 1, 8, 8))"
    assert record.hint == "0 receives 1 channels from the model input: change in_channels to 1"
    assert (record.layer, record.type, record.expected) == ("0", "Conv2d", "3 channels")
    assert record.inputs == (TensorSpec((2, 1, 8, 8), "float32"),)


class Project(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(5, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w


def test_a_matmul_shape_mismatch_in_a_module_of_its_own() -> None:
    model = nn.Sequential(Project())
    x = torch.randn(4, 6)
    log = CallLog(
        (ModuleCall(0, "", model, inputs=(x,)), ModuleCall(1, "0", model[0], parent_index=0, inputs=(x,))),
        failing=1,
        model_inputs=(x,),
    )
    record = diagnose(_raised(lambda: model(x)), log)
    assert record.kind == "shape_mismatch"
    assert record.message == "0 (Project) failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied (4x6 and 5x3)"
    assert record.hint == "check the inputs 0 receives"
    assert (record.layer, record.type, record.expected, record.location) == ("0", "Project", None, None)


def test_a_failure_before_any_layer_ran() -> None:
    model = nn.Linear(3, 3)
    exc = _raised(lambda: torch.ones(2) @ torch.ones(3))
    record = diagnose(exc, CallLog(()))
    assert record.kind == "shape_mismatch"
    assert record.message == (
        "the forward pass failed before any layer ran: RuntimeError: inconsistent tensor size, expected tensor [2] "
        "and src [3] to have the same number of elements, but got 2 and 3 elements respectively"
    )
    assert record.hint == "check the example input and the start of forward()"
    assert record.layer is None
    assert CallLog((ModuleCall(0, "", model),)).failing_call is None


def test_refine_tells_a_shared_layer_from_a_misbuilt_one() -> None:
    model = nn.ModuleDict({"fc": nn.Linear(8, 8), "widen": nn.Linear(8, 16)})
    x = torch.randn(4, 8)
    once = model["fc"](x)
    wide = model["widen"](once)
    calls = (
        ModuleCall(0, "", model, inputs=(x,)),
        ModuleCall(1, "fc", model["fc"], parent_index=0, inputs=(x,), outputs=(once,)),
        ModuleCall(2, "widen", model["widen"], parent_index=0, inputs=(once,), outputs=(wide,)),
        ModuleCall(3, "fc", model["fc"], parent_index=0, call=1, inputs=(wide,)),
    )
    log = CallLog(calls, failing=3, model_inputs=(x,))
    assert [log.depth(call) for call in calls] == [0, 1, 1, 1]
    exc = _raised(lambda: model["fc"](wide))
    first = diagnose(exc, log)
    assert first.hint == "fc = nn.Linear(8, 8) receives 16 features from widen: change in_features to 16"
    record = refine(first, exc, log, ExampleInput((x,), origin="--input"))
    assert record.kind == "shape_mismatch"
    assert record.message == "fc (Linear) worked on call 1 with input (4, 8) and failed on call 2 with input (4, 16)"
    assert record.hint == (
        "fc is one layer reused on differently shaped tensors, so changing its size would break call 1: "
        "give call 2 a layer of its own (e.g. nn.Linear(16, 8)), or reshape its input to match (4, 8)"
    )
    assert (record.layer, record.type, record.expected) == ("fc", "Linear", "(*, 8)")
