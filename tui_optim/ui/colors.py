"""Colours that survive SSH (256-colour palette indices) and NO_COLOR (glyphs carry meaning).

plotext takes the same 0-255 indices, so a run has one colour in every pane. Two palettes, one
per background: bright lines on a dark screen, deep ones on a light screen (a projector). The
app picks one at start (`use_palette`) from its Textual theme; panes ask `palette()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rich.color import Color
from rich.style import Style


@dataclass(frozen=True)
class Palette:
    runs: tuple[int, ...]       # one per run, distinct on this background; red kept for diverged
    diverged: int
    guide: int
    landmark: int               # minima and saddles marked on a map
    # Sequential ramp for shaded maps, low f first: greys, so every run's colour stands out on
    # it; neighbouring bands differ by one step, so valleys read like contours.
    ramp: tuple[int, ...]
    # Heat strips have nothing drawn over them: a colour ramp (dark blue -> teal -> sand).
    heat_ramp: tuple[int, ...]
    # Class colours for decision regions (background, muted) and points (foreground, strong).
    class_bg: tuple[int, ...]
    class_fg: tuple[int, ...]


DARK = Palette(
    runs=(39, 208, 41, 205, 220, 141, 51, 118, 214, 105, 168, 86),
    diverged=196,
    guide=244,
    landmark=231,
    ramp=tuple(range(233, 249)),
    heat_ramp=(17, 18, 19, 20, 25, 24, 30, 31, 37, 36, 72, 108, 144, 180, 186, 229),
    class_bg=(24, 52, 22, 53, 58, 23),
    class_fg=(45, 203, 83, 213, 227, 87),
)
LIGHT = Palette(
    runs=(25, 166, 28, 163, 136, 91, 30, 64, 130, 61, 125, 23),
    diverged=160,
    guide=243,
    landmark=16,
    ramp=(231, *range(255, 244, -1)),      # low f white, to mid grey: dark paths show on all
    heat_ramp=DARK.heat_ramp,
    class_bg=(153, 224, 194, 225, 230, 159),
    class_fg=(19, 124, 22, 90, 94, 23),
)

# NO_COLOR: density ramp for shading, digits for runs.
ASCII_RAMP = " .:-=+*#%@"
CLASS_GLYPHS = "ox+*#%"

_current = [DARK]


def use_palette(light: bool) -> None:
    """Called once by the app, before any pane draws."""
    _current[0] = LIGHT if light else DARK


def palette() -> Palette:
    return _current[0]


def run_color(i: int) -> int:
    runs = _current[0].runs
    return runs[i % len(runs)]


def run_glyph(i: int) -> str:
    """A run's mark when colour is off: its number, as in the legend."""
    return str((i + 1) % 10)


@lru_cache(maxsize=4096)
def style(fg: int | None = None, bg: int | None = None, bold: bool = False) -> Style:
    return Style(
        color=Color.from_ansi(fg) if fg is not None else None,
        bgcolor=Color.from_ansi(bg) if bg is not None else None,
        bold=bold or None,
    )


def rich_color(i: int) -> str:
    return f"color({i})"
