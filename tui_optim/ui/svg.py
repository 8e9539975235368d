"""The screen as an SVG that looks the same in any viewer, offline.

Textual's own export names a web font and lets each run of text flow at that font's advance:
offline, braille and box-drawing glyphs come from fallback fonts of other widths and the plot
frames drift. Here nothing depends on a font's metrics:
- every glyph is centred in its own cell (an `x` per character, each anchored at its middle);
- braille cells (the plots' dots) are drawn as dots, box-drawing lines as strokes and block
  elements (the maps' half blocks) as rectangles, all on the cell grid;
- only ordinary text uses a font: a local monospace stack, no network.
"""

from __future__ import annotations

import io
from html import escape
from typing import Iterable

from rich.cells import cell_len
from rich.color import Color, ColorType
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import SVG_EXPORT_THEME, TerminalTheme

CELL_W, CELL_H = 10, 20          # px per cell: a 1:2 cell, as terminals draw them
FONT_SIZE = 16
FONTS = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, 'Courier New', monospace"
THIN, THICK = 1.5, 3.0           # line widths of light and heavy box strokes, px

# Arms of box-drawing glyphs: (left, right, up, down), each 0 none, 1 light, 2 heavy.
_BOX: dict[str, tuple[int, int, int, int]] = {}
for _chars, _arms in (
    ("─╌┄┈", (1, 1, 0, 0)), ("━╍┅┉", (2, 2, 0, 0)), ("│╎┆┊", (0, 0, 1, 1)), ("┃╏┇┋", (0, 0, 2, 2)),
    ("┌╭", (0, 1, 0, 1)), ("┐╮", (1, 0, 0, 1)), ("└╰", (0, 1, 1, 0)), ("┘╯", (1, 0, 1, 0)),
    ("┏", (0, 2, 0, 2)), ("┓", (2, 0, 0, 2)), ("┗", (0, 2, 2, 0)), ("┛", (2, 0, 2, 0)),
    ("├", (0, 1, 1, 1)), ("┤", (1, 0, 1, 1)), ("┬", (1, 1, 0, 1)), ("┴", (1, 1, 1, 0)),
    ("┼", (1, 1, 1, 1)), ("┣", (0, 2, 2, 2)), ("┫", (2, 0, 2, 2)), ("┳", (2, 2, 0, 2)),
    ("┻", (2, 2, 2, 0)), ("╋", (2, 2, 2, 2)),
    ("╴", (1, 0, 0, 0)), ("╵", (0, 0, 1, 0)), ("╶", (0, 1, 0, 0)), ("╷", (0, 0, 0, 1)),
    ("╸", (2, 0, 0, 0)), ("╹", (0, 0, 2, 0)), ("╺", (0, 2, 0, 0)), ("╻", (0, 0, 0, 2)),
):
    for _c in _chars:
        _BOX[_c] = _arms

# Block elements as (x0, y0, x1, y1) fractions of the cell.
_BLOCKS: dict[str, tuple[float, float, float, float]] = {
    "█": (0, 0, 1, 1), "▀": (0, 0, 1, 0.5), "▐": (0.5, 0, 1, 1), "▔": (0, 0, 1, 0.125),
    "▕": (0.875, 0, 1, 1), "▖": (0, 0.5, 0.5, 1), "▗": (0.5, 0.5, 1, 1), "▘": (0, 0, 0.5, 0.5),
    "▝": (0.5, 0, 1, 0.5),
}
for _k in range(1, 9):          # ▁▂▃▄▅▆▇█ lower eighths; ▉▊▋▌▍▎▏ left eighths
    _BLOCKS[chr(0x2580 + _k)] = (0, 1 - _k / 8, 1, 1)
for _k in range(1, 8):
    _BLOCKS[chr(0x2590 - _k)] = (0, 0, _k / 8, 1)

# Braille: bit k of (code - 0x2800) is the dot at (column, row) of a 2x4 grid.
_BRAILLE_DOTS = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3))

def screen_lines(app) -> list[list[Segment]]:
    """The app's current screen as lines of styled segments, exactly `app.size` wide (what
    Textual's own `export_screenshot` renders)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    render = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True)
    console.print(render)
    segments = list(Segment.filter_control(console._record_buffer))
    return list(Segment.split_and_crop_lines(segments, length=width, pad=True))[:height]


def _hex(color: Color | None, default: tuple[int, int, int], theme: TerminalTheme) -> str:
    if color is None or color.type == ColorType.DEFAULT:
        r, g, b = default
    else:
        r, g, b = color.get_truecolor(theme)
    return f"#{r:02x}{g:02x}{b:02x}"


def _blend(a: str, b: str, t: float) -> str:
    """a moved a fraction t toward b (the 'dim' attribute)."""
    ca, cb = (int(a[i:i + 2], 16) for i in (1, 3, 5)), (int(b[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))


def _colors(style: Style, theme: TerminalTheme) -> tuple[str, str | None]:
    """(foreground, background or None for the page's) of a cell."""
    fg = _hex(style.color, theme.foreground_color, theme)
    bg_default = style.bgcolor is None or style.bgcolor.type == ColorType.DEFAULT
    bg = _hex(style.bgcolor, theme.background_color, theme)
    if style.reverse:
        fg, bg, bg_default = bg, fg, False
    if style.dim:
        fg = _blend(fg, bg, 0.4)
    return fg, (None if bg_default else bg)


def _rect(x: float, y: float, w: float, h: float) -> str:
    return f"M{x:g} {y:g}h{w:g}v{h:g}h{-w:g}z"


def _box_path(arms: tuple[int, int, int, int], x: float, y: float) -> str:
    """A box-drawing glyph as strokes from the cell's centre to its edges."""
    cx, cy = x + CELL_W / 2, y + CELL_H / 2
    left, right, up, down = arms
    out = []
    for weight, (x0, y0, x1, y1) in (
        (left, (x, cy, cx, cy)), (right, (cx, cy, x + CELL_W, cy)),
        (up, (cx, y, cx, cy)), (down, (cx, cy, cx, y + CELL_H)),
    ):
        if not weight:
            continue
        t = THICK if weight == 2 else THIN
        # arms overlap by half a stroke at the centre so corners close
        if y0 == y1:
            a, b = min(x0, x1) - (t / 2 if x1 == cx else 0), max(x0, x1) + (t / 2 if x0 == cx else 0)
            out.append(_rect(a, cy - t / 2, b - a, t))
        else:
            a, b = min(y0, y1) - (t / 2 if y1 == cy else 0), max(y0, y1) + (t / 2 if y0 == cy else 0)
            out.append(_rect(cx - t / 2, a, t, b - a))
    return "".join(out)


def _braille_path(code: int, x: float, y: float) -> str:
    bits = code - 0x2800
    dw, dh = CELL_W / 2, CELL_H / 4
    size = min(dw, dh) * 0.7
    return "".join(_rect(x + c * dw + (dw - size) / 2, y + r * dh + (dh - size) / 2, size, size)
                   for k, (c, r) in enumerate(_BRAILLE_DOTS) if bits >> k & 1)


def to_svg(lines: Iterable[Iterable[Segment]], *, title: str = "",
           theme: TerminalTheme = SVG_EXPORT_THEME) -> str:
    """An SVG of `lines` (rows of styled segments), one CELL_W x CELL_H box per cell."""
    rows = [list(line) for line in lines]
    width = max((sum(cell_len(s.text) for s in row) for row in rows), default=0)
    page_bg = _hex(None, theme.background_color, theme)
    backgrounds: list[str] = []
    shapes: dict[str, list[str]] = {}          # fill -> path pieces
    texts: list[str] = []
    for r, row in enumerate(rows):
        y = r * CELL_H
        col = 0
        for seg in row:
            style = seg.style or Style()
            fg, bg = _colors(style, theme)
            span = cell_len(seg.text)
            if bg is not None and bg != page_bg:
                backgrounds.append(f'<rect x="{col * CELL_W}" y="{y}" width="{span * CELL_W}" '
                                   f'height="{CELL_H}" fill="{bg}"/>')
            glyphs: list[tuple[int, str]] = []
            for ch in seg.text:
                x = col * CELL_W
                code = ord(ch)
                if 0x2800 < code <= 0x28FF:
                    shapes.setdefault(fg, []).append(_braille_path(code, x, y))
                elif ch in _BOX:
                    shapes.setdefault(fg, []).append(_box_path(_BOX[ch], x, y))
                elif ch in _BLOCKS:
                    x0, y0, x1, y1 = _BLOCKS[ch]
                    shapes.setdefault(fg, []).append(
                        _rect(x + x0 * CELL_W, y + y0 * CELL_H, (x1 - x0) * CELL_W, (y1 - y0) * CELL_H))
                elif not ch.isspace() and code != 0x2800:
                    glyphs.append((x + cell_len(ch) * CELL_W / 2, ch))     # the cell's centre
                col += cell_len(ch)
            if glyphs:
                xs = " ".join(f"{x:g}" for x, _ in glyphs)
                attrs = [f'x="{xs}"', f'y="{y + CELL_H * 0.75:g}"', f'fill="{fg}"']
                if style.bold:
                    attrs.append('font-weight="bold"')
                if style.italic:
                    attrs.append('font-style="italic"')
                if style.underline:
                    attrs.append('text-decoration="underline"')
                texts.append(f"<text {' '.join(attrs)}>{escape(''.join(c for _, c in glyphs))}</text>")
    w, h = width * CELL_W, len(rows) * CELL_H
    paths = [f'<path fill="{fill}" d="{"".join(d)}"/>' for fill, d in shapes.items()]
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{w}" height="{h}" fill="{page_bg}"/>',
        *backgrounds,
        '<g shape-rendering="crispEdges">', *paths, "</g>",
        f'<g font-family="{FONTS}" font-size="{FONT_SIZE}" text-anchor="middle">', *texts, "</g>",
        "</svg>",
    ]) + "\n"
