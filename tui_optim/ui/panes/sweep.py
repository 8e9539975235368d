"""A sweep's result against its hyperparameter: every run one point at (its value of `x`, its
final or best `series`), one colour per group, on a log x axis where the values span more than
a decade. Where a loss-curve pane draws eighteen tangled lines, this answers "which value is
best, and which values were tried"."""

from __future__ import annotations

import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.chunk import Status
from tui_optim.engine.series import higher_is_better, words
from tui_optim.ui.colors import palette, run_color
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.panes.trace import LOG_BY_DEFAULT
from tui_optim.ui.plotting import Line, LinePlot, Mark

BEST_POINTS = 4096      # points of a run's history its best value is taken from (the trace's min)
GROUP_GLYPHS = "●■▲◆✚"  # a group's points, told apart without colour too


class SweepPane(Pane):
    kind = "sweep"

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.x_key = values.get("x", "lr")
        self.series = values.get("series", "loss")
        self.metric = values.get("metric", "final")
        if values.get("log") is None:       # not given: log for losses and norms
            values["log"] = (self.metric != "steps_to_tol"
                             and self.series.split(".")[-1] in LOG_BY_DEFAULT)
        super().__init__(values, ctx, id=id)
        self.plot = LinePlot()
        every = list(dict.fromkeys([run.group for run in ctx.runs]
                                   + [t.group for t in ctx.trials]))
        self.groups = list(values.get("groups") or every)

    def _what(self, short: bool) -> str:
        if self.metric == "steps_to_tol":
            return "steps to tol"
        return f"{self.metric} {words(self.series)[1 if short else 0]}"

    def short_title(self) -> str:
        return f"{self._what(True)} vs {self.x_key}"

    def title(self) -> str:
        t = f"{self._what(False)} against {self.x_key}, a point per run"
        return f"{t} · log" if self.log_scale else t

    def data_key(self) -> tuple:
        t = self.ctx.trace
        return tuple(t.run_version(i) for i in range(len(self.ctx.runs))) + (
            self.ctx.selected, t.outcomes_version)

    def _value(self, i: int) -> float:
        """The run's final (or best so far: the largest accuracy, the smallest loss) value of
        the series; nan if it has none yet."""
        t = self.ctx.trace
        if self.metric == "best":
            v = t.view(i, self.series, BEST_POINTS)
            higher = higher_is_better(self.series)
            ends = v.hi if higher else v.lo
            ends = ends[np.isfinite(ends)]
            return float(ends.max() if higher else ends.min()) if len(ends) else math.nan
        return t.last(i, self.series)

    def _trial_value(self, metrics: dict[str, float]) -> float:
        """A trial's final, best or steps to its tol, from its outcome."""
        if self.metric == "steps_to_tol":
            return metrics.get("steps_to_tol", math.nan)
        if self.metric == "best":
            kind = "max" if higher_is_better(self.series) else "min"
            return metrics.get(f"{kind}.{self.series}", math.nan)
        return metrics.get(f"final.{self.series}", math.nan)

    def _points(self):
        """(run or trial, diverged, value) of every watched run and every trial that has one,
        in the groups shown; steps to tol is a trial's measure only."""
        t = self.ctx.trace
        if self.metric != "steps_to_tol":
            for i, run in enumerate(self.ctx.runs):
                diverged = t.status(i)[0] == Status.DIVERGED
                if run.group in self.groups:
                    yield run, diverged, (math.nan if diverged else self._value(i))
        for outcome in t.outcomes_since(0):
            trial = self.ctx.trials[outcome.trial]
            diverged = outcome.status == Status.DIVERGED
            if trial.group in self.groups and outcome.status != Status.STOPPED:
                yield trial, diverged, math.nan if diverged else self._trial_value(outcome.metrics)

    def build(self, width: int, height: int) -> RenderableType:
        runs, no_color = self.ctx.runs, self.ctx.no_color
        points: dict[str, tuple[list[float], list[float]]] = {g: ([], []) for g in self.groups}
        diverged: list[float] = []
        xs_all: list[float] = []
        unreached: list[float] = []     # trials that never got to their tol
        for run, went, y in self._points():
            x = run.values.get(self.x_key)
            if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x):
                continue
            xs_all.append(float(x))
            if went:
                diverged.append(float(x))
            elif math.isfinite(y):
                points[run.group][0].append(float(x))
                points[run.group][1].append(y)
            elif self.metric == "steps_to_tol":
                unreached.append(float(x))
        if not xs_all:
            return Text(f"no run has a number for {self.x_key!r}", style="dim")
        logx = min(xs_all) > 0 and max(xs_all) / min(xs_all) > 10
        lines, key = [], []
        for k, (group, (xs, ys)) in enumerate(points.items()):
            if not xs:
                continue
            glyph = GROUP_GLYPHS[k % len(GROUP_GLYPHS)]
            order = np.argsort(xs)
            lines.append(Line(np.asarray(xs)[order], np.asarray(ys)[order], run_color(k), glyph,
                              group, points=True))
            key.append(f"{glyph} {group}")
        marks = []
        sel = self.ctx.selected
        if (self.metric != "steps_to_tol" and 0 <= sel < len(runs)
                and runs[sel].group in self.groups and math.isfinite(self._value(sel))):
            x = runs[sel].values.get(self.x_key)
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                marks.append(Mark(float(x), self._value(sel), palette().landmark, "◉"))
        if not lines and not diverged and not unreached:
            return Text(f"waiting for {self.series}…", style="dim")
        if not lines:
            what = "diverged" if not unreached else "diverged or never reached their tol"
            return Text(f"all {len(diverged) + len(unreached)} runs {what}: nothing to compare",
                        style="bold red")
        ys_shown = [y for line in lines for y in line.y]
        top = max(ys_shown)
        for x in diverged:               # diverged runs: ✕ along the top edge of the plot
            marks.append(Mark(x, top, palette().diverged, "x" if no_color else "✕"))
        for x in unreached:              # and trials that never got to their tol: ▲
            marks.append(Mark(x, top, palette().guide, "^" if no_color else "▲"))
        ylabel = "steps" if self.metric == "steps_to_tol" else words(self.series)[1]
        return self.plot.build(width, height, lines, log=self.log_scale, marks=marks,
                               no_color=no_color, ylabel=ylabel,
                               xlabel=(f"{self.x_key} (log)" if logx else self.x_key)
                               + ("   " + "  ".join(key) if len(key) > 1 else ""),
                               logx=logx, keep_all=True)
