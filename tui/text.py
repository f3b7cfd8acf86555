"""Plain-text formatting of core records, shared by the report and the TUI widgets."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size

from tui.core.records import LayerRecord, ModeDependentLayer, TensorSpec, TraceResult


def human_count(value: int) -> str:
    """``1234567`` -> ``1.23M``; small numbers as they are."""
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:,}"


def human_bytes(value: int) -> str:
    """``2048`` -> ``2.0 KiB``."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def compact_shape(shape: tuple[int, ...]) -> str:
    """``(4, 1, 28, 28)`` written tight for tables: ``(4,1,28,28)``."""
    return "(" + ",".join(str(d) for d in shape) + ")"


def compact_spec(spec: TensorSpec) -> str:
    """A tensor in a tight spot (the explorer's detail line): ``(4,5) float32``."""
    return f"{compact_shape(spec.shape)} {spec.dtype}"


def spec_text(spec: TensorSpec) -> str:
    """A tensor in prose: ``(4, 5) float32`` (the shape as Python writes a tuple)."""
    return f"{spec.shape_text()} {spec.dtype}"


@dataclass(frozen=True)
class LayerCells:
    """One layer call's cells as plain text: what the summary report and the explorer's table both show.

    Attributes:
        name: the last part of the module's name (the parent row is above), ``#2`` on a second call.
        type: the module's class name.
        inputs: one compact shape per input tensor; empty when there is none.
        weight: the weight's compact shape, or ``-``.
        outputs: the output's shapes, under its type name when it is an object (``Normal``).
        activation: the activation folded into this row, or ``-``.
        params: the parameter count (``*`` when tied), or ``-``.
        macs: the multiply-accumulates, or ``-``.
    """

    name: str
    type: str
    inputs: tuple[str, ...]
    weight: str
    outputs: tuple[str, ...]
    activation: str
    params: str
    macs: str


def layer_cells(rec: LayerRecord) -> LayerCells:
    """The cells of ``rec``'s row; each display joins the multi-shape cells its own way."""
    local = rec.name.rsplit(".", 1)[-1] if rec.name else rec.type
    outputs = tuple(compact_shape(spec.shape) for spec in rec.outputs)
    return LayerCells(
        name=f"{local} #{rec.call + 1}" if rec.call else local,
        type=rec.type,
        inputs=tuple(compact_shape(spec.shape) for spec in rec.inputs),
        weight=compact_shape(rec.weight) if rec.weight is not None else "-",
        outputs=outputs if rec.output_type is None else (rec.output_type, *outputs),
        activation=rec.activation or "-",
        params=(human_count(rec.params_total) + ("*" if rec.shared else "")) if rec.params_total else "-",
        macs=human_count(rec.macs) if rec.macs else "-",
    )


def joined(lines: tuple[str, ...], separator: str) -> str:
    """A multi-shape cell as one string (``\\n`` in the report, a space in the explorer); ``-`` for none."""
    return separator.join(lines) or "-"


def visible_layers(layers: tuple[LayerRecord, ...], depth: int | None) -> list[LayerRecord]:
    """Rows at most ``depth`` deep; deeper calls are folded into their ancestors' totals."""
    return [rec for rec in layers if depth is None or rec.depth <= depth]


def exact_count(value: int) -> str:
    """``1.2M (1,234,567)``, or just ``512`` when the short form is already exact."""
    short = human_count(value)
    return short if short == f"{value:,}" else f"{short} ({value:,})"


def eval_mode_note(layers: tuple[ModeDependentLayer, ...], most: int = 3) -> str:
    """What tracing in eval mode meant for these layers, grouped: ``BatchNorm2d (bn1, bn2) uses running statistics``.

    ``most`` names shown per group; 0 names none (``BatchNorm2d uses running statistics``).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for layer in layers:
        names = groups.setdefault((layer.type, layer.in_eval), [])
        if layer.name and most:  # the root model has no name of its own: its type says it
            names.append(layer.name)
    parts = []
    for (kind, meaning), names in groups.items():
        shown = ", ".join(names[:most]) + (f", +{len(names) - most} more" if len(names) > most else "")
        parts.append(f"{kind} ({shown}) {meaning}" if shown else f"{kind} {meaning}")
    return "; ".join(parts)


def uncounted_note(ops: tuple[str, ...]) -> str:
    """``MACs are a lower bound: ...`` naming the ops whose multiply-accumulates no formula counted."""
    return f"MACs are a lower bound: the multiply-accumulates of {', '.join(ops)} are not counted (no formula)."


def trace_notes(result: TraceResult) -> list[str]:
    """Footer lines about what the counts leave out: lazy parameters, TorchScript bodies."""
    lines = []
    if result.uninitialized_params:
        names = ", ".join(result.uninitialized_params)
        lines.append(
            f"Not counted: {names} (lazy parameters forward never initialised, so they have no size yet; "
            "they count as 0)."
        )
    lines.extend(result.notes)
    return lines


def header_notes(result: TraceResult) -> list[str]:
    """The explorer's notes line: what the header's figures leave out (empty when nothing is)."""
    notes = []
    if result.macs_uncounted:  # never a silent short total: say it is a floor, and why
        uncounted = ", ".join(result.macs_uncounted)
        notes.append(f"MACs at least {human_count(result.totals.macs)} (a lower bound: no formula for {uncounted})")
    if result.mode_dependent:
        notes.append(f"traced in eval mode: {eval_mode_note(result.mode_dependent, most=0)}")
    return notes + trace_notes(result)


def cells(text: str) -> int:
    """Terminal cells ``text`` takes; ASCII (nearly every cell) without Rich's per-character lookup."""
    return len(text) if text.isascii() else cell_len(text)


def cut_left(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, cut from the left: ``  …relu_stack`` keeps its indentation and its end.

    The end of a name is what tells siblings apart (``conv1``, ``conv2``; ``relu #2``). When the indentation
    leaves no room for ``…`` and a character, it goes too.
    """
    if cells(text) <= width:
        return text
    body = text.lstrip(" ")
    indent = len(text) - len(body)
    if width - indent < 2:
        indent = 0
    tail = width - indent - 1
    if tail <= 0:
        return "…"[:width]
    end = body[-tail:] if body.isascii() else set_cell_size(body[::-1], tail)[::-1]
    return " " * indent + "…" + end


# Where a long line may break, the strongest first: between clauses, before a parenthesis set off by
# two spaces, between list items, between words.
_BREAKS = ("; ", "  ", ", ", " ")


def fold_line(line: str, width: int, indent: str = "  ") -> list[str]:
    """``line`` as lines of at most ``width`` cells, each continuation indented by ``indent``.

    Each break is made at the strongest kind of boundary (see ``_BREAKS``) that leaves a first line
    that fits, as late in the line as it can: ``Params: ... non-trainable 0);`` then ``parameter
    memory 97.5 MiB`` rather than ``parameter memory`` then ``97.5 MiB``. A word wider than the line
    stays whole on a line of its own (the terminal folds it).
    """
    lines: list[str] = []
    while cells(line) > width:
        start = len(indent) if lines else 0  # a continuation's own indentation is no place to break
        cut = _last_break(line, width, start)
        if cut is None:
            break
        head, tail = cut
        lines.append(line[:head])
        line = indent + line[tail:]
    return [*lines, line]


def _last_break(line: str, width: int, start: int) -> tuple[int, int] | None:
    """Where ``line`` is best broken: (end of the first line, start of the rest), or None when it cannot be."""
    for separator in _BREAKS:
        kept = separator.rstrip(" ")  # "; " keeps its ";" on the first line
        at = line.rfind(separator, start)
        while at > start and cells(line[: at + len(kept)]) > width:
            at = line.rfind(separator, start, at)
        if at > start:
            return at + len(kept), at + len(separator)
    at = line.find(" ", start + 1)  # a word wider than the line: it stays whole, the rest goes below
    return (at, at + 1) if at > start else None
