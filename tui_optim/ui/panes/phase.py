"""A phase diagram: a sweep of trials over two keys as a grid of cells, filling in as their
outcomes arrive. Each cell is the trial nearest its centre, coloured by its steps to tol (or
its final or least `series`); red where the loss grew or diverged, grey where it did neither
within its steps. Where the catalog knows the optimizer's stability limit on this quadratic,
the closed form is drawn over it: the edge of the red region should follow the line.

The cursor (←→↑↓ on this pane) names one trial in the title; enter opens it as a watched run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.chunk import Status, grew
from tui_optim.engine.catalog import stable_lr_limit
from tui_optim.engine.series import words
from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import ASCII_RAMP, palette
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import fmt
from tui_optim.ui.ticks import log_ticks, nice_ticks, tick_labels

# cell states
PENDING, REACHED, SLOW, GREW = 0, 1, 2, 3
SLOW_COLOR = 238            # neither reached tol nor grew: dark grey on either theme


def _axis(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """The sorted distinct values of a key, and whether to space them on a log scale: as the
    sweep spaced them (equal ratios: log), else log where they span more than a decade."""
    u = np.unique(values)
    if len(u) < 3 or u[0] <= 0:
        return u, False
    steps, ratios = np.diff(u), u[1:] / u[:-1]
    if np.allclose(steps, steps[0], rtol=1e-6):
        return u, False
    if np.allclose(ratios, ratios[0], rtol=1e-6):
        return u, True
    return u, bool(u[-1] / u[0] > 10)


def _nearest(axis: np.ndarray, log: bool, at: np.ndarray) -> np.ndarray:
    """Index of the axis value nearest each of `at` (on the axis's own scale)."""
    a, t = (np.log(axis), np.log(at)) if log else (axis, at)
    k = np.clip(np.searchsorted(a, t), 1, max(1, len(a) - 1))
    if len(a) == 1:
        return np.zeros(len(t), dtype=int)
    return np.where(np.abs(t - a[k - 1]) <= np.abs(a[k] - t), k - 1, k)


def _ticks(axis: np.ndarray, log: bool, most: int) -> tuple[list[float], list[str]]:
    """Tick values and labels along an axis of sweep values (decades on a log axis)."""
    if log:
        at, labels, _ = log_ticks(math.log10(axis[0]), math.log10(axis[-1]), most)
        return [10 ** v for v in at], labels
    at = nice_ticks(float(axis[0]), float(axis[-1]), most)
    return at, tick_labels(at)


class PhasePane(Pane):
    kind = "phase"
    log_default = True

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.x_key, self.y_key = values.get("x", "lr"), values.get("y", "momentum")
        self.metric = values.get("metric", "steps_to_tol")
        self.series = values.get("series", "loss")
        groups = list(dict.fromkeys(t.group for t in ctx.trials))
        self.group = values.get("group") or (groups[0] if groups else "")
        self.members = [t for t in ctx.trials if t.group == self.group
                        and all(isinstance(t.values.get(k), (int, float))
                                for k in (self.x_key, self.y_key))]
        xs = np.array([float(t.values[self.x_key]) for t in self.members])
        ys = np.array([float(t.values[self.y_key]) for t in self.members])
        self.xs, self.logx = _axis(xs)
        self.ys, self.logy = _axis(ys)
        # trial index (into ctx.trials) at each (y, x) of the grid; -1 where none was run
        self.grid = np.full((len(self.ys), len(self.xs)), -1, dtype=int)
        if self.members:
            self.grid[np.searchsorted(self.ys, ys), np.searchsorted(self.xs, xs)] = [
                t.index for t in self.members]
        self.cursor = (len(self.xs) // 2, len(self.ys) // 2)
        self.boundary = bool(values.get("boundary", True))
        super().__init__(values, ctx, id=id)

    # -- what the pane says -------------------------------------------------------------------
    def _what(self) -> str:
        if self.metric == "steps_to_tol":
            tol = self.members[0].tol if self.members else 0.0
            return f"steps to loss ≤ {tol:g}"
        return f"{self.metric} {words(self.series)[0]}"

    def short_title(self) -> str:
        return f"{self.group}: phase"

    def title(self) -> str:
        t = f"{self.group}: {self._what()}"
        trial = self.cursor_trial()
        if trial is not None:
            t += f" · ▸ {self.x_key} {fmt(float(trial.values[self.x_key]))}, " \
                 f"{self.y_key} {fmt(float(trial.values[self.y_key]))}: {self._cell_words(trial.index)}"
        return t

    def data_key(self) -> tuple:
        return (self.ctx.trace.outcomes_version, self.cursor)

    def cursor_trial(self) -> Any:
        if not self.members:
            return None
        i = self.grid[self.cursor[1], self.cursor[0]]
        return self.ctx.trials[i] if i >= 0 else None

    def move(self, dx: int, dy: int) -> None:
        """Move the cursor by cells of the sweep's grid (up: larger y)."""
        x = min(max(self.cursor[0] + dx, 0), len(self.xs) - 1)
        y = min(max(self.cursor[1] + dy, 0), len(self.ys) - 1)
        self.cursor = (x, y)
        self.border_title = self.title()

    # -- one cell ------------------------------------------------------------------------------
    def _state(self, metrics: dict[str, float], status: Status) -> tuple[int, float]:
        if status == Status.STOPPED:
            return PENDING, math.nan
        up = grew(status.value, metrics.get(f"first.{self.series}", math.nan),
                  metrics.get(f"final.{self.series}", math.nan))
        if self.metric == "steps_to_tol":
            steps = metrics.get("steps_to_tol", math.inf)
            if math.isfinite(steps):
                return REACHED, steps
            return (GREW if up else SLOW), math.nan
        if up:
            return GREW, math.nan
        v = metrics.get(f"{self.metric}.{self.series}", math.nan)
        return (REACHED, v) if math.isfinite(v) else (SLOW, math.nan)

    def _cell_words(self, trial: int) -> str:
        o = self.ctx.trace.outcomes().get(trial)
        if o is None:
            return "running"
        state, v = self._state(o.metrics, o.status)
        steps = self.ctx.trials[trial].steps
        return {PENDING: "stopped", REACHED: f"{v:.0f} steps" if self.metric == "steps_to_tol"
                else fmt(v), SLOW: f"not within {steps} steps", GREW: "loss grew"}[state]

    # -- the picture ---------------------------------------------------------------------------
    def build(self, width: int, height: int) -> RenderableType:
        if not self.members:
            return Text(f"no trials of group {self.group!r} with numbers {self.x_key!r} and "
                        f"{self.y_key!r} (trials are runs with keep = \"result\")", style="dim")
        no_color = self.ctx.no_color
        pal = palette()
        outcomes = self.ctx.trace.outcomes()
        state = np.zeros(len(self.ctx.trials), dtype=np.int8)
        value = np.full(len(self.ctx.trials), np.nan)
        for i, o in outcomes.items():
            state[i], value[i] = self._state(o.metrics, o.status)

        yt, ylabels = _ticks(self.ys, self.logy, max(2, height // 3))
        left = max((len(s) for s in ylabels), default=1) + 1
        cols, rows = max(1, width - left), max(1, height - 2)
        sub = 1 if no_color else 2                # half blocks: two cells per character
        # the grid cell nearest each pixel's centre (y grows upwards)
        fx = (np.arange(cols) + 0.5) / cols
        fy = 1.0 - (np.arange(rows * sub) + 0.5) / (rows * sub)
        ix = _nearest(self.xs, self.logx, self._at(self.xs, self.logx, fx))
        iy = _nearest(self.ys, self.logy, self._at(self.ys, self.logy, fy))
        trial = self.grid[iy[:, None], ix[None, :]]                      # (rows*sub, cols)
        st = np.where(trial >= 0, state[np.maximum(trial, 0)], PENDING)
        val = np.where(trial >= 0, value[np.maximum(trial, 0)], np.nan)

        reached = val[st == REACHED]
        lo, hi = (float(reached.min()), float(reached.max())) if reached.size else (1.0, 1.0)
        logv = self.log_scale and lo > 0
        f = np.log10 if logv else (lambda a: a)
        span = (f(hi) - f(lo)) or 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.clip((f(np.where(st == REACHED, val, lo)) - f(lo)) / span, 0.0, 1.0)

        cv = Canvas(width, height)
        if no_color:
            ramp = ASCII_RAMP[1:][::-1]                      # few steps: dense
            for r in range(rows):
                for c in range(cols):
                    s = st[r, c]
                    ch = {PENDING: " ", SLOW: ".", GREW: "x"}.get(
                        s, ramp[min(len(ramp) - 1, int(frac[r, c] * len(ramp)))])
                    cv.put(r, left + c, ch)
        else:
            ramp = pal.heat_ramp[::-1]                        # few steps: bright
            k = np.minimum(len(ramp) - 1, (frac * len(ramp)).astype(int))
            px = np.asarray(ramp)[k]
            px = np.where(st == GREW, pal.diverged, px)
            px = np.where(st == SLOW, SLOW_COLOR, px)
            px = np.where(st == PENDING, 234, px)
            cv.pixels(0, left, px.astype(np.int16))

        self._draw_boundary(cv, left, cols, rows, no_color)
        self._draw_cursor(cv, left, cols, rows, sub, no_color)
        for v, s in zip(yt, ylabels):                          # y axis labels
            r = int(round((1.0 - self._frac(self.ys, self.logy, v)) * rows - 0.5))
            cv.text(min(max(r, 0), rows - 1), left - 1 - len(s), s)
        cv.text(0, 0, self.y_key[: left - 1], bold=True)
        cv.text(rows, 0, self.x_key[: left - 1], bold=True)
        for v, s in zip(*_ticks(self.xs, self.logx, max(2, cols // 10))):
            c = int(self._frac(self.xs, self.logx, v) * cols)
            cv.text(rows, min(max(left + c - len(s) // 2, left), width - len(s)), s)
        if len(outcomes):
            self._legend(cv, rows + 1, lo, hi, no_color)
        else:
            cv.text(rows + 1, 0, f"waiting for the first of {len(self.members):,} trials…")
        return cv.lines()

    @staticmethod
    def _at(axis: np.ndarray, log: bool, frac: np.ndarray) -> np.ndarray:
        a, b = float(axis[0]), float(axis[-1])
        if log:
            return np.exp(np.log(a) + (np.log(b) - np.log(a)) * frac)
        return a + (b - a) * frac

    @staticmethod
    def _frac(axis: np.ndarray, log: bool, v: float) -> float:
        a, b = float(axis[0]), float(axis[-1])
        if b == a:
            return 0.5
        if log:
            return (math.log(v) - math.log(a)) / (math.log(b) - math.log(a)) if v > 0 else 0.0
        return (v - a) / (b - a)

    def limit(self, y: float) -> float | None:
        """The closed-form largest stable x at this y, where the pane knows one: x = ε, y = α
        on a quadratic with positive eigenvalues (its largest is the λ that limits ε)."""
        problem = self.ctx.problem
        eig = problem.get("eigenvalues")
        if (self.x_key != "lr" or problem.get("surface") != "quadratic" or not eig
                or problem.get("matrix") is not None or min(eig) <= 0):
            return None
        optimizer = self.members[0].values.get("optimizer", "sgd")
        alpha = y if self.y_key == "momentum" else float(self.members[0].values.get("momentum", 0.0))
        return stable_lr_limit(optimizer, alpha, float(max(eig)))

    def _draw_boundary(self, cv: Canvas, left: int, cols: int, rows: int, no_color: bool) -> None:
        if not self.boundary:
            return
        for r in range(rows):
            y = float(self._at(self.ys, self.logy, np.array([1.0 - (r + 0.5) / rows]))[0])
            x = self.limit(y)
            if x is None:
                return
            c = int(self._frac(self.xs, self.logx, x) * cols)
            if 0 <= c < cols:
                cv.put(r, left + c, "|" if no_color else "│", palette().landmark, bold=True)

    def _draw_cursor(self, cv: Canvas, left: int, cols: int, rows: int, sub: int,
                     no_color: bool) -> None:
        x, y = float(self.xs[self.cursor[0]]), float(self.ys[self.cursor[1]])
        c = int(self._frac(self.xs, self.logx, x) * cols)
        r = int((1.0 - self._frac(self.ys, self.logy, y)) * rows)
        cv.put(min(max(r, 0), rows - 1), left + min(max(c, 0), cols - 1),
               "+" if no_color else "◉", palette().landmark, bold=True)

    def _legend(self, cv: Canvas, row: int, lo: float, hi: float, no_color: bool) -> None:
        """lo ▮▮▮▮ hi steps, then the other states and the closed form, tighter when narrow."""
        pal = palette()
        narrow = cv.width < 60
        gap = " " if narrow else "  "
        unit = " steps" if self.metric == "steps_to_tol" else ""
        neither = "none" if narrow else "neither"
        parts: list[tuple[str, int]] = [(f"{fmt(lo)} ", -1)]
        if no_color:
            parts += [(ASCII_RAMP[1:][::-1], -1),
                      (f" {fmt(hi)}{unit}{gap}. {neither}{gap}x grew", -1)]
        else:
            ramp = pal.heat_ramp[::-1][:: 4 if narrow else 2]
            parts += [("█", c) for c in ramp]
            parts += [(f" {fmt(hi)}{unit}{gap}", -1), ("█", SLOW_COLOR), (f" {neither}{gap}", -1),
                      ("█", pal.diverged), (" grew", -1)]
        if self.boundary and self.limit(float(self.ys[0])) is not None:
            parts += [(gap, -1), ("|" if no_color else "│", pal.landmark),
                      (" theory" if narrow else " closed form", -1)]
        x = 0
        for s, color in parts:
            cv.text(row, x, s, color)
            x += len(s)
