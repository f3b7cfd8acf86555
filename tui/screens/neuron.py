"""The neuron view: one neuron's w·x + b → activation, with the traced numbers."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from torch import nn

from tui.core.explain.views import NeuronExplanation, explain_neuron
from tui.core.records import TraceResult


def neuron_summary(got: NeuronExplanation, outputs: int) -> Text:
    """The sum, the bias, z, the activation and the check against the recorded value."""
    text = Text()
    text.append(f"{got.layer}  neuron {got.neuron} (of 0–{outputs - 1})  sample {got.sample + 1}", style="bold")
    text.append("   (←/→ neuron, [/] sample, esc back)\n")
    total = sum(got.products)
    bias = got.bias if got.bias is not None else 0.0
    text.append(f"z = Σ wᵢ·xᵢ + b = {total:+.6f} {'+' if bias >= 0 else '-'} {abs(bias):.6f} = {got.z:+.6f}\n")
    text.append(f"recorded output of {got.layer}: {got.recorded_z:+.6f}  ")
    text.append_text(recorded_check(got.z, got.recorded_z))
    if got.activation is not None and got.activated is not None:
        text.append("\n")
        text.append_text(activation_text(got.activation, got.z, got.activated))
    return text


def recorded_check(z: float, recorded: float) -> Text:
    """✓ matches or ✗ differs: whether z redone by hand equals what the layer produced in the trace."""
    match = abs(z - recorded) <= 1e-4 * max(1.0, abs(z))
    return Text("✓ matches" if match else "✗ differs", style="green" if match else "red")


def activation_text(
    activation: str, z: float, activated: float, silent: str = "this neuron is silent for this sample"
) -> Text:
    """``relu(z) = …``, and what a negative z means for ReLU (``silent``: what that silences)."""
    text = Text(f"{activation}(z) = {activated:+.6f}")
    if activation == "relu" and z <= 0:
        text.append(f"  (negative z: ReLU outputs 0 — {silent})", style="dim")
    return text


class NeuronScreen(Screen[None]):
    """Explain neuron i of a Linear layer on the selected sample."""

    BINDINGS = [
        Binding("right", "neuron(1)", "Neuron+", key_display="→", priority=True, id="next-neuron"),
        Binding("left", "neuron(-1)", "Neuron-", key_display="←", priority=True, id="previous-neuron"),
        Binding("right_square_bracket", "sample(1)", "Sample+", key_display="]", id="neuron-next-sample"),
        Binding("left_square_bracket", "sample(-1)", "Sample-", key_display="[", id="neuron-previous-sample"),
        Binding("escape,x", "app.pop_screen", "Back", id="close-neuron"),
    ]

    def __init__(
        self, result: TraceResult, model: nn.Module, index: int, sample: int, lock: AbstractContextManager[Any]
    ) -> None:
        super().__init__()
        self.result, self.model, self.index = result, model, index
        self.model_lock = lock  # the session's model lock: a training step never changes the weights mid-read
        record = result.layers[index]
        self.outputs = record.outputs[0].shape[-1]
        self.batch_size = record.outputs[0].shape[0]
        self.neuron, self.sample = 0, min(sample, self.batch_size - 1)

    def compose(self) -> ComposeResult:
        yield Static(id="neuron-summary")
        yield DataTable(id="neuron-terms", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#neuron-terms", DataTable).add_columns("i", "xᵢ (input)", "wᵢ (weight)", "wᵢ·xᵢ")
        self._show()

    def _show(self) -> None:
        with self.model_lock:
            got = explain_neuron(self.result, self.model, self.index, self.neuron, self.sample)
        self.query_one("#neuron-summary", Static).update(neuron_summary(got, self.outputs))
        table = self.query_one("#neuron-terms", DataTable)
        table.clear()
        for i, (x, w, p) in enumerate(zip(got.inputs, got.weights, got.products, strict=True)):
            table.add_row(str(i), f"{x:+.5f}", f"{w:+.5f}", f"{p:+.5f}")
        if got.bias is not None:
            table.add_row("b", "", f"{got.bias:+.5f}", f"{got.bias:+.5f}")
        table.add_row("z", "", "", f"{got.z:+.5f}")

    def action_neuron(self, delta: int) -> None:
        """Pick the next or previous neuron (wraps around)."""
        self.neuron = (self.neuron + delta) % self.outputs
        self._show()

    def action_sample(self, delta: int) -> None:
        """Pick the next or previous sample of the batch."""
        self.sample = max(0, min(self.batch_size - 1, self.sample + delta))
        self._show()
