"""A character grid with per-cell colours, turned into Rich lines with few style changes.

The shaded panes (surface map, heat strip, decision boundary, histograms) draw into one of
these. Half-block cells (`▀`, foreground = upper pixel, background = lower pixel) give two
pixels per cell vertically.
"""

from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment

from tui_optim.ui.colors import style

NONE = -1


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width = max(0, width)
        self.height = max(0, height)
        self.chars = np.full((self.height, self.width), " ", dtype="<U1")
        self.fg = np.full((self.height, self.width), NONE, dtype=np.int16)
        self.bg = np.full((self.height, self.width), NONE, dtype=np.int16)
        self.bold = np.zeros((self.height, self.width), dtype=bool)

    def pixels(self, top: int, left: int, px: np.ndarray) -> None:
        """Paint a (2h, w) array of colour indices as half blocks at cell (top, left)."""
        h = px.shape[0] // 2
        w = min(px.shape[1], self.width - left)
        h = min(h, self.height - top)
        if h <= 0 or w <= 0:
            return
        self.chars[top:top + h, left:left + w] = "▀"
        self.fg[top:top + h, left:left + w] = px[0:2 * h:2, :w]
        self.bg[top:top + h, left:left + w] = px[1:2 * h:2, :w]

    def put(self, y: int, x: int, ch: str, fg: int = NONE, bg: int | None = None,
            bold: bool = False) -> None:
        if 0 <= y < self.height and 0 <= x < self.width:
            if self.chars[y, x] == "▀" and bg is None:
                bg = int(self.fg[y, x])      # keep the upper pixel's shade behind the mark
            self.chars[y, x] = ch
            self.fg[y, x] = fg
            if bg is not None:
                self.bg[y, x] = bg
            self.bold[y, x] = bold

    def text(self, y: int, x: int, s: str, fg: int = NONE, bg: int | None = None,
             bold: bool = False) -> None:
        for k, ch in enumerate(s):
            self.put(y, x + k, ch, fg, bg, bold)

    def lines(self) -> "CanvasRender":
        return CanvasRender(self)


class CanvasRender:
    """The Rich renderable of a finished canvas (built once, painted on every repaint)."""

    def __init__(self, canvas: Canvas) -> None:
        rows: list[list[Segment]] = []
        for y in range(canvas.height):
            segs: list[Segment] = []
            run_key = None
            buf: list[str] = []
            chars, fg, bg, bold = canvas.chars[y], canvas.fg[y], canvas.bg[y], canvas.bold[y]
            for x in range(canvas.width):
                key = (int(fg[x]), int(bg[x]), bool(bold[x]))
                if key != run_key:
                    if buf:
                        segs.append(Segment("".join(buf), _style(run_key)))
                    buf = []
                    run_key = key
                buf.append(chars[x])
            if buf:
                segs.append(Segment("".join(buf), _style(run_key)))
            rows.append(segs)
        self.rows = rows

    @property
    def plain(self) -> str:
        """The characters without styles, rows joined by newlines (as Text.plain)."""
        return "\n".join("".join(seg.text for seg in segs) for segs in self.rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for i, segs in enumerate(self.rows):
            yield from segs
            if i < len(self.rows) - 1:
                yield Segment.line()


def _style(key):
    fg, bg, bold = key
    return style(fg if fg >= 0 else None, bg if bg >= 0 else None, bold)
