"""Redraw a text widget only when what it shows changed, and relayout it only when it must grow.

While training, the screen is told the same header and the same facts several times a second, and
a status line and health lines whose height wobbles (a warning line comes and goes). ``Static.update``
repaints and relayouts every time, and a relayout of the side panel sends all of it back to the
terminal. Over SSH that is the bandwidth a learner waits on.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widgets import Static

_SHOWN = "_nnview_shown"
_ROWS = "_nnview_rows"


def show_text(widget: Static, content: RenderableType, *, grow_only: bool = False) -> None:
    """Show ``content`` in ``widget``: nothing if it shows that text already; a relayout only if its height changes.

    Args:
        widget: the text widget (``height: auto``).
        content: what it should show (a ``Text`` that equals the shown one is skipped).
        grow_only: keep the widget's height while the new content fits in it (a shorter one leaves
            blank rows under it); relayout only when it needs more rows. For lines that change
            several times a second; :func:`release_height` lets the widget shrink again.
    """
    if isinstance(content, str):
        content = Text(content)
    if isinstance(content, Text) and getattr(widget, _SHOWN, None) == content:
        return
    setattr(widget, _SHOWN, content if isinstance(content, Text) else None)
    size = widget.content_size
    if size.width <= 0:  # not laid out yet: let the layout measure it
        widget.update(content)
        return
    widget.update(content, layout=False)
    rows = widget.get_content_height(size, size, size.width)  # Textual's own measure, wrapping included
    if grow_only:
        if rows > getattr(widget, _ROWS, 0):
            setattr(widget, _ROWS, rows)
            widget.styles.height = rows  # a style change relayouts the screen once
    elif rows != size.height:
        widget.refresh(layout=True)


def release_height(widget: Static) -> None:
    """Let a ``grow_only`` widget take its content's own height again."""
    setattr(widget, _ROWS, 0)
    widget.styles.height = "auto"
