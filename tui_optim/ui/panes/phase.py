"""A phase diagram: a grid sweep of trials over two keys as cells, filling in as their outcomes
arrive. Every grid value gets an equal share of the axis, the first and last included; a
pixel shows the trial nearest its centre. Colour: its steps to tol (or its final or least
`series`), bright is good; red where its loss grew or it diverged (chunk.outcome_kind), grey
where it did neither within its steps. Where the catalog knows the optimizer's stability limit
and the trials are plain (no noise, clipping, schedule or averaging), the closed form is drawn
over it: the edge of the red region should follow the line.

The cursor (←→↑↓ on this pane, a pixel at a time) names one trial in the title; enter opens
it as a watched run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.chunk import Outcome, outcome_kind
from tui_optim.engine.catalog import stable_lr_limit
from tui_optim.engine.series import higher_is_better, words
from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import ASCII_RAMP, palette
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import fmt
from tui_optim.ui.ticks import log_ticks, nice_ticks, tick_labels

# cell states
PENDING, REACHED, SLOW, GREW = 0, 1, 2, 3
SLOW_COLOR = 238            # neither reached tol nor grew: dark grey on either theme
PENDING_COLOR = 234         # not computed yet (or stopped)


class Axis:
    """A key's grid values, each given an equal share of the axis (on a log scale where the
    sweep spaced them by equal ratios, or they span more than a decade), the ends included."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.unique(values)
        u = self.values
        self.log = False
        if len(u) >= 3 and u[0] > 0:
            steps, ratios = np.diff(u), u[1:] / u[:-1]
            self.log = (not np.allclose(steps, steps[0], rtol=1e-6)
                        and (np.allclose(ratios, ratios[0], rtol=1e-6) or u[-1] / u[0] > 10))
        t = self._t(u)
        half = (t[-1] - t[0]) / (2 * (len(u) - 1)) if len(u) > 1 else 0.5
        self.lo, self.hi = t[0] - half, t[-1] + half

    def _t(self, v):
        return np.log(np.asarray(v, dtype=float)) if self.log else np.asarray(v, dtype=float)

    def frac(self, v: float) -> float:
        """Where value v sits along the axis, 0..1."""
        return float((self._t(v) - self.lo) / (self.hi - self.lo)) if v > 0 or not self.log else 0.0

    def nearest(self, fracs: np.ndarray) -> np.ndarray:
        """Index of the grid value nearest each position 0..1."""
        t = self.lo + np.asarray(fracs) * (self.hi - self.lo)
        return np.abs(self._t(self.values)[None, :] - t[:, None]).argmin(axis=1)

    def value_at(self, frac: float) -> float:
        t = self.lo + frac * (self.hi - self.lo)
        return float(np.exp(t)) if self.log else float(t)

    def ticks(self, most: int) -> tuple[list[float], list[str]]:
        if self.log:
            at, labels, _ = log_ticks(math.log10(self.values[0]), math.log10(self.values[-1]),
                                      most)
            return [10 ** v for v in at], labels
        at = nice_ticks(float(self.values[0]), float(self.values[-1]), most)
        return at, tick_labels(at)


def _step(shown: np.ndarray, at: int, d: int) -> int:
    """The grid index `d` pixels away along a row or column of pixels `shown` (a grid index
    each, ascending or descending), skipping the pixels that show the same cell as `at`."""
    if d == 0:
        return at
    same = np.flatnonzero(shown == at)
    if not len(same):
        return int(shown[np.abs(shown - at).argmin()])
    k = same[-1] + 1 if d > 0 else same[0] - 1
    return int(shown[min(max(k, 0), len(shown) - 1)])


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
        # a sweep with repeats: the first time is drawn (claims see every time)
        self.members = [t for t in ctx.trials if t.group == self.group
                        and not t.values.get("repeat")
                        and all(isinstance(t.values.get(k), (int, float))
                                for k in (self.x_key, self.y_key))]
        xs = np.array([float(t.values[self.x_key]) for t in self.members])
        ys = np.array([float(t.values[self.y_key]) for t in self.members])
        self.x, self.y = Axis(xs), Axis(ys)
        # trial index (into ctx.trials) at each (y, x) of the grid; -1 where none was run
        self.grid = np.full((len(self.y.values), len(self.x.values)), -1, dtype=int)
        if self.members:
            self.grid[np.searchsorted(self.y.values, ys), np.searchsorted(self.x.values, xs)] = [
                t.index for t in self.members]
        self.cursor = (len(self.x.values) // 2, len(self.y.values) // 2)
        self.boundary = bool(values.get("boundary", True)) and self._plain()
        # per trial, kept up to date as outcomes arrive (not recomputed for 20,000 each frame)
        self._state = np.zeros(len(ctx.trials), dtype=np.int8)
        self._value = np.full(len(ctx.trials), np.nan)
        self._seen, self._trace = 0, None
        self._pixels = (np.zeros(0, int), np.zeros(0, int))    # grid index per column, per row
        super().__init__(values, ctx, id=id)

    def _plain(self) -> bool:
        """Trials the closed form describes: one optimizer, exact gradients, constant ε."""
        vals = [t.values for t in self.members]
        return bool(vals) and len({v.get("optimizer") for v in vals}) == 1 and all(
            not v.get("noise") and not v.get("clip") and not v.get("average")
            and not v.get("continuation")
            and (v.get("schedule") or {}).get("name", "constant") == "constant" for v in vals)

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
            t += (f" · ▸ {self.x_key} {fmt(float(trial.values[self.x_key]))}, "
                  f"{self.y_key} {fmt(float(trial.values[self.y_key]))}: "
                  f"{self._cell_words(trial.index)}")
        return t

    def data_key(self) -> tuple:
        return (self.ctx.trace.outcomes_version, self.cursor)

    def cursor_trial(self) -> Any:
        if not self.members:
            return None
        i = self.grid[self.cursor[1], self.cursor[0]]
        return self.ctx.trials[i] if i >= 0 else None

    def move(self, dx: int, dy: int) -> None:
        """Move the cursor by one pixel of the picture (up: larger y), onto the trial that
        pixel shows, so the ◉ and the title always name the same cell."""
        cols, rows = self._pixels
        x, y = self.cursor
        if len(cols) and len(rows):
            x, y = _step(cols, x, dx), _step(rows, y, -dy)
        else:
            x = min(max(x + dx, 0), len(self.x.values) - 1)
            y = min(max(y + dy, 0), len(self.y.values) - 1)
        self.cursor = (x, y)
        self.border_title = self.title()

    # -- one cell ------------------------------------------------------------------------------
    def _classify(self, o: Outcome) -> tuple[int, float]:
        kind = outcome_kind(o)
        if kind == "stopped":
            return PENDING, math.nan
        if kind == "grew":
            return GREW, math.nan
        if self.metric == "steps_to_tol":
            return (REACHED, o.metrics["steps_to_tol"]) if kind == "reached" else (SLOW, math.nan)
        v = o.metrics.get(f"{self.metric}.{self.series}", math.nan)
        return (REACHED, v) if math.isfinite(v) else (SLOW, math.nan)

    def _cell_words(self, trial: int) -> str:
        o = self.ctx.trace.outcome(trial)
        if o is None:
            return "running"
        state, v = self._classify(o)
        steps = self.ctx.trials[trial].steps
        return {PENDING: "stopped", REACHED: f"{v:.0f} steps" if self.metric == "steps_to_tol"
                else fmt(v), SLOW: f"not within {steps} steps", GREW: "loss grew"}[state]

    def _catch_up(self) -> None:
        """Classify the outcomes that arrived since the last frame (all of them on a new
        trace: a restart)."""
        trace = self.ctx.trace
        if trace is not self._trace:
            self._trace, self._seen = trace, 0
            self._state[:] = PENDING
            self._value[:] = np.nan
        new = trace.outcomes_since(self._seen)
        self._seen += len(new)
        for o in new:
            self._state[o.trial], self._value[o.trial] = self._classify(o)

    # -- the picture ---------------------------------------------------------------------------
    def build(self, width: int, height: int) -> RenderableType:
        if not self.members:
            return Text(f"no trials of group {self.group!r} with numbers {self.x_key!r} and "
                        f"{self.y_key!r} (trials are runs with keep = \"result\")", style="dim")
        if (self.grid >= 0).mean() < 0.5:
            return Text(f"{self.group!r} is not a grid over {self.x_key} and {self.y_key}: a "
                        "phase diagram needs every combination (a grid sweep)", style="dim")
        self._catch_up()
        no_color = self.ctx.no_color
        pal = palette()
        yt, ylabels = self.y.ticks(max(2, height // 3))
        left = max((len(s) for s in ylabels), default=1) + 1
        cols, rows = max(1, width - left), max(1, height - 2)
        sub = 1 if no_color else 2                # half blocks: two cells per character
        ix = self.x.nearest((np.arange(cols) + 0.5) / cols)
        iy = self.y.nearest(1.0 - (np.arange(rows * sub) + 0.5) / (rows * sub))
        self._pixels = (ix, self.y.nearest(1.0 - (np.arange(rows) + 0.5) / rows))
        trial = self.grid[iy[:, None], ix[None, :]]                       # (rows*sub, cols)
        st = np.where(trial >= 0, self._state[np.maximum(trial, 0)], PENDING)
        val = np.where(trial >= 0, self._value[np.maximum(trial, 0)], np.nan)

        members = np.array([t.index for t in self.members])
        shown = self._value[members][self._state[members] == REACHED]   # every trial, not pixels
        lo, hi = (float(shown.min()), float(shown.max())) if shown.size else (math.nan, math.nan)
        logv = self.log_scale and shown.size and lo > 0
        f = np.log10 if logv else (lambda a: a)
        span = (f(hi) - f(lo)) or 1.0 if shown.size else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.clip((f(np.where(st == REACHED, val, lo if shown.size else 0.0))
                            - (f(lo) if shown.size else 0.0)) / span, 0.0, 1.0)
        if self.metric != "steps_to_tol" and higher_is_better(self.series):
            frac = 1.0 - frac                     # bright is good: a high accuracy

        cv = Canvas(width, height)
        if no_color:
            ramp = ASCII_RAMP[1:][::-1]                      # good: dense
            for r in range(rows):
                for c in range(cols):
                    s = st[r, c]
                    ch = {PENDING: " ", SLOW: "~", GREW: "x"}.get(
                        s, ramp[min(len(ramp) - 1, int(frac[r, c] * len(ramp)))])
                    cv.put(r, left + c, ch)
        else:
            ramp = pal.heat_ramp[::-1]                        # good: bright
            k = np.minimum(len(ramp) - 1, (frac * len(ramp)).astype(int))
            px = np.asarray(ramp)[k]
            px = np.where(st == GREW, pal.diverged, px)
            px = np.where(st == SLOW, SLOW_COLOR, px)
            px = np.where(st == PENDING, PENDING_COLOR, px)
            cv.pixels(0, left, px.astype(np.int16))

        self._draw_boundary(cv, left, cols, rows, no_color)
        self._draw_cursor(cv, left, no_color)
        for v, s in zip(yt, ylabels):                          # y axis labels
            r = int((1.0 - self.y.frac(v)) * rows)
            cv.text(min(max(r, 0), rows - 1), left - 1 - len(s), s)
        cv.text(0, 0, self.y_key[: left - 1], bold=True)
        cv.text(rows, 0, self.x_key[: left - 1], bold=True)
        for v, s in zip(*self.x.ticks(max(2, cols // 10))):
            c = int(self.x.frac(v) * cols)
            cv.text(rows, min(max(left + c - len(s) // 2, left), width - len(s)), s)
        self._legend(cv, rows + 1, lo, hi, no_color)
        return cv.lines()

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
            x = self.limit(self.y.value_at(1.0 - (r + 0.5) / rows))
            if x is None:
                return
            c = int(self.x.frac(x) * cols)
            if 0 <= c < cols:
                cv.put(r, left + c, "|" if no_color else "│", palette().landmark, bold=True)

    def _draw_cursor(self, cv: Canvas, left: int, no_color: bool) -> None:
        cols, rows = self._pixels
        c = int(np.abs(cols - self.cursor[0]).argmin())
        r = int(np.abs(rows - self.cursor[1]).argmin())
        cv.put(r, left + c, "+" if no_color else "◉", palette().landmark, bold=True)

    def _legend(self, cv: Canvas, row: int, lo: float, hi: float, no_color: bool) -> None:
        """lo ▮▮▮▮ hi steps, then the other states and the closed form, tighter when narrow."""
        pal = palette()
        narrow = cv.width < 60
        gap = " " if narrow else "  "
        unit = " steps" if self.metric == "steps_to_tol" and not narrow else ""
        neither = "none" if narrow else "neither"
        good, bad = (hi, lo) if (self.metric != "steps_to_tol"
                                 and higher_is_better(self.series)) else (lo, hi)
        ends = (fmt(good), fmt(bad)) if math.isfinite(lo) else ("—", "—")
        parts: list[tuple[str, int]] = [(f"{ends[0]} ", -1)]
        if no_color:
            parts += [(ASCII_RAMP[1:][::-1], -1),
                      (f" {ends[1]}{unit}{gap}~ {neither}{gap}x grew", -1)]
        else:
            ramp = pal.heat_ramp[::-1][:: 4 if narrow else 2]
            parts += [("█", c) for c in ramp]
            parts += [(f" {ends[1]}{unit}{gap}", -1), ("█", SLOW_COLOR), (f" {neither}{gap}", -1),
                      ("█", pal.diverged), (" grew", -1)]
            if self.ctx.trace.n_outcomes < len(self.ctx.trials):
                parts += [(gap, -1), ("█", PENDING_COLOR), (" to come", -1)]
        if self.boundary and self.limit(float(self.y.values[0])) is not None:
            parts += [(gap, -1), ("|" if no_color else "│", pal.landmark),
                      (" theory" if narrow else " closed form", -1)]
        x = 0
        for s, color in parts:
            cv.text(row, x, s, color)
            x += len(s)
