"""The detail panel: the selected layer's facts and the selected sample's output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.core.records import LayerRecord, OutputStats
from tui.text import compact_shape, compact_spec, exact_count
from tui.widgets.plots import HistogramPlot
from tui.widgets.redraw import show_text

if TYPE_CHECKING:  # sample_view imports torch; this panel only reads the views the explorer hands it
    from tui.core.explain.sample_view import SampleView

BAR_WIDTH = 16
MAX_BARS = 64
SHADES = " ▁▂▃▄▅▆▇█"


def layer_facts(rec: LayerRecord) -> Text:
    """Shapes, parameters, activation, MACs and batch statistics (before and after the activation)."""
    text = Text()
    text.append(f"{rec.name or rec.type}  ", style="bold")
    text.append(f"{rec.type}" + (f"  call {rec.call + 1}" if rec.call else "") + "\n")
    inputs = " ".join(compact_spec(s) for s in rec.inputs) or "-"
    outputs = " ".join(compact_spec(s) for s in rec.outputs) or "-"
    text.append(f"{inputs} → {outputs}\n")
    if rec.weight is not None:
        bias = compact_shape(rec.bias) if rec.bias is not None else "none"
        text.append(f"weight {compact_shape(rec.weight)} bias {bias}  ")
    shared = f" ({rec.shared:,} shared)" if rec.shared else ""
    text.append(f"params {rec.params_total:,}{shared}  MACs {exact_count(rec.macs)}  act {rec.activation or '-'}\n")
    if rec.stats is not None:
        text.append("batch: " + _stats_text(rec.stats))
    if rec.activated_stats is not None:  # what the table shows for this row
        text.append(f"\nafter {rec.activation}: " + _stats_text(rec.activated_stats))
    return text


def _stats_text(s: OutputStats) -> str:
    return (
        f"mean {s.mean:.3g} std {s.std:.3g} min {s.min:.3g} max {s.max:.3g} "
        f"zero {s.zero_frac:.0%} non-finite {s.nonfinite_frac:.0%}"
    )


def _bar(value: float, scale: float) -> str:
    filled = 0 if scale == 0 else round(abs(value) / scale * BAR_WIDTH)
    return ("█" * filled).ljust(BAR_WIDTH)


def neuron_bars(view: SampleView) -> Text:
    """One bar per neuron (or a heat strip when there are many); the activated value beside it."""
    text = Text()
    head = f"sample {view.sample + 1}/{view.batch}: {len(view.values)} values" + (
        f" ({view.note})" if view.note else ""
    )
    text.append(head + "\n", style="bold")
    if not view.values:
        return text
    scale = max(abs(v) for v in view.values) or 1.0
    if len(view.values) > MAX_BARS:
        low, high = min(view.values), max(view.values)
        span = (high - low) or 1.0
        strip = "".join(SHADES[round((v - low) / span * (len(SHADES) - 1))] for v in view.values)
        text.append(f"heat strip, {low:.3g} (blank) to {high:.3g} (█):\n{strip}\n")
        return text
    after = view.activated
    for i, value in enumerate(view.values):
        text.append(f"{i:>3} ")
        text.append(_bar(value, scale), style="green" if value >= 0 else "red")
        text.append(f" {value:+.4f}")
        if after is not None:
            text.append(f"  → {after[i]:.4f}", style="dim" if after[i] == 0 else "")
        text.append("\n")
    return text


def class_table(view: SampleView) -> Table | Text:
    """Logits -> softmax probabilities -> predicted class, for the model's final layer."""
    classes = view.classes
    if classes is None:
        return Text("")
    table = Table(title="logits → softmax → prediction", show_edge=False, pad_edge=False)
    for column in ("class", "logit", "probability", ""):
        table.add_column(column, justify="right" if column != "" else "left")
    for i, (logit, prob) in enumerate(zip(classes.logits, classes.probabilities, strict=True)):
        mark = "◀ predicted" if i == classes.predicted else ""
        table.add_row(str(i), f"{logit:+.4f}", f"{prob:.4f}", "█" * round(prob * 20) + " " + mark)
    table.caption = f"probabilities sum to {sum(classes.probabilities):.4f}"
    return table


class DetailPanel(VerticalScroll):
    """Facts about the selected layer, then the selected sample's output."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-facts")
        yield Static(id="detail-classes")
        yield Static(id="detail-values")
        yield HistogramPlot(id="detail-histogram")

    def show(self, rec: LayerRecord, view: SampleView) -> None:
        """Display ``rec`` and ``view`` (both made by the core)."""
        show_text(self.query_one("#detail-facts", Static), layer_facts(rec))
        show_text(self.query_one("#detail-classes", Static), class_table(view))
        values = Text(view.missing, style="italic") if view.missing else neuron_bars(view)
        show_text(self.query_one("#detail-values", Static), values)
        histogram = self.query_one("#detail-histogram", HistogramPlot)
        histogram.display = bool(view.histogram)
        histogram.show_histogram(view.histogram, f"values of sample {view.sample + 1}")
