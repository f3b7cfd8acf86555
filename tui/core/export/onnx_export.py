"""``export_onnx``: a loaded model and its example input -> a checked ONNX file, compared with PyTorch.

The CLI (``nnview export``) and the explorer (``o``) both call it with the model and the input nnview
traced. The model is left as it was (modes, flags, device); its code runs under the guest's guards.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tui.core.example_input import ExampleInput
from tui.core.export.exporter import EXPORTER, export_to_bytes, flat_tensors, graph_inputs, model_kept
from tui.core.export.failures import export_error
from tui.core.export.out_path import write_onnx
from tui.core.export.records import OnnxExport
from tui.core.export.verify import check_file, require_onnx, run_and_compare, runtime_version
from tui.core.guest.usercode import describe_exception, sandboxed_process_state
from tui.core.load.model_file import LoadedModel
from tui.core.records import ErrorRecord, NnviewError

__all__ = ["check_opset", "export_onnx"]


def opset_range() -> tuple[int, int]:
    """The lowest and highest ONNX opset the exporter writes."""
    try:
        from torch.onnx import _constants

        return int(_constants.ONNX_MIN_OPSET), int(_constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET)
    except (ImportError, AttributeError):
        return 7, 20


def check_opset(opset: int | None) -> None:
    """Refuse an opset the exporter cannot write.

    Raises:
        NnviewError: kind ``input``, naming the range.
    """
    low, high = opset_range()
    if opset is not None and not low <= opset <= high:
        raise NnviewError(
            ErrorRecord(
                kind="input",
                message=f"--opset {opset}: torch {torch.__version__.split('+')[0]} exports ONNX opsets {low} to {high}",
                hint=f"pass --opset {high} (or leave it out for the exporter's default)",
            )
        )


def export_onnx(
    loaded: LoadedModel,
    example: ExampleInput,
    target: Path,
    *,
    opset: int | None = None,
    dynamic_batch: bool = True,
    replace: bool = False,
    beside: Path | None = None,
) -> OnnxExport:
    """Export ``loaded.model`` called on ``example`` to ``target``; check it, run it, compare it.

    The file is written once ``onnx.checker`` accepts it, even when onnxruntime then disagrees with
    PyTorch (``OnnxExport.verified`` says so): the graph can still be looked at.

    Args:
        loaded: the model and the files of its code.
        example: the input nnview traced (on the model's device).
        target: the file to write (checked already: :func:`tui.core.export.out_path.check_onnx_path`).
        opset: the ONNX opset, ``None`` for the exporter's default.
        dynamic_batch: make the batch axis dynamic, and run the file at a second batch size to check it.
        replace: replace ``target`` if it exists.
        beside: the model file, where ``target`` is the next free name beside it (see ``write_onnx``).

    Raises:
        NnviewError: kind ``export`` when the model cannot be exported (naming the op and the layer),
            ``save`` when the file cannot be written.
    """
    require_onnx()
    check_opset(opset)
    model = loaded.model
    with sandboxed_process_state(None, loaded.source, "exporting to ONNX", loaded.user_files):
        with model_kept(model):
            try:
                exported = export_to_bytes(model, example, opset, dynamic_batch, loaded.user_files)
            except (NnviewError, KeyboardInterrupt):
                raise
            except Exception as exc:  # every exporter failure becomes a record naming the op
                record = export_error(exc, model, graph_inputs(model, example)[0], opset, loaded.user_files)
                raise NnviewError(record) from exc
            doubled, notes = _doubled_batch(model, exported.inputs) if exported.dynamic else (None, ())
    file_opset, inputs, outputs = check_file(exported.data)
    written = write_onnx(exported.data, target, replace=replace, beside=beside)
    runtime = runtime_version()
    check = batch_check = None
    if runtime is not None:
        check = run_and_compare(exported.data, exported.inputs, exported.reference)
        if doubled is not None:
            batch_check = run_and_compare(exported.data, *doubled)
    return OnnxExport(
        path=str(written),
        model_name=loaded.name,
        opset=file_opset,
        size_bytes=len(exported.data),
        exporter=f"{EXPORTER} of torch {torch.__version__.split('+')[0]}",
        inputs=inputs,
        outputs=outputs,
        runtime=runtime,
        check=check,
        batch_check=batch_check,
        notes=(*exported.notes, *notes),
    )


def _doubled_batch(
    model: torch.nn.Module, inputs: tuple[torch.Tensor, ...]
) -> tuple[tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]] | None, tuple[str, ...]]:
    """The inputs at twice their batch and PyTorch's outputs on them, to run the file at a second batch size.

    ``None`` (with a note) when the inputs do not share one batch size, or the model's own forward
    fails at the doubled batch (then the file's dynamic axis promises more than the model does).
    """
    batch = inputs[0].shape[0] if inputs and inputs[0].dim() >= 1 else None
    if batch is None or any(t.dim() < 1 or t.shape[0] != batch for t in inputs):
        return None, ("the inputs do not share one batch axis: the file was run at its example batch only",)
    doubled = tuple(torch.cat([t, t]) for t in inputs)
    try:
        reference = tuple(flat_tensors(model(*doubled)))
    except Exception as exc:  # noqa: BLE001 - the model's own limit, told as a note
        note = (
            f"the model's own forward fails at batch {2 * batch} ({describe_exception(exc)}), "
            f"so the file's dynamic batch axis holds only for batch {batch}: export with --static-batch to say so"
        )
        return None, (note,)
    return (doubled, reference), ()
