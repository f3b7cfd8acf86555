"""The watched run in lines of text: the header, the figures under it, the warnings, the ranks, one layer."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text

from tui.core.runs.notes import duration_text, loss_spread
from tui.core.runs.state import LayerSample, RankState, RunState
from tui.text import compact_shape, human_count

STATUS_WORDS = {
    "waiting": "waiting for the first step",
    "running": "running",
    "paused": "paused",
    "stopped": "stopped",
    "closed": "finished",
    "error": "failed",
}
# The layer view's rows: label, LayerSample field, format (fractions are shown as percentages).
FIGURES = (
    ("mean (act)", "mean", "{:.3g}"),
    ("std (act)", "std", "{:.3g}"),
    ("zero %", "zero_frac", ""),
    ("dead %", "dead_frac", ""),
    ("saturated %", "saturated_frac", ""),
    ("grad norm", "grad_norm", "{:.3g}"),
    ("update/weight", "update_ratio", "{:.3g}"),
)
SHOW_AGE_AFTER = 2.0  # seconds: a run stepping faster than this shows no "last step … ago" (it would tick)


def number(value: float | None, fmt: str = "{:.4g}") -> str:
    """A figure for reading: ``-`` for none, ``nan`` / ``inf`` as such."""
    if value is None:
        return "-"
    return fmt.format(value) if math.isfinite(value) else str(value)


def header_text(state: RunState, now: float) -> Text:
    """``digits  train.py  2 ranks  running  step 310  12 steps/s  last step 42 s ago``."""
    run = state.run or {}
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{state.name}  ", style="bold")
    script = run.get("script")
    if isinstance(script, str) and script:
        text.append(f"{script}  ")
    framework = run.get("framework")
    if isinstance(framework, str) and framework not in ("", "torch"):
        text.append(f"({framework})  ")
    world = state.world_size
    text.append(f"{world} rank{'s' if world != 1 else ''}  ")
    status = state.status
    style = {"running": "bold green", "error": "bold red", "paused": "bold yellow"}.get(status, "bold")
    text.append(STATUS_WORDS.get(status, status), style=style)
    steps = max((rank.steps for rank in state.ranks.values()), default=0)
    if steps:
        text.append(f" after {steps} steps" if state.finished else f"  step {steps}")
    rate = state.steps_per_second()
    if status == "running" and rate is not None:
        text.append(f"  {rate:.3g} steps/s")
    age = state.seconds_since_last_step(now)
    if status in ("running", "waiting") and age is not None and age >= SHOW_AGE_AFTER:
        text.append(f"  last step {duration_text(age)} ago", style="bold yellow")
    return text


def facts_text(state: RunState) -> Text:
    """``loss 0.412 (ranks 0.40–0.43 at step 310)  accuracy 0.91  grad norm 0.98``, and for a framework that
    clips (Hugging Face), its own norm before clipping, labelled, beside the layers' norm after it."""
    first = state.first_rank()
    text = Text()
    if first is None or first.last_loss is None:
        return text
    text.append(f"loss {number(first.last_loss)}")
    spread = loss_spread(state)
    if len(state.ranks) > 1:
        text.append(f" (rank {first.rank})")
    if spread is not None:
        step, low, high = spread
        text.append(f", ranks {number(low)}–{number(high)} at step {step}")
    for name, series in sorted(first.metrics.items()):
        if series.points:
            text.append(f"  {name} {number(series.points[-1][1])}")
    trainer_norm = first.log.get("grad_norm")
    sample = first.layers
    if sample is not None and sample.grad_norm is not None:
        label = "layers' grad norm, after clipping" if trainer_norm is not None else "grad norm"
        text.append(f"  {label} {number(sample.grad_norm, '{:.3g}')}")
    if trainer_norm is not None:
        text.append(f"  trainer grad norm, before clipping {number(trainer_norm, '{:.3g}')}")
    return text


def warnings_text(lines: list[str], most: int = 3) -> Text:
    """One ⚠ line per warning (cut at the screen's edge, never wrapped), at most ``most`` lines; the last
    says how many more there are and where to read them whole."""
    text = Text(no_wrap=True, overflow="ellipsis")
    shown = lines if len(lines) <= most else lines[: most - 1]
    for line in shown:
        text.append(f"⚠ {line}\n", style="bold red")
    if len(shown) < len(lines):
        more = len(lines) - len(shown)
        text.append(f"⚠ +{more} more: r shows the ranks, enter the selected layer (⚠ in the table)\n", style="red")
    text.rstrip()
    return text


def ranks_text(state: RunState, now: float, notes: dict[int, str]) -> Text:
    """One line per rank: step, loss, state, time since its last step, steps/s, device; its note under it."""
    text = Text()
    text.append(f"{'rank':>4}  {'step':>7}  {'loss':>9}  {'state':<8}  {'last step':>9}  {'steps/s':>7}  device\n")
    for rank in sorted(state.ranks.values(), key=lambda r: r.rank):
        age = rank.seconds_since_last_step(now) if rank.state == "running" else None  # a stopped rank's age only ticks
        line = (
            f"{rank.rank:>4}  {rank.steps:>7}  {number(rank.last_loss):>9}  {rank.state:<8}  "
            f"{duration_text(age) if age is not None else '-':>9}  {number(rank.steps_per_second(), '{:.3g}'):>7}  "
            f"{rank.device or '-'}\n"
        )
        note = notes.get(rank.rank)
        text.append(line, style="bold red" if note else "")
        if note:
            text.append(f"      ⚠ rank {rank.rank} {note}\n", style="bold red")
        elif rank.state == "error" or rank.message:
            text.append(f"      {rank.message}\n")
    if not state.ranks:
        text.append("no rank has written a line yet\n", style="dim")
    text.rstrip()
    return text


def layer_text(row: dict[str, Any] | None, ranks: list[RankState], hint: str, width: int = 44) -> Text:
    """The selected layer: what it is, then each rank's latest statistics for it, then its warning."""
    text = Text()
    if row is None:
        return Text("No layer selected.", style="dim")
    name = str(row.get("name") or row.get("type") or "model")
    text.append(f"{name}  {row.get('type', '')}\n", style="bold")
    outputs = row.get("outputs")
    if isinstance(outputs, list) and outputs:
        shapes = " ".join(compact_shape(tuple(s)) for s in outputs if isinstance(s, list))
        text.append(f"output {shapes}  ")
    params, macs = row.get("params_total"), row.get("macs")
    text.append(f"params {human_count(params) if isinstance(params, int) else '-'}  ")
    text.append(f"MACs {human_count(macs) if isinstance(macs, int) else '-'}")
    if row.get("activation"):
        text.append(f"  then {row['activation']}")
    text.append("\n\n")
    samples = [(rank, _sample(rank, str(row.get("name") or ""))) for rank in ranks]
    shown = [(rank, sample, step) for rank, (sample, step) in samples if sample is not None]
    if not shown:
        text.append("No statistics for this layer yet (the probe samples weighted layers every few steps).", "dim")
        return text
    sampled = list(shown)
    fits = max(1, (width - 15) // 10)  # rank columns beside the figure names
    if len(shown) > fits:
        shown = shown[: fits - 1] if fits > 1 else shown[:1]
    text.append(f"{'':<14}" + "".join(f"{'rank ' + str(rank.rank):>10}" for rank, _, _ in shown) + "\n", "bold")
    text.append(f"{'at step':<14}" + "".join(f"{step:>10}" for _, _, step in shown) + "\n")
    for label, figure, fmt in FIGURES:
        values = [getattr(sample, figure) for _, sample, _ in shown]
        if figure.endswith("_frac"):
            cells = [_percent(v) for v in values]
        else:
            cells = [number(v, fmt) for v in values]
        text.append(f"{label:<14}" + "".join(f"{cell:>10}" for cell in cells) + "\n")
    if len(sampled) > len(shown):
        text.append(f"(+{len(sampled) - len(shown)} more ranks: a wider terminal shows them)\n", "dim")
    if hint:
        text.append(f"\n⚠ {hint}", style="bold red")
    text.rstrip()
    return text


def _sample(rank: RankState, name: str) -> tuple[LayerSample | None, int]:
    if rank.layers is None:
        return None, 0
    return rank.layers.by_name().get(name), rank.layers.step


def _percent(value: float | None) -> str:
    return number(None if value is None else value * 100, "{:.0f}")
