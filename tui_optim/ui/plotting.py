"""Line plots through plotext, on a linear axis always (plotext's log scale breaks on rebuild):
for a log pane we plot log10 of the values and label the ticks as powers of ten.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual_plotext.plot import Plot

from tui_optim.ui.colors import GUIDE

TINY = 1e-300


def to_log(y: np.ndarray) -> np.ndarray:
    """log10 of positive values; zero and negative values have no place on a log axis (nan)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)


def fmt(v: float) -> str:
    """Short number: 0.035, 1.2e-05, 3.4e+03."""
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-3 <= a < 1e4:
        return f"{v:.3g}"
    return f"{v:.1e}"


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[list[float], list[str]]:
    """Tick positions (in log10 units) and their labels (`1e-3`) for the range [lo, hi]:
    whole decades at a round stride (1, 2, 5, 10, 20, 50, 100 decades)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    span = hi - lo
    stride = next((k for k in (1, 2, 5, 10, 20, 50, 100) if span / k <= max(1, max_ticks - 1)), 200)
    first = math.ceil(lo / stride - 1e-9) * stride
    pos = [float(k) for k in range(int(first), int(math.floor(hi + 1e-9)) + 1, stride)]
    if len(pos) < 2:
        # less than a decade visible: label a few values inside it
        pos = list(np.linspace(lo, hi, min(3, max(2, max_ticks)))) if hi > lo else [lo]
        return pos, [fmt(10 ** p) for p in pos]
    return pos, [f"1e{int(p)}" for p in pos]


def int_ticks(lo: float, hi: float, n: int) -> list[int]:
    """Round step numbers for the x axis: 0, 50, 100, … (steps are integers)."""
    span = max(hi - lo, 1.0)
    raw = span / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    step = max(1, int(step))
    first = int(math.ceil(lo / step) * step)
    return list(range(first, int(hi) + 1, step)) or [int(lo)]


class LinePlot:
    """One reusable plotext figure; `build` returns a Rich Text of exactly width x height."""

    def __init__(self) -> None:
        self.plt = Plot()

    def build(self, width: int, height: int, lines, *, log: bool, guides=(), xlabel: str = "",
              marks=(), no_color: bool = False, xlim=None, ylim=None) -> Text:
        """lines: (x, y, color, marker, label[, points]), joined unless `points` is true;
        guides: (value, label) horizontal lines; marks: (x, y, color, char) single points."""
        plt = self.plt
        plt.clear_figure()
        plt.plotsize(max(width, 10), max(height, 4))
        # as textual-plotext does: without this plotext caps the figure at the real terminal's
        # size (80 columns when there is none, as in tests)
        plt._set_size(max(width, 10), max(height, 4))
        plt.theme("clear")
        ys_all = []
        x_lo, x_hi = math.inf, -math.inf
        for line in lines:
            x, y, color, marker, label = line[:5]
            points = len(line) > 5 and line[5]
            y = to_log(y) if log else np.asarray(y, dtype=float)
            ok = np.isfinite(y)
            if ok.sum() == 0:
                continue
            xs, ys = np.asarray(x)[ok], y[ok]
            ys_all.append(ys)
            x_lo, x_hi = min(x_lo, float(xs.min())), max(x_hi, float(xs.max()))
            draw = plt.scatter if points else plt.plot
            draw(xs.tolist(), ys.tolist(), color=None if no_color else color, marker=marker)
        for x, y, color, ch in marks:
            yy = to_log(np.array([y]))[0] if log else y
            if math.isfinite(yy):
                ys_all.append(np.array([yy]))
                plt.scatter([x], [yy], color=None if no_color else color, marker=ch)
        for value, label in guides:
            gv = math.log10(value) if log and value > 0 else value
            if not math.isfinite(gv):
                continue
            ys_all.append(np.array([gv]))
            plt.hline(gv, color=None if no_color else GUIDE)
            if label and math.isfinite(x_hi):
                plt.text(label, x=x_hi, y=gv, color=None if no_color else GUIDE, alignment="right")
        if not ys_all:
            return Text("nothing to draw yet" + (": no positive values for a log scale (l: linear)"
                                                 if log and lines else ""), style="dim")
        if ys_all:
            cat = np.concatenate(ys_all)
            lo, hi = float(cat.min()), float(cat.max())
            if hi - lo < 1e-12:
                lo, hi = lo - 0.5, hi + 0.5
            if log:
                # at most one tick per two plot rows: plotext keeps an arbitrary one of
                # two ticks that fall on the same row (it dedupes through a set)
                pos, labels = log_ticks(lo, hi, max(2, (height - 3) // 2))
                if pos:
                    plt.yticks(pos, labels)
            if ylim is not None:       # a fixed window (1-D surfaces): far-off points clip
                lo, hi = ylim
            plt.ylim(lo, hi)
        if xlim is not None:
            plt.xlim(*xlim)
            x_lo, x_hi = xlim
        if math.isfinite(x_lo) and x_hi > x_lo:
            ticks = int_ticks(x_lo, x_hi, max(2, width // 14))
            plt.xticks(ticks, [str(t) for t in ticks])
        if xlabel:
            plt.xlabel(xlabel)
        raw = plt.build()
        while raw.endswith("\n"):   # plotext ends with a newline: one row too many
            raw = raw[:-1]
        return Text.from_ansi(raw, no_wrap=True, end="")
