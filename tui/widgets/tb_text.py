"""The TensorBoard view in lines of text: the header, the warnings, the help's key table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType

from tui.core.tensorboard.reader import TensorBoardState


def age_text(seconds: float) -> str:
    """``12 s``, ``4 min``, ``3 h``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.0f} h"


def header_text(path: Path, state: TensorBoardState | None, run_name: str | None, now: float) -> Text:
    """``TensorBoard  3 runs, showing a  14 tags  newest 2 s ago  logs``: the folder last (a long one is cut)."""
    header = Text(no_wrap=True, overflow="ellipsis")
    header.append("TensorBoard  ", style="bold")
    if state is None:
        header.append(f"reading {path} …")
        return header
    count = len(state.runs)
    header.append(f"{count} run{'s' if count != 1 else ''}")
    if run_name is not None and count > 1:
        header.append(", showing ")
        header.append(run_name, style="bold")
    header.append(f"  {state.tags} tags")
    newest = max((w for run in state.runs.values() if (w := run.last_wall_time) is not None), default=None)
    if newest is not None:
        header.append(f"  newest {age_text(now - newest)} ago")
    header.append(f"  {path}")
    return header


def warnings_text(errors: Mapping[str, str], failure: str) -> Text:
    """One line per run that could not be read, and one for a poll that failed."""
    lines = [f"run {name}: could not be read: {error}" for name, error in errors.items()]
    if failure:
        lines.append(f"the folder could not be read: {failure} (trying again)")
    return Text("\n".join(lines), style="bold red")


def keys_table(bindings: Sequence[BindingType]) -> Table:
    """The help screen's table: the arrows, then every binding's key and tooltip."""
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what it does")
    table.add_row("↑/↓", "select a tag: its group is plotted (a group: the tags up to their last /)")
    for binding in bindings:
        if isinstance(binding, Binding):
            table.add_row(binding.key_display or binding.key, binding.tooltip)
    return table
