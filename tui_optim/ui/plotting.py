"""Line plots through plotext, on a linear axis always (plotext's log scale breaks on rebuild):
for a log pane we plot log10 of the values and label the ticks as powers of ten.

What a plot promises a student: round ticks (ui/ticks), axis titles, guide lines on the row of
their value, no run hidden (each line's run number at its head, the caller's last line on top),
and a run that explodes or diverges never takes the y-range from the others: it leaves the plot
through its edge with a marker saying where ("↑ diverged at 37").
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual_plotext.plot import Plot

from dataclasses import dataclass

from tui_optim.ui.colors import palette
from tui_optim.ui.ticks import log_ticks, nice_ticks, tick_labels

def to_log(y: np.ndarray) -> np.ndarray:
    """log10 of positive values; zero and negative values have no place on a log axis (nan)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)


def short(v: float) -> str:
    """Two significant digits, the exponent unpadded: 0.35, -3.1, 4.1e-5 (in-pane labels)."""
    s = f"{v:.2g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp)}"
    return s


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


@dataclass(eq=False)
class Line:
    """One series to draw: x and y (already on the run's step axis), its colour and marker."""

    x: np.ndarray
    y: np.ndarray
    color: int
    marker: str = "braille"
    label: str = ""
    points: bool = False            # scatter (iterates on a curve), not joined
    tag: str = ""                   # drawn at the line's last visible point: the run's number
    diverged_at: int | None = None  # the step a diverged run went non-finite
    lo: np.ndarray | None = None    # per-point min and max of the records a point averages:
    hi: np.ndarray | None = None    # drawn as dots where they spread, so averaging hides no swing


@dataclass(eq=False)
class Mark:
    """A single character at a point (a current iterate, a minimum)."""

    x: float
    y: float
    color: int
    char: str


# A line whose values would squeeze every other line into less than this share of the height
# is drawn off scale (it leaves through the edge with a marker) instead of setting the range.
SQUEEZE = 1 / 3
GUIDE_LABEL = 10       # characters of a guide's label on the axis


def growing(y: np.ndarray, log: bool) -> bool:
    """A line that runs away: on a log axis its largest value in its last third is a decade
    above that of its first third; on a linear one its swing (it keeps changing sign) grows to
    twice what it was. A curve that merely rises (an accuracy) is not running away."""
    f = y[np.isfinite(y)]
    if f.size < 3:
        return False
    k = max(1, f.size // 3)
    if log:
        return bool(f[-k:].max() > f[:k].max() + 1.0)
    tail = f[-k:]
    swings = np.count_nonzero(np.sign(tail[1:]) != np.sign(tail[:-1])) >= max(1, (k - 1) // 4)
    return bool(swings and np.abs(tail).max() > 2 * np.abs(f[:k]).max())


def scale_lines(extents: list[tuple[float, float]], log: bool = False,
                candidates: list[bool] | None = None) -> list[int]:
    """Indices of the lines that set the y-range: all of them, less those (exploding or
    diverging runs: `candidates`) whose removal shrinks the range of the rest below SQUEEZE of
    it. On a log axis only a line that sets the top can explode: one far below the rest (a
    collapse, a convergence) is the lesson, not an outlier."""
    keep = [i for i, e in enumerate(extents) if e is not None]
    while len(keep) > 1:
        lo = min(extents[i][0] for i in keep)
        hi = max(extents[i][1] for i in keep)
        span = hi - lo
        if not span > 0:
            break
        best, best_span = None, span
        for i in keep:
            if (log and extents[i][1] < hi) or (candidates is not None and not candidates[i]):
                continue
            rest = [extents[j] for j in keep if j != i]
            s = max(e[1] for e in rest) - min(e[0] for e in rest)
            if s < best_span:
                best, best_span = i, s
        if best is None or best_span > SQUEEZE * span:
            break
        keep.remove(best)
    return keep


def _exit_index(y: np.ndarray, lo: float, hi: float) -> int | None:
    """The first point outside [lo, hi], or None (a value with no place on the scale, such as
    0 on a log axis, is not an exit)."""
    with np.errstate(invalid="ignore"):
        out = np.flatnonzero((y > hi) | (y < lo))
    return int(out[0]) if out.size else None


def _exit_point(x: np.ndarray, y: np.ndarray, lo: float, hi: float):
    """Where a line first leaves [lo, hi] through an edge: (x, "↑" or "↓"), or None."""
    k = _exit_index(y, lo, hi)
    if k is None:
        return None
    return float(x[k]), "↑" if y[k] > hi else "↓"


def one_tick_per_row(pos: list[float], labels: list[str], lo: float, hi: float, rows: int):
    """Drop ticks until no two share a row or touch: plotext keeps an arbitrary one of two
    ticks on one row (it dedupes through a set), which would make the picture vary by process."""
    if not pos or not hi > lo:
        return pos, labels
    keep_p, keep_l, last = [], [], None
    for p, label in sorted(zip(pos, labels)):
        r = round((p - lo) / (hi - lo) * (rows - 1))
        if last is None or r - last >= 2:
            keep_p.append(p)
            keep_l.append(label)
            last = r
    return keep_p, keep_l


def with_guides(pos: list[float], labels: list[str], guides: list[tuple[float, str]],
                lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """The guides' labels become ticks at their rows (η_opt┤, not a label on the data), and
    the numeric ticks within a row of one give way."""
    if not guides or not hi > lo:
        return pos, labels
    row = (hi - lo) / max(1, rows - 1)
    keep = [(p, l) for p, l in zip(pos, labels) if all(abs(p - g) > 1.5 * row for g, _ in guides)]
    keep += [(g, label[:GUIDE_LABEL]) for g, label in guides]
    keep.sort()
    return [p for p, _ in keep], [l for _, l in keep]


def axis_titles(width: int, ylabel: str, xlabel: str, notes: list[tuple[str, int]],
                no_color: bool) -> Text:
    """`↑ loss        step →      ↑ Nesterov off scale`: the row under a plot."""
    out = Text(no_wrap=True, overflow="ellipsis")
    left = f"↑ {ylabel}" if ylabel else ""
    mid = f"{xlabel} →" if xlabel else ""
    out.append(left, style="dim")
    need = len(left) + len(mid) + sum(len(t) + 2 for t, _ in notes)
    gap = max(1, (width - len(mid)) // 2 - len(left)) if need + 4 < width else 1
    out.append(" " * gap + mid, style="dim")
    for text, color in notes:
        out.append("  ")
        out.append(text, style="" if no_color else f"color({color})")
    out.truncate(width, overflow="ellipsis")
    return out


class LinePlot:
    """One reusable plotext figure; `build` returns a Rich Text of exactly width x height."""

    def __init__(self) -> None:
        self.plt = Plot()

    def _heads_and_exits(self, drawn, log, lo, hi, x_lo, x_hi, width, rows, col) -> list[tuple[str, int]]:
        """Each run's number at its last visible point (runs ending on one spot share it:
        "1,3"); a run that leaves the window gets an arrow where it leaves and a note under the
        plot; on a log axis, a run that reaches 0 gets a note, since 0 has no place there."""
        plt = self.plt
        notes: list[tuple[str, int]] = []
        heads: dict[tuple[int, int], tuple[list[str], int, float, float]] = {}
        cols = max(1, width - 8)               # character cells across; rows as plotext draws them
        for line, x, y in drawn:
            ok = np.isfinite(y)
            name = line.label if 0 < len(line.label) <= 14 else (line.tag or line.label[:14])
            exit_ = None if line.points else _exit_point(x, y, lo, hi)
            if exit_ is not None:
                ex, arrow = exit_
                plt.text(arrow, x=ex, y=hi if arrow == "↑" else lo,
                         color=col(palette().diverged if line.diverged_at is not None else line.color))
                what = f"diverged at {line.diverged_at}" if line.diverged_at is not None else "off scale"
                notes.append((f"{arrow} {name} {what}", palette().diverged if line.diverged_at is not None
                              else line.color))
                continue
            if line.diverged_at is not None:
                k = int(np.flatnonzero(ok)[-1])
                plt.scatter([float(x[k])], [float(y[k])], color=col(palette().diverged), marker="✕")
                notes.append((f"✕ {name} diverged at {line.diverged_at}", palette().diverged))
            if log and not line.points:
                raw = np.asarray(line.y, dtype=float)
                with np.errstate(invalid="ignore"):
                    zero = np.flatnonzero(np.isfinite(raw) & (raw <= 0))
                if zero.size:
                    notes.append((f"↓ {name} = 0 from step {int(line.x[zero[0]])}", line.color))
            if line.tag and not line.points:
                inside = np.flatnonzero(ok & (y >= lo) & (y <= hi))
                if inside.size:
                    k = int(inside[-1])
                    cell = (round((x[k] - x_lo) / max(x_hi - x_lo, 1e-300) * cols),
                            round((y[k] - lo) / max(hi - lo, 1e-300) * rows))
                    tags, color, hx, hy = heads.get(cell, ([], line.color, float(x[k]), float(y[k])))
                    heads[cell] = (tags + [line.tag], color, hx, hy)
        for tags, color, hx, hy in heads.values():
            near_end = hx >= x_hi - (x_hi - x_lo) * 2 / cols
            plt.text(",".join(tags), x=hx, y=hy, color=col(color),
                     alignment="right" if near_end else "center")
        return notes

    @staticmethod
    def _band(line: Line, log: bool, row: float):
        """The min and max dots of the points whose records spread over more than a row."""
        if line.lo is None or line.hi is None or line.points:
            return []
        lo = to_log(line.lo) if log else np.asarray(line.lo, dtype=float)
        hi = to_log(line.hi) if log else np.asarray(line.hi, dtype=float)
        with np.errstate(invalid="ignore"):
            wide = np.isfinite(lo) & np.isfinite(hi) & (hi - lo > 1.5 * row)
        if not wide.any():
            return []
        x = np.asarray(line.x, dtype=float)[wide]
        return [(x, lo[wide]), (x, hi[wide])]

    def build(self, width: int, height: int, lines: list[Line], *, log: bool, guides=(),
              marks: list[Mark] = (), no_color: bool = False, xlim=None, ylim=None,
              xlabel: str = "step", ylabel: str = "", keep_all: bool = False,
              logx: bool = False) -> Text:
        """guides: (value, label) horizontal lines, labelled on the axis at their row;
        xlim/ylim fix the window (ylim in data units, also on a log axis); otherwise y follows
        the lines that stay on scale (every line with `keep_all`). logx: x on a log axis (a
        hyperparameter searched on a log scale), ticks at whole decades."""
        plt = self.plt
        plt.clear_figure()
        plt.plotsize(max(width, 10), max(height, 4))
        # as textual-plotext does: without this plotext caps the figure at the real terminal's
        # size (80 columns when there is none, as in tests)
        plt._set_size(max(width, 10), max(height, 4))
        plt.theme("clear")

        def col(c):
            return None if no_color else c

        drawn = []                       # (line, xs, ys) with ys on the plotted scale
        for line in lines:
            y = to_log(line.y) if log else np.asarray(line.y, dtype=float)
            x = to_log(line.x) if logx else np.asarray(line.x, dtype=float)
            if not np.isfinite(y).any():
                continue
            drawn.append((line, x, y))
        mark_pts = []
        for m in marks:
            yy = to_log(np.array([m.y]))[0] if log else m.y
            xx = to_log(np.array([m.x]))[0] if logx else m.x
            if math.isfinite(yy) and math.isfinite(xx):
                mark_pts.append((Mark(xx, m.y, m.color, m.char), yy))
        if not drawn and not mark_pts:
            return Text("nothing to draw yet" + (": no positive values for a log scale (l: linear)"
                                                 if log and lines else ""), style="dim")
        # -- the window ----------------------------------------------------------------------------
        extents = []                     # every record's value, min/max included: spikes count
        for line, _, y in drawn:
            f = [y[np.isfinite(y)]]
            if line.lo is not None and line.hi is not None and not line.points:
                for edge in (line.lo, line.hi):
                    e = to_log(edge) if log else np.asarray(edge, dtype=float)
                    f.append(e[np.isfinite(e)])
            f = np.clip(np.concatenate(f), -1e300, 1e300)     # room to pad without overflow
            extents.append((float(f.min()), float(f.max())))
        if keep_all:
            on_scale = list(range(len(drawn)))
        else:
            runaway = [line.diverged_at is not None or growing(y, log) for line, _, y in drawn]
            on_scale = scale_lines(extents, log, runaway)
        vals = [v for i in on_scale for v in extents[i]] + [yy for _, yy in mark_pts]
        guide_at = [(math.log10(v) if v > 0 else math.nan) if log else v for v, _ in guides]
        vals += [g for g in guide_at if math.isfinite(g)]
        if ylim is not None and (math.log10(ylim[0]) if log and ylim[0] > 0 else ylim[0]) < \
                (math.log10(ylim[1]) if log and ylim[1] > 0 else ylim[1]):
            lo, hi = ((math.log10(b) if b > 0 else -300.0) for b in ylim) if log else ylim
        else:
            ylim = None
            lo, hi = min(vals), max(vals)
            if hi - lo < 1e-12 * max(1.0, abs(hi)):
                lo, hi = lo - 0.5, hi + 0.5
            pad = 0.04 * (hi - lo)
            lo, hi = lo - pad, hi + pad
        xs_all = [x for _, x, _ in drawn] + [np.array([m.x]) for m, _ in mark_pts]
        x_lo = min(float(np.nanmin(x)) for x in xs_all)
        x_hi = max(float(np.nanmax(x)) for x in xs_all)
        if xlim is not None:
            x_lo, x_hi = (to_log(np.asarray(xlim, dtype=float)) if logx else xlim)
        # -- guides under the lines (labelled on the axis); the lines in the caller's order, so
        # the selected run, drawn last, is on top
        for gv in guide_at:
            if math.isfinite(gv) and lo <= gv <= hi:
                plt.hline(gv, color=col(palette().guide))
        titled = height >= 9 and bool(xlabel or ylabel)   # a row of our own under the plot
        plot_h = height - 1 if titled else height
        rows = max(2, plot_h - 3)                          # plotext's data rows
        row = (hi - lo) / rows
        for n, (line, x, y) in enumerate(drawn):
            if n not in on_scale and not line.points and ylim is None:
                # drawn up to where it leaves: plotext would fill in every pixel of segments far
                # outside the window, and a runaway swing would cross the plot at every step
                exit_ = _exit_index(y, lo, hi)
                if exit_ is not None:
                    x, y = x[:exit_ + 1], np.clip(y[:exit_ + 1], lo, hi)
            ok = np.isfinite(y)
            draw = plt.scatter if line.points else plt.plot
            draw(x[ok].tolist(), y[ok].tolist(), color=col(line.color), marker=line.marker)
            for bx, by in self._band(line, log, row):
                plt.scatter(bx.tolist(), by.tolist(), color=col(line.color), marker=line.marker)
        for m, yy in mark_pts:
            plt.scatter([m.x], [yy], color=col(m.color), marker=m.char)
        notes = self._heads_and_exits(drawn, log, lo, hi, x_lo, x_hi, width, rows, col)
        titled = titled or (height >= 9 and bool(notes))
        # -- axes ----------------------------------------------------------------------------------
        if log:
            pos, labels, _minor = log_ticks(lo, hi, max(2, rows // 2 + 1))
        else:
            pos = nice_ticks(lo, hi, max(2, rows // 3 + 1))
            labels = tick_labels(pos)
        pos, labels = with_guides(pos, labels, [(g, label) for g, (_, label) in zip(guide_at, guides)
                                                if label and math.isfinite(g) and lo <= g <= hi],
                                  lo, hi, rows)
        pos, labels = one_tick_per_row(pos, labels, lo, hi, rows)
        if pos:
            plt.yticks(pos, labels)
        plt.ylim(lo, hi)
        if x_hi > x_lo:
            plt.xlim(x_lo, x_hi)
            if logx:
                ticks, xlabels, _minor = log_ticks(x_lo, x_hi, max(2, width // 12))
            else:
                ticks = nice_ticks(x_lo, x_hi, max(2, width // 12))
                xlabels = tick_labels(ticks)
            plt.xticks(ticks, xlabels)
        if titled:       # a row of our own under the plot: axis titles, then what left the plot
            plt.plotsize(max(width, 10), max(height - 1, 4))
            plt._set_size(max(width, 10), max(height - 1, 4))
        raw = plt.build()
        while raw.endswith("\n"):   # plotext ends with a newline: one row too many
            raw = raw[:-1]
        picture = Text.from_ansi(raw, no_wrap=True, end="")
        if titled:
            picture.append("\n")
            picture.append_text(axis_titles(width, ylabel, xlabel, notes, no_color))
        return picture
