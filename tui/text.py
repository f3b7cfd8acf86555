"""Plain-text formatting of core records, shared by the report and the TUI widgets."""

from __future__ import annotations

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


def shapes_text(specs: tuple[TensorSpec, ...]) -> str:
    """Every shape on its own line; a dash for none."""
    return "\n".join(compact_shape(spec.shape) for spec in specs) or "-"


def output_text(rec: LayerRecord) -> str:
    """The Output cell: the shapes, under the output's type when it is an object (``Normal``, a dataclass)."""
    if rec.output_type is None:
        return shapes_text(rec.outputs)
    return "\n".join([rec.output_type, *(compact_shape(spec.shape) for spec in rec.outputs)])


def row_label(rec: LayerRecord) -> str:
    """The tree cell: indentation by depth, then the last part of the name (the parent row is above)."""
    local = rec.name.rsplit(".", 1)[-1] if rec.name else rec.type
    return "  " * rec.depth + (f"{local} #{rec.call + 1}" if rec.call else local)


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
