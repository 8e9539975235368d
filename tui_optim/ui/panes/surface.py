"""The objective over the 2-D window as a shaded map with every run's path.

Shading is log10(f − min f) quantized into level bands, so valleys read like contours (plotext
has no contours). Half blocks give two pixels per cell. 1-D surfaces are drawn as the curve
with the iterates; higher dimensions as the paths in the `proj.0`/`proj.1` plane.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import ASCII_RAMP, palette, run_color, run_glyph
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import Line, LinePlot, Mark, short


def shade_levels(grid: np.ndarray, log: bool, bands: int) -> tuple[np.ndarray, float, float]:
    """Band index (0..bands-1) per grid value, and the shown range (in log10 units if log)."""
    g = np.asarray(grid, dtype=float)
    finite = np.isfinite(g)
    if not finite.any():
        return np.zeros(g.shape, dtype=int), 0.0, 1.0
    fmin = float(g[finite].min())
    if log:
        span = float(g[finite].max()) - fmin
        eps = max(span * 1e-6, 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(np.where(finite, g - fmin, np.nan) + eps)
    else:
        v = np.where(finite, g, np.nan)
    lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
    if hi - lo < 1e-12:
        hi = lo + 1.0
    idx = np.floor((v - lo) / (hi - lo) * bands)
    idx = np.clip(np.nan_to_num(idx, nan=bands - 1), 0, bands - 1).astype(int)
    return idx, lo, hi


def resample(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    r = (np.arange(rows) * a.shape[0] // max(rows, 1)).clip(0, a.shape[0] - 1)
    c = (np.arange(cols) * a.shape[1] // max(cols, 1)).clip(0, a.shape[1] - 1)
    return a[np.ix_(r, c)]


def join_path(X: np.ndarray, Y: np.ndarray, cell_w: float, cell_h: float) -> tuple[np.ndarray, np.ndarray]:
    """The points of a path with each segment filled in at about one point per cell (at most
    60), so a path reads as a line, not scattered dots; it stops at the first non-finite point."""
    bad = np.flatnonzero(~(np.isfinite(X) & np.isfinite(Y)))
    m = int(bad[0]) if bad.size else len(X)
    X, Y = X[:m], Y[:m]
    if m < 2:
        return X, Y
    dx, dy = np.diff(X), np.diff(Y)
    n = (np.minimum(60, np.maximum(np.abs(dx) / cell_w, np.abs(dy) / cell_h)) + 1).astype(np.int64)
    seg = np.repeat(np.arange(m - 1), n)
    # position of each filled point inside its segment: 1/n, 2/n, ..., 1
    within = np.arange(seg.size) - np.repeat(np.cumsum(n) - n, n) + 1
    s = within / np.repeat(n, n)
    return (np.concatenate([X[:1], X[seg] + s * dx[seg]]),
            np.concatenate([Y[:1], Y[seg] + s * dy[seg]]))


class SurfacePane(Pane):
    kind = "surface"

    def __init__(self, values, ctx, *, id=None) -> None:
        super().__init__(values, ctx, id=id)
        # None: decide from the surface (log when its lowest point is inside the window, as in
        # a bowl; linear when f falls away to the border, as on a saddle)
        self.log_scale = values.get("log")
        coords = values.get("coords") or [0, 1]
        self.cx, self.cy = int(coords[0]), int(coords[1])
        self.plot = LinePlot()

    def short_title(self) -> str:
        return "surface"

    def effective_log(self) -> bool:
        if self.log_scale is not None:
            return bool(self.log_scale)
        grid = self._static("surface.grid")
        if grid is None or np.ndim(grid) != 2 or not np.isfinite(grid).any():
            return True
        g = np.where(np.isfinite(grid), grid, np.inf)
        r, c = np.unravel_index(np.argmin(g), g.shape)
        return 0 < r < g.shape[0] - 1 and 0 < c < g.shape[1] - 1

    def toggle_log(self) -> bool:
        self.log_scale = not self.effective_log()
        self.border_title = self.title()
        return self.log_scale

    def title(self) -> str:
        if self._static("surface.grid") is None:
            if self._static("surface.curve") is not None:
                return "f and the iterates"
            if self._static("surface.window") is None and self.ctx.trace.view(0, "proj.0", 2).steps.size:
                return "paths projected on (proj.0, proj.1)"
        return "surface (log f)" if self.effective_log() else "surface (f)"

    def _static(self, name: str):
        t = self.ctx.trace
        for i in range(len(self.ctx.runs)):
            a = t.snapshot(i, name)
            if a is not None:
                return a
        return None

    def data_key(self) -> tuple:
        return super().data_key() + (self.ctx.selected,)

    def build(self, width: int, height: int) -> RenderableType:
        grid = self._static("surface.grid")
        if grid is not None and np.ndim(grid) == 2:
            return self._map(grid, width, height)
        curve = self._static("surface.curve")
        if curve is not None:
            return self._curve(np.asarray(curve), width, height)
        if self.ctx.trace.view(0, "proj.0", 2).steps.size:
            return self._projected(width, height)
        return Text("waiting for the surface…", style="dim")

    # -- 2-D map ----------------------------------------------------------------------------------
    def _map(self, grid: np.ndarray, width: int, height: int) -> RenderableType:
        no_color = self.ctx.no_color
        log = self.effective_log()
        rows = max(1, height - 1)
        window = self._static("surface.window")
        x0, x1, y0, y1 = (float(v) for v in window) if window is not None else (0.0, 1.0, 0.0, 1.0)
        cv = Canvas(width, height)
        bands = len(ASCII_RAMP) if no_color else len(palette().ramp)
        if no_color:
            idx, lo, hi = shade_levels(resample(grid, rows, width), log, bands)
            for y in range(rows):
                cv.text(y, 0, "".join(ASCII_RAMP[k] for k in idx[y]))
        else:
            idx, lo, hi = shade_levels(resample(grid, 2 * rows, width), log, bands)
            cv.pixels(0, 0, np.asarray(palette().ramp, dtype=np.int16)[idx])

        def cell(x: np.ndarray, y: np.ndarray):
            # far-off or non-finite points (a diverging run) land outside, as -1
            fx = np.nan_to_num((x - x0) / (x1 - x0) * width, nan=-1.0, posinf=-1.0, neginf=-1.0)
            fy = np.nan_to_num((y1 - y) / (y1 - y0) * rows, nan=-1.0, posinf=-1.0, neginf=-1.0)
            cx = np.floor(np.clip(fx, -1, width + 1)).astype(int)
            cy = np.floor(np.clip(fy, -1, rows + 1)).astype(int)
            return cx, cy

        def inside(cx, cy):
            return (cx >= 0) & (cx < width) & (cy >= 0) & (cy < rows)

        t = self.ctx.trace
        # every record the trace holds: a bucket mean of two iterates on opposite walls would
        # draw a zig-zag as a straight line along the floor
        npts = t.capacity
        sx, sy = f"x.{self.cx}", f"x.{self.cy}"
        n_runs = len(self.ctx.runs)
        sel = self.ctx.selected if 0 <= self.ctx.selected < n_runs else 0
        order = [i for i in range(n_runs) if i != sel] + [sel]     # selected run on top
        currents = []
        for i in order:
            vx, vy = t.view(i, sx, npts), t.view(i, sy, npts)
            m = min(len(vx), len(vy))
            if m == 0:
                continue
            px, py = cell(*join_path(vx.mean[:m], vy.mean[:m], (x1 - x0) / width, (y1 - y0) / rows))
            ok = inside(px, py)
            color = run_color(i)
            ch = run_glyph(i) if no_color else "•"
            for a, b in zip(px[ok].tolist(), py[ok].tolist()):
                cv.put(b, a, ch, color)
            currents.append((i, vx.last, vy.last))
        for name, ch, nc in (("surface.minima", "★", "*"), ("surface.saddles", "✕", "x")):
            pts = self._static(name)
            if pts is None or np.size(pts) == 0:
                continue
            pts = np.asarray(pts, dtype=float).reshape(-1, 2)
            px, py = cell(pts[:, 0], pts[:, 1])
            for a, b in zip(px.tolist(), py.tolist()):
                if 0 <= a < width and 0 <= b < rows:
                    cv.put(b, a, nc if no_color else ch, palette().landmark, bold=True)
        for i, lx, ly in currents:       # current points last: never hidden
            if math.isfinite(lx) and math.isfinite(ly):
                (cx,), (cy,) = cell(np.array([lx]), np.array([ly]))
                if inside(cx, cy):
                    cv.put(int(cy), int(cx), run_glyph(i) if no_color else "●", run_color(i), bold=True)
        # the shading's key first (it is what a reader needs), then the window
        unit = "log10 f" if log else "f"
        k = 0
        head = f"{unit} {short(lo)} "
        cv.text(rows, k, head[:width], -1)
        k += len(head)
        ramp = ASCII_RAMP if no_color else palette().ramp[::2]
        for j, c in enumerate(ramp):
            if k + j < width:
                cv.put(rows, k + j, c if no_color else "█", -1 if no_color else c)
        k += len(ramp)
        tail = f" {short(hi)} · x {short(x0)}…{short(x1)}, y {short(y0)}…{short(y1)}"
        cv.text(rows, k, tail[: max(0, width - k)], -1)
        return cv.lines()

    # -- 1-D curve ---------------------------------------------------------------------------------
    def _curve(self, curve: np.ndarray, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        lines = [Line(curve[0], curve[1], 244, "braille", "f")]
        marks = []
        for i in range(len(self.ctx.runs)):
            vx, vf = t.view(i, f"x.{self.cx}", 200), t.view(i, "loss", 200)
            m = min(len(vx), len(vf))
            if m == 0:
                continue
            ch = run_glyph(i) if self.ctx.no_color else "•"
            # iterates are points, not a line
            lines.append(Line(vx.mean[:m], vf.mean[:m], run_color(i), ch, self.ctx.runs[i].label,
                              points=True))
            marks.append(Mark(vx.last, vf.last, run_color(i), run_glyph(i) if self.ctx.no_color else "●"))
        x, f = curve[0], curve[1]
        ok = np.isfinite(f)
        f_lo, f_hi = (float(f[ok].min()), float(f[ok].max())) if ok.any() else (0.0, 1.0)
        pad = 0.05 * (f_hi - f_lo or 1.0)
        # the window is the curve's: a diverging run leaves it instead of squashing the curve
        x_lo, x_hi = float(np.nanmin(x)), float(np.nanmax(x))
        span = x_hi - x_lo or 1.0
        for mk in marks:              # a current point just outside the window still shows
            mx, mf = mk.x, mk.y
            if math.isfinite(mx) and x_lo - 0.25 * span <= mx <= x_hi + 0.25 * span:
                x_lo, x_hi = min(x_lo, mx), max(x_hi, mx)
                if math.isfinite(mf):
                    f_lo, f_hi = min(f_lo, mf), max(f_hi, mf)
        return self.plot.build(width, height, lines, log=False, marks=marks,
                               no_color=self.ctx.no_color, xlim=(x_lo, x_hi),
                               ylim=(f_lo - pad, f_hi + pad), xlabel="w", ylabel="E(w)")

    def _projected(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        lines, marks = [], []
        for i in range(len(self.ctx.runs)):
            vx, vy = t.view(i, "proj.0", 300), t.view(i, "proj.1", 300)
            m = min(len(vx), len(vy))
            if m == 0:
                continue
            ch = run_glyph(i) if self.ctx.no_color else "braille"
            lines.append(Line(vx.mean[:m], vy.mean[:m], run_color(i), ch, self.ctx.runs[i].label))
            marks.append(Mark(vx.last, vy.last, run_color(i), run_glyph(i) if self.ctx.no_color else "●"))
        return self.plot.build(width, height, lines, log=False, marks=marks, no_color=self.ctx.no_color,
                               xlabel="proj 0", ylabel="proj 1")
