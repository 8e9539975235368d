"""Colours that survive SSH (256-colour palette indices) and NO_COLOR (glyphs carry meaning).

plotext takes the same 0-255 indices, so a run has one colour in every pane.
"""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color
from rich.style import Style

# Distinct on dark backgrounds; red is kept for "diverged".
RUN_COLORS = (39, 208, 41, 205, 220, 141, 51, 118, 214, 105, 168, 86)
DIVERGED = 196
GUIDE = 244
# Sequential ramp for shaded maps, low f dark: greys, so every run's colour stands out on it;
# neighbouring bands differ by one step, so valleys read like contours.
RAMP = tuple(range(233, 249))
# Heat strips have nothing drawn over them: a colour ramp (dark blue -> teal -> sand) reads best.
HEAT_RAMP = (17, 18, 19, 20, 25, 24, 30, 31, 37, 36, 72, 108, 144, 180, 186, 229)
# Class colours for decision regions (background, dim) and points (foreground, bright).
CLASS_BG = (24, 52, 22, 53, 58, 23)
CLASS_FG = (45, 203, 83, 213, 227, 87)
# NO_COLOR: density ramp for shading, digits for runs.
ASCII_RAMP = " .:-=+*#%@"
CLASS_GLYPHS = "ox+*#%"


def run_color(i: int) -> int:
    return RUN_COLORS[i % len(RUN_COLORS)]


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
