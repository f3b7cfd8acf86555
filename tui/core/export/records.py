"""What an ONNX export made and found: the file, its inputs and outputs, and how its run compared with PyTorch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GraphValue:
    """One input or output of the exported graph.

    Attributes:
        name: its name in the graph (forward's parameter name for inputs).
        shape: sizes, with ``"batch"`` for the dynamic batch axis.
        dtype: the torch dtype name, e.g. ``"float32"``.
    """

    name: str
    shape: tuple[int | str, ...]
    dtype: str

    def text(self) -> str:
        """``x: batch×5 float32``."""
        return f"{self.name}: {'×'.join(str(size) for size in self.shape) or 'scalar'} {self.dtype}"


@dataclass(frozen=True)
class RuntimeCheck:
    """One run of the file in onnxruntime, compared with PyTorch's forward on the same input.

    Attributes:
        batch: the batch size of the input both ran on.
        max_diff: the largest ``|onnx - torch|`` over every output element (``None`` when the run failed).
        tolerance: the largest difference accepted.
        problem: why the run could not be compared (it failed, outputs differ in number or shape), else "".
    """

    batch: int | None
    max_diff: float | None
    tolerance: float
    problem: str = ""

    @property
    def matches(self) -> bool:
        """Whether the run succeeded and every output agrees with PyTorch within ``tolerance``."""
        return not self.problem and self.max_diff is not None and self.max_diff <= self.tolerance


@dataclass(frozen=True)
class OnnxExport:
    """An ONNX file written from a model, and what checking it found.

    Attributes:
        path: where the file was written.
        model_name: the model's name (class or factory).
        opset: the ONNX opset of the file.
        size_bytes: the file's size.
        exporter: which exporter made it, e.g. ``"torch 2.13.0 (TorchScript exporter)"``.
        inputs: the graph's inputs.
        outputs: the graph's outputs.
        runtime: the onnxruntime version, or ``None`` when it is not installed (no run then).
        check: the run on the example input (``None`` without onnxruntime).
        batch_check: the run at another batch size, for a dynamic batch (``None`` when not run).
        notes: what the exported graph fixed that the model computes (traced Python values) and similar.
    """

    path: str
    model_name: str
    opset: int
    size_bytes: int
    exporter: str
    inputs: tuple[GraphValue, ...]
    outputs: tuple[GraphValue, ...]
    runtime: str | None
    check: RuntimeCheck | None
    batch_check: RuntimeCheck | None
    notes: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """False when onnxruntime ran the file and disagreed with PyTorch (or failed); True otherwise."""
        checks = [c for c in (self.check, self.batch_check) if c is not None]
        return all(c.matches for c in checks)

    def lines(self) -> list[str]:
        """What to tell the user, one line each: the file, its graph, each check, the notes."""
        kib = self.size_bytes / 1024
        lines = [f"wrote {self.path} ({kib:,.1f} KiB, ONNX opset {self.opset}, {self.exporter})"]
        lines.append(f"  inputs   {', '.join(v.text() for v in self.inputs)}")
        lines.append(f"  outputs  {', '.join(v.text() for v in self.outputs)}")
        lines.append("  onnx.checker: the file is a valid ONNX model")
        return lines + [f"  {line}" for line in self.findings()]

    def findings(self) -> list[str]:
        """How the runs compared with PyTorch (or why there were none), then the notes."""
        if self.check is None:
            lines = ['not run in onnxruntime (not installed): pip install -e ".[onnx]" to compare with PyTorch']
        else:
            lines = [f"onnxruntime {self.runtime}: {_verdict(self.check)}"]
        if self.batch_check is not None:
            lines.append(f"dynamic batch: {_verdict(self.batch_check)}")
            example = self.check.batch if self.check is not None else None
            if not self.batch_check.matches and example is not None:
                lines.append(f"the graph holds only at batch {example}: export with --static-batch to fix it there")
        return lines + [f"note: {note}" for note in self.notes]


def _verdict(check: RuntimeCheck) -> str:
    """One clause: how a run compared with PyTorch."""
    at = f" at batch {check.batch}" if check.batch is not None else ""
    if check.problem:
        return f"FAILED{at}: {check.problem}"
    word = "matches PyTorch" if check.matches else "DIFFERS from PyTorch"
    return f"{word}{at}: max |onnx - torch| = {check.max_diff:.3g} (tolerance {check.tolerance:.3g})"
