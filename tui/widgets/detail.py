"""The detail panel: the selected layer's facts and the selected sample's output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
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
    from tui.core.explain.views import ClassProbabilities

BAR_WIDTH = 16
MAX_BARS = 64
MANY_CLASSES = 12  # past this many classes the table lists only the most probable (and the true one)
TOP_CLASSES = 10
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
    """A bar on a centre line: negative values grow to the left of ``│``, positive ones to the right.

    The sign reads from the shape, without colour (NO_COLOR, a colour-blind reader).
    """
    half = BAR_WIDTH // 2
    filled = 0 if scale == 0 else round(abs(value) / scale * half)
    if value < 0:
        return ("█" * filled).rjust(half) + "│" + " " * half
    return " " * half + "│" + ("█" * filled).ljust(half)


def _position_hint(view: SampleView) -> str:
    return f"position {view.position} of {view.positions}; , . move" if view.positions > 1 else view.note


def neuron_bars(view: SampleView) -> Text:
    """One bar per neuron (or a heat strip when there are many); the activated value beside it."""
    text = Text()
    note = _position_hint(view)
    count = f"{len(view.values)} value" + ("s" if len(view.values) != 1 else "")
    head = f"sample {view.sample + 1}/{view.batch}: {count}" + (f" ({note})" if note else "")
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


def prediction_lines(view: SampleView, colour: bool = True) -> Text:
    """Above the class table: the position of a sequence, one output's reading, the truth and any note.

    Right and wrong are told by ✓ and ✗ (and "predicted ..." beside a wrong one), not by colour; with
    ``colour`` false (NO_COLOR) they are only bold: a red ✗ turned grey would be hard to see.
    """
    classes = view.classes
    text = Text()
    if classes is None:
        return text
    lines: list[Text] = []
    if view.positions > 1:
        lines.append(Text(f"at position {view.position} of {view.positions} (, . move)"))
    if classes.threshold is not None:
        value, p = classes.logits[0], classes.probabilities[1]
        reading = f"p {value:.4f}" if classes.threshold == 0.5 else f"logit {value:+.4f} → p = σ(logit) {p:.4f}"
        rule = "p > 0.5" if classes.threshold == 0.5 else "logit > 0"
        lines.append(Text(f"{reading} → class {classes.name(classes.predicted)}  ({rule} is class 1)"))
    if classes.truth is not None:
        line = Text(f"true: {classes.name(classes.truth)} ")
        if classes.truth == classes.predicted:
            line.append("✓", style="bold green" if colour else "bold")
        else:
            line.append("✗", style="bold red" if colour else "bold")
            line.append(f" (predicted {classes.name(classes.predicted)})")
        lines.append(line)
    if classes.note:
        lines.append(Text(classes.note, style="italic"))
    return Text("\n").join(lines)


def _shown_classes(view: SampleView) -> list[int]:
    """Every class; past ``MANY_CLASSES``, the ``TOP_CLASSES`` most probable (and the true one, if not among them)."""
    classes = view.classes
    assert classes is not None
    count = len(classes.probabilities)
    if count <= MANY_CLASSES:
        return list(range(count))
    ranked = sorted(range(count), key=lambda i: -classes.probabilities[i])[:TOP_CLASSES]
    return [*ranked, classes.truth] if classes.truth is not None and classes.truth not in ranked else ranked


def _marks(classes: ClassProbabilities, index: int) -> str:
    """Beside class ``index``: "predicted" (with ✓ or ✗ when the truth is known) or "true"."""
    if index == classes.predicted:
        return "predicted" + ("" if classes.truth is None else " ✓" if classes.truth == index else " ✗")
    return "true" if index == classes.truth else ""


def class_table(view: SampleView) -> Table | Text:
    """Logits -> probabilities -> predicted class (and the true one), for the model's final layer.

    Columns: class (with its name), logit (not for one output), probability, which class was predicted
    (✓ right, ✗ wrong) and which is true, then a bar; at a narrow width the bar is cut, never the words.
    """
    classes = view.classes
    if classes is None:
        return Text("")
    one_output = classes.threshold is not None
    title = "one output → class" if one_output else "logits → softmax → prediction"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    rows = []
    for i in _shown_classes(view):
        marks = _marks(classes, i)
        logit = () if one_output else (f"{classes.logits[i]:+.4f}",)
        bar = "█" * round(classes.probabilities[i] * BAR_WIDTH)
        rows.append((classes.name(i), *logit, f"{classes.probabilities[i]:.4f}", marks, bar))
    headers = ("class", "prob", "") if one_output else ("class", "logit", "prob", "")
    for n, header in enumerate(headers):  # fixed widths: only the bar (cut, not wrapped) gives way when narrow
        width = max(len(header), *(len(row[n]) for row in rows))
        table.add_column(header, justify="left" if n in (0, len(headers) - 1) else "right", width=width)
    table.add_column("", overflow="crop")
    for row in rows:
        table.add_row(*row)
    count = len(classes.probabilities)
    top = f"the {TOP_CLASSES} most probable of {count} shown; " if len(rows) < count else ""
    table.caption = f"{top}probabilities sum to {sum(classes.probabilities):.4f}"
    return table


class DetailPanel(VerticalScroll):
    """Facts about the selected layer, then the selected sample's output."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-facts")
        yield Static(id="detail-prediction")
        yield Static(id="detail-classes")
        yield Static(id="detail-values")
        yield HistogramPlot(id="detail-histogram")

    def show(self, rec: LayerRecord, view: SampleView) -> None:
        """Display ``rec`` and ``view`` (both made by the core)."""
        show_text(self.query_one("#detail-facts", Static), layer_facts(rec))
        prediction = self.query_one("#detail-prediction", Static)
        show_text(prediction, prediction_lines(view, colour=not self.app.no_color))
        prediction.display = view.classes is not None
        show_text(self.query_one("#detail-classes", Static), class_table(view))
        values = Text(view.missing, style="italic") if view.missing else neuron_bars(view)
        show_text(self.query_one("#detail-values", Static), values)
        histogram = self.query_one("#detail-histogram", HistogramPlot)
        histogram.display = bool(view.histogram)
        histogram.show_histogram(view.histogram, f"values of sample {view.sample + 1}")
