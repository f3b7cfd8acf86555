"""Checking an exported file: ``onnx.checker``, then one run in onnxruntime compared with PyTorch's forward.

``onnx`` is required (the ``onnx`` extra); ``onnxruntime`` is optional: without it the file is only
checked, and the report says how to install it. The tolerance is 1e-5 times the largest output
magnitude (at least 1e-5) for float32 and float64 outputs, 1e-2 times it for float16 and bfloat16.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tui.core.export.exporter import BATCH
from tui.core.export.records import GraphValue, RuntimeCheck
from tui.core.records import ErrorRecord, NnviewError

INSTALL = 'pip install -e ".[onnx]" (the onnx and onnxruntime packages)'
TOLERANCE = 1e-5
HALF_TOLERANCE = 1e-2


def require_onnx() -> None:
    """Raise a clear error, naming the extra to install, when the ``onnx`` package is missing.

    Raises:
        NnviewError: kind ``export``.
    """
    try:
        import onnx  # noqa: F401 - importing it is the check: a broken install fails here, not mid-export
    except ImportError as exc:
        raise NnviewError(
            ErrorRecord(
                kind="export",
                message="exporting to ONNX needs the onnx package, which is not installed",
                hint=f"install it: {INSTALL}",
            )
        ) from exc


def runtime_version() -> str | None:
    """The installed onnxruntime's version, or ``None`` when it is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def check_file(data: bytes) -> tuple[int, tuple[GraphValue, ...], tuple[GraphValue, ...]]:
    """Run ``onnx.checker`` (with shape inference) on ``data``; return its opset, inputs and outputs.

    Raises:
        NnviewError: kind ``export`` when the checker refuses the file.
    """
    import onnx

    proto = onnx.load_from_string(data)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NnviewError(
            ErrorRecord(
                kind="export",
                message=f"the exported file fails onnx.checker: {first}",
                hint="try another --opset; run again with --debug for the details",
            )
        ) from exc
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    initializers = {i.name for i in proto.graph.initializer}
    inputs = tuple(_value(v) for v in proto.graph.input if v.name not in initializers)
    return int(opset), inputs, tuple(_value(v) for v in proto.graph.output)


def _value(info: Any) -> GraphValue:
    """A graph input or output as a :class:`GraphValue`."""
    import onnx

    tensor = info.type.tensor_type
    # A size the exporter left open under a made-up name ("MatMuloutput_dim_1") reads as "?".
    shape = tuple(d.dim_value if d.HasField("dim_value") else _open_size(d.dim_param) for d in tensor.shape.dim)
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name if tensor.elem_type else "?"
    return GraphValue(info.name, shape, dtype)


def _open_size(name: str) -> str:
    return name if name == BATCH else "?"


def tolerance_for(reference: tuple[torch.Tensor, ...]) -> float:
    """The largest accepted ``|onnx - torch|`` for these PyTorch outputs (see the module's docstring)."""
    half = any(t.dtype in (torch.float16, torch.bfloat16) for t in reference)
    floats = [t for t in reference if t.numel() and t.is_floating_point()]
    largest = max((float(t.detach().abs().max()) for t in floats), default=0.0)
    return (HALF_TOLERANCE if half else TOLERANCE) * max(1.0, largest)


def run_and_compare(data: bytes, inputs: tuple[torch.Tensor, ...], reference: tuple[torch.Tensor, ...]) -> RuntimeCheck:
    """Run the file once in onnxruntime (CPU) on ``inputs`` and compare with PyTorch's ``reference`` outputs."""
    import onnxruntime

    batch = int(inputs[0].shape[0]) if inputs and inputs[0].dim() >= 1 else None
    tolerance = tolerance_for(reference)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings would land on the user's terminal
    try:
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if len(names) != len(inputs):
            return RuntimeCheck(batch, None, tolerance, f"the graph takes {len(names)} inputs, the model {len(inputs)}")
        feed = {name: _numpy(t) for name, t in zip(names, inputs, strict=True)}
        outputs = session.run(None, feed)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's failures are many and untyped: each one is a finding
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return RuntimeCheck(batch, None, tolerance, f"onnxruntime could not run it: {first}")
    if len(outputs) != len(reference):
        return RuntimeCheck(batch, None, tolerance, f"{len(outputs)} outputs, PyTorch returned {len(reference)}")
    worst = 0.0
    for index, (got, expected) in enumerate(zip(outputs, reference, strict=True)):
        want = _numpy(expected)
        if np.shape(got) != want.shape:
            problem = f"output {index} has shape {list(np.shape(got))}, PyTorch's {list(want.shape)}"
            return RuntimeCheck(batch, None, tolerance, problem)
        worst = max(worst, _max_diff(np.asarray(got), want))
    return RuntimeCheck(batch, worst, tolerance)


def _numpy(tensor: torch.Tensor) -> Any:
    """A tensor as a numpy array on the CPU (bfloat16, which numpy lacks, as float32)."""
    value = tensor.detach().cpu()
    return (value.float() if value.dtype == torch.bfloat16 else value).numpy()


def _max_diff(got: Any, want: Any) -> float:
    """The largest ``|got - want|``; NaN where only one is NaN counts as infinitely far, NaN in both as equal."""
    if got.size == 0:
        return 0.0
    a, b = got.astype(np.float64), want.astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    diff = np.where(both_nan | same_inf, 0.0, np.abs(a - b))
    return float(np.nan_to_num(diff, nan=np.inf).max())
