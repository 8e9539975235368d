"""A series over steps for every run (loss, gradient norm, ...), log10 on a linear axis,
with the scenario's theory guide lines."""

from __future__ import annotations

import warnings

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.chunk import Status
from tui_optim.engine.series import words
from tui_optim.ui.colors import run_color, run_glyph
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import Line, LinePlot

MAX_LINES = 10          # more runs than this (sweeps, restarts): a summary, not spaghetti
SUMMARY = (240, 252)    # greys of the 10-90 % lines and the median

LOG_BY_DEFAULT = {"loss", "grad_norm", "val_loss", "update_ratio", "lr", "sharpness"}


class TracePane(Pane):
    kind = "trace"

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.series = values.get("series", "loss")
        values.setdefault("log", self.series.split(".")[-1] in LOG_BY_DEFAULT)
        labels = values.get("runs")                  # before the base class asks the title
        self.run_ids = ([ctx.run_index(l, -1) for l in labels] if labels else list(range(len(ctx.runs))))
        self.run_ids = [i for i in self.run_ids if i >= 0]
        super().__init__(values, ctx, id=id)
        self.plot = LinePlot()
        self.guides = [(float(g["value"]), str(g.get("label", ""))) for g in values.get("guides", ()) or ()
                       if isinstance(g, dict) and "value" in g]

    def words(self) -> tuple[str, str]:
        """(title, y-axis label): the scenario's if it gave them, else the series' words."""
        title, axis = words(self.series)
        return self.values.get("title") or title, self.values.get("ylabel") or axis

    def short_title(self) -> str:
        return self.words()[0]

    def title(self) -> str:
        t = self.words()[0]
        if len(self.run_ids) > MAX_LINES:
            t += f" · median and 10-90 % of {len(self.run_ids)} runs, the selected one in colour"
        return f"{t} · log" if self.log_scale else t

    def data_key(self) -> tuple:
        t = self.ctx.trace
        return tuple(t.run_version(i) for i in self.run_ids) + (self.ctx.selected,)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        lines = []
        points = max(8, 2 * (width - 8))      # a point per braille dot column
        sel = self.ctx.selected
        shown = self.run_ids
        if len(self.run_ids) > MAX_LINES:     # a sweep: its spread, and one run in full
            lines = self._summary(points)
            shown = [sel] if sel in self.run_ids else self.run_ids[:1]
        for i in sorted(shown, key=lambda i: i == sel):    # the selected run on top
            v = t.view(i, self.series, points)
            if len(v) == 0:
                continue
            status, at = t.status(i)
            lines.append(Line(v.steps, v.mean, run_color(i),
                              run_glyph(i) if self.ctx.no_color else "braille",
                              self.ctx.runs[i].label, tag=run_glyph(i) if len(shown) > 1 else "",
                              diverged_at=at if status == Status.DIVERGED else None,
                              lo=v.lo, hi=v.hi))
        if not lines:
            return Text(f"waiting for {self.series}…", style="dim")
        # the whole run's steps from the start, so the axis does not jump as the data arrive
        last = max((self.ctx.runs[i].steps for i in self.run_ids), default=1)
        ylim = self.values.get("ylim")
        return self.plot.build(width, height, lines, log=self.log_scale, guides=self.guides,
                               no_color=self.ctx.no_color, ylabel=self.words()[1],
                               xlabel=self.values.get("xlabel") or "step",
                               xlim=(0, max(1, last - 1)), ylim=tuple(ylim) if ylim else None,
                               keep_all=self.values.get("range") == "all")

    def _summary(self, points: int) -> list[Line]:
        """The 10 %, 50 % and 90 % lines across the runs at every step (a run that ended early
        counts while it lasts), in greys under the selected run."""
        t = self.ctx.trace
        views = [t.view(i, self.series, points) for i in self.run_ids]
        views = [v for v in views if len(v)]
        if not views:
            return []
        grid = max((v.steps for v in views), key=len)
        stack = np.full((len(views), len(grid)), np.nan)
        for k, v in enumerate(views):
            inside = grid <= v.steps[-1]
            stack[k, inside] = np.interp(grid[inside], v.steps, v.mean)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # a step no run reached yet
            p10, p50, p90 = np.nanpercentile(stack, [10, 50, 90], axis=0)
        return [Line(grid, p10, SUMMARY[0], label="10 %"), Line(grid, p90, SUMMARY[0], label="90 %"),
                Line(grid, p50, SUMMARY[1], label="median", tag="m")]
