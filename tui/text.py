"""Plain-text formatting of core records, shared by the report and the TUI widgets."""

from __future__ import annotations

from tui.core.records import LayerRecord, TensorSpec


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
