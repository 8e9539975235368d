"""Decision regions of a 2-D data set (the class grid the network predicts) with its points."""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import CLASS_GLYPHS, palette
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.panes.surface import resample


class BoundaryPane(Pane):
    kind = "boundary"
    log_default = False

    def __init__(self, values, ctx, *, id=None) -> None:
        super().__init__(values, ctx, id=id)

    def short_title(self) -> str:
        return "boundary"

    def title(self) -> str:
        label = self.ctx.runs[self.run].label if len(self.ctx.runs) > 1 else ""
        return "decision boundary" + (f" · {label}" if label else "")

    def data_key(self) -> tuple:
        return (self.ctx.trace.run_version(self.run),)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        grid = t.snapshot(self.run, "boundary")
        if grid is None:
            return Text("waiting for the decision boundary…", style="dim")
        window = t.snapshot(self.run, "boundary.window")
        x0, x1, y0, y1 = (float(v) for v in window) if window is not None else (-1, 1, -1, 1)
        classes = np.nan_to_num(np.asarray(grid, dtype=float)).astype(int)
        cv = Canvas(width, height)
        no_color = self.ctx.no_color
        if no_color:
            cls = resample(classes, height, width)
            for y in range(height):
                cv.text(y, 0, "".join(" ." [c % 2] for c in cls[y]))
        else:
            cls = resample(classes, 2 * height, width)
            bg = palette().class_bg
            cv.pixels(0, 0, np.asarray(bg, dtype=np.int16)[cls % len(bg)])
        pts = t.snapshot(self.run, "data.points")
        labels = t.snapshot(self.run, "data.labels")
        if pts is not None and labels is not None and len(pts):
            pts = np.asarray(pts, dtype=float)
            cx = np.floor((pts[:, 0] - x0) / (x1 - x0) * width).astype(int)
            cy = np.floor((y1 - pts[:, 1]) / (y1 - y0) * height).astype(int)
            lab = np.asarray(labels).astype(int)
            ok = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
            for a, b, c in zip(cx[ok].tolist(), cy[ok].tolist(), lab[ok].tolist()):
                if no_color:
                    cv.put(b, a, CLASS_GLYPHS[c % len(CLASS_GLYPHS)])
                else:
                    fg, bg = palette().class_fg, palette().class_bg
                    cv.put(b, a, "●", fg[c % len(fg)], bg=bg[cls[2 * b, a] % len(bg)])
        return cv.lines()
