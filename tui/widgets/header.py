"""The explorer's header line: what was traced, or what the model's code is still doing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from tui.text import human_count, spec_text

if TYPE_CHECKING:
    from tui.core.guest.threads import Activity
    from tui.core.records import TraceResult


def shown_path(source: str) -> str:
    """The model file as the user gave it; the bundled example (plain ``nnview``) by its short name."""
    bundled = os.path.abspath(Path(__file__).parents[1] / "examples")  # not resolved: the files link to models/
    if os.path.dirname(os.path.abspath(source)) == bundled:
        return f"{Path(source).name} (bundled example)"
    return source


def header_line(result: TraceResult) -> Text:
    """``SimpleNN  models/simple.py  params 147  input (4, 5) float32  cpu  [inferred from fc1 …]``."""
    text = Text()
    text.append(f"{result.model_name}  ", style="bold")
    text.append(f"{shown_path(result.source)}  params {human_count(result.totals.params)}")
    text.append(f"  input {', '.join(spec_text(spec) for spec in result.inputs)}")
    text.append(f"  {result.device}  [{result.input_origin}]", style="dim")
    return text


def still_running_line(running: Activity | None, after: float) -> Text | None:
    """``nnview  forward still running after 7 s  (q quits)  in forward() at model.py:12``.

    ``None`` when nothing of the user's is running, or it has run for less than ``after`` seconds.
    """
    if running is None or running.elapsed() < after:
        return None
    text = Text("nnview  ", style="bold")
    text.append(f"{running.doing} still running after {running.elapsed():.0f} s", style="yellow")
    text.append("  (q quits)", style="dim")  # before the location: a narrow terminal cuts the end off
    found = running.where()
    if found is not None:
        text.append(f"  in {found[1]}() at {found[0]}")
    return text
