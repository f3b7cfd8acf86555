"""The feature-map view: each channel of a layer's output as a small image, the sample's input image beside them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from torch import nn

from tui.core.explain.conv import FeatureMap, FeatureMaps, feature_maps
from tui.core.records import TraceResult

RAMP = " .:-=+*#%@"  # dark to bright, for NO_COLOR: one character per value
GAP = 2  # columns between tiles
NOT_FINITE = Style(color="rgb(255,0,255)")  # NaN and infinities, in colour


def short(value: float) -> str:
    """A value in at most six characters: ``+0.75``, ``-12.3``, ``+1e+04``."""
    for digits in (2, 1, 0):
        text = f"{value:+.{digits}f}"
        if len(text) <= 6 - (digits == 2):
            return text
    return f"{value:+.0e}"


def _fraction(value: float, low: float, high: float) -> float:
    return 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))


def colour(value: float, low: float, high: float) -> str:
    """Warm for positive, blue for negative, black at zero (or, when all are one sign, at the value nearest it)."""
    if low < 0 < high:
        t = max(-1.0, min(1.0, value / max(-low, high)))
    elif high <= 0:
        t = -_fraction(-value, -high, -low)
    else:
        t = _fraction(value, low, high)
    if t < 0:
        return f"rgb({round(60 * -t)},{round(140 * -t)},{round(255 * -t)})"
    return f"rgb({round(255 * t)},{round(160 * t)},{round(40 * t)})"


def _cell_colour(cells: Sequence[float], lows: Sequence[float], highs: Sequence[float]) -> str | None:
    """One pixel's colour: grey or signed for one channel, RGB for three; ``None`` for NaN."""
    if not all(math.isfinite(v) for v in cells):
        return None
    if len(cells) == 3:
        r, g, b = (round(255 * _fraction(v, lo, hi)) for v, lo, hi in zip(cells, lows, highs, strict=True))
        return f"rgb({r},{g},{b})"
    return colour(cells[0], lows[0], highs[0])


def _grey(cells: Sequence[float], lows: Sequence[float], highs: Sequence[float]) -> str | None:
    """The input image: grey from its lowest to its highest value (RGB as it is); ``None`` for NaN."""
    if len(cells) == 3 or not math.isfinite(cells[0]):
        return _cell_colour(cells, lows, highs)
    grey = round(255 * _fraction(cells[0], lows[0], highs[0]))
    return f"rgb({grey},{grey},{grey})"


def _cell_char(cells: Sequence[float], low: float, high: float) -> str:
    if not all(math.isfinite(v) for v in cells):
        return "?"
    value = cells[0] if len(cells) == 1 else 0.299 * cells[0] + 0.587 * cells[1] + 0.114 * cells[2]
    return RAMP[round(_fraction(value, low, high) * (len(RAMP) - 1))]


def image_lines(
    planes: Sequence[FeatureMap], zoom: int, plain: bool, scale: tuple[float, float] | None, grey: bool = False
) -> list[Text]:
    """A map (or an RGB image: three planes) as text: half blocks ▀ in colour, the ``RAMP`` when ``plain``.

    Each value takes ``zoom`` columns and ``zoom`` half rows (in plain text, whole rows: half of ``zoom``,
    rounded up), so it is about as tall as it is wide.
    ``scale``: the (low, high) to shade by; ``None``: each plane's own range. ``grey``: the input image,
    shaded black to white (a map: by sign).
    """
    shade = _grey if grey else _cell_colour
    lows = [scale[0] if scale else p.low for p in planes]
    highs = [scale[1] if scale else p.high for p in planes]
    rows = [
        [tuple(p.values[y][x] for p in planes) for x in range(len(planes[0].values[y])) for _ in range(zoom)]
        for y in range(len(planes[0].values))
        for _ in range(zoom if not plain else (zoom + 1) // 2)
    ]
    if plain:
        low, high = min(lows), max(highs)
        return [Text("".join(_cell_char(cells, low, high) for cells in row)) for row in rows]
    lines = []
    for top, bottom in zip(rows[::2], [*rows[1::2], None], strict=False):
        line = Text()
        for x, cells in enumerate(top):
            fg = shade(cells, lows, highs)
            bg = shade(bottom[x], lows, highs) if bottom is not None else None
            line.append("▀", NOT_FINITE if fg is None else Style(color=fg, bgcolor=bg))
        lines.append(line)
    return lines


def tile(
    label: str,
    planes: Sequence[FeatureMap],
    zoom: int,
    plain: bool,
    scale: tuple[float, float] | None,
    grey: bool = False,
) -> list[Text]:
    """A label, the image, and the range of its values, padded to one width."""
    low, high = min(p.low for p in planes), max(p.high for p in planes)
    image = image_lines(planes, zoom, plain, scale, grey)
    lines = [Text(label, style="bold"), *image, Text(f"{short(low)} {short(high)}")]
    width = max(line.cell_len for line in lines)
    for line in lines:
        line.pad_right(width - line.cell_len)
    return lines


def layout(tiles: Sequence[list[Text]], width: int) -> list[Text]:
    """Tiles in rows of as many as fit ``width``, a blank line between rows."""
    tile_width = max(t[0].cell_len for t in tiles)
    per_row = max(1, (width + GAP) // (tile_width + GAP))
    out: list[Text] = []
    for start in range(0, len(tiles), per_row):
        row = tiles[start : start + per_row]
        if out:
            out.append(Text())
        for i in range(max(len(t) for t in row)):
            line = Text()
            for t in row:
                line.append_text(t[i] if i < len(t) else Text(" " * t[0].cell_len))
                line.append(" " * GAP)
            line.rstrip()
            out.append(line)
    return out


def beside(left: list[Text], right: list[Text]) -> list[Text]:
    """Two blocks of lines next to each other."""
    width = max((line.cell_len for line in left), default=0)
    lines = []
    for i in range(max(len(left), len(right))):
        line = left[i].copy() if i < len(left) else Text()
        line.pad_right(width + GAP * 2 - line.cell_len)
        line.append_text(right[i] if i < len(right) else Text())
        line.rstrip()
        lines.append(line)
    return lines


def maps_text(maps: FeatureMaps, width: int, height: int, plain: bool, shared: bool) -> Text:
    """The input image on the left, then every channel, each zoomed as far as it fits ``width`` x ``height``.

    The channels take zoom 1 (and scroll) when even that does not fit.
    """
    image: list[Text] = []
    for zoom in (4, 3, 2, 1) if maps.image else ():
        image = tile("input", maps.image, zoom, plain, None, grey=True)
        if (image[0].cell_len <= width // 3 and len(image) <= height) or zoom == 1:
            break
    room = width - (image[0].cell_len + GAP * 2 if image else 0)
    scale = (maps.low, maps.high) if shared else None
    for zoom in (4, 3, 2, 1):
        channels = layout([tile(f"ch {c}", [m], zoom, plain, scale) for c, m in enumerate(maps.channels)], room)
        if len(channels) <= height or zoom == 1:
            break
    return Text("\n").join(beside(image, channels))


def maps_title(maps: FeatureMaps, shared: bool) -> Text:
    """Two lines: what is shown, and how it is shaded."""
    channels, h, w = maps.shape
    text = Text(f"{maps.layer}  {channels} channels of {h}×{w}  sample {maps.sample + 1} of {maps.batch}", style="bold")
    if maps.activation is not None:
        text.append(f"  {'after' if maps.activated else 'before'} {maps.activation} (a)")
    scale = f"one scale {short(maps.low)} … {short(maps.high)}" if shared else "each channel its own range"
    text.append(f"\nshading: {scale} (s)")
    if maps.step > 1:
        text.append(f"; each cell averages {maps.step}×{maps.step} values")
    return text


def legend(maps: FeatureMaps, plain: bool) -> Text:
    """What the shades mean, and where the input image comes from (one short line)."""
    if plain:
        text = Text(f"'{RAMP[0]}' lowest … '{RAMP[-1]}' highest, '?' NaN", style="dim")
    else:
        text = Text("black 0, ", style="dim")
        text.append("orange +", style="rgb(255,160,40)")
        text.append(", ", style="dim")
        text.append("blue −", style="rgb(60,140,255)")
    if maps.image:
        text.append(f"; input as {maps.image_source} saw it", style="dim")
    return text


class FeatureMapScreen(Screen[None]):
    """Every channel of a 4-D layer output for the selected sample, as small images."""

    BINDINGS = [
        Binding("right_square_bracket", "sample(1)", "Sample+", key_display="]", id="maps-next-sample"),
        Binding("left_square_bracket", "sample(-1)", "Sample-", key_display="[", id="maps-previous-sample"),
        Binding("a", "activation", "Activation", id="maps-activation"),
        Binding("s", "scale", "Scale", id="maps-scale"),
        Binding("escape,m", "app.pop_screen", "Back", id="close-maps"),
    ]

    def __init__(
        self, result: TraceResult, model: nn.Module, index: int, sample: int, lock: AbstractContextManager[Any]
    ) -> None:
        super().__init__()
        self.result, self.model, self.index = result, model, index
        self.model_lock = lock  # reads no weights; kept for the same constructor as the other views
        self.activated, self.shared = False, True
        self.maps = feature_maps(result, index, sample)
        self.sample = self.maps.sample

    def compose(self) -> ComposeResult:
        yield Static(id="maps-title")
        with VerticalScroll(id="maps-body"):
            yield Static(id="maps-grid")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self.call_after_refresh(self._show)  # again once the body has its size

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        self.maps = feature_maps(self.result, self.index, self.sample, self.activated)
        self.query_one("#maps-title", Static).update(maps_title(self.maps, self.shared))
        body = self.query_one("#maps-body", VerticalScroll)
        width, height = body.size if body.size.width else (self.app.size.width, self.app.size.height - 3)
        plain = self.app.no_color
        key = legend(self.maps, plain)
        grid = maps_text(self.maps, width - 1, height - 2 - key.cell_len // width, plain, self.shared)
        self.query_one("#maps-grid", Static).update(Text("\n\n").join([grid, key]))

    def action_sample(self, delta: int) -> None:
        """Show the next or previous sample of the batch."""
        self.sample = max(0, min(self.maps.batch - 1, self.sample + delta))
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``a`` only for a layer an activation follows."""
        return not (action == "activation" and self.maps.activation is None)

    def action_activation(self) -> None:
        """Switch between the layer's own output and the output after the activation that follows it."""
        self.activated = not self.activated
        self._show()

    def action_scale(self) -> None:
        """Shade every channel on one scale, or each by its own range."""
        self.shared = not self.shared
        self._show()
