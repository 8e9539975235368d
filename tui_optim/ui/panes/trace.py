"""A series over steps for every run (loss, gradient norm, ...), log10 on a linear axis,
with the scenario's theory guide lines."""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.chunk import Status
from tui_optim.ui.colors import DIVERGED, run_color, run_glyph
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import LinePlot

LOG_BY_DEFAULT = {"loss", "grad_norm", "val_loss", "update_ratio", "lr", "sharpness"}


class TracePane(Pane):
    kind = "trace"

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.series = values.get("series", "loss")
        values.setdefault("log", self.series.split(".")[-1] in LOG_BY_DEFAULT)
        super().__init__(values, ctx, id=id)
        self.plot = LinePlot()
        labels = values.get("runs")
        self.run_ids = ([ctx.run_index(l, -1) for l in labels] if labels else list(range(len(ctx.runs))))
        self.run_ids = [i for i in self.run_ids if i >= 0]
        self.guides = [(float(g["value"]), str(g.get("label", ""))) for g in values.get("guides", ()) or ()
                       if isinstance(g, dict) and "value" in g]

    def short_title(self) -> str:
        return self.values.get("title") or self.series

    def title(self) -> str:
        t = self.values.get("title") or self.series
        return f"{t} (log)" if self.log_scale else t

    def data_key(self) -> tuple:
        t = self.ctx.trace
        return tuple(t.run_version(i) for i in self.run_ids)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        lines, marks = [], []
        points = max(8, width - 10)
        for i in self.run_ids:
            v = t.view(i, self.series, points)
            if len(v) == 0:
                continue
            marker = run_glyph(i) if self.ctx.no_color else "braille"
            lines.append((v.steps, v.mean, run_color(i), marker, self.ctx.runs[i].label))
            status, at = t.status(i)
            if status == Status.DIVERGED:
                finite = np.isfinite(v.mean)
                if finite.any():
                    k = np.flatnonzero(finite)[-1]
                    marks.append((float(v.steps[k]), float(v.mean[k]), DIVERGED, "✕"))
        if not lines:
            return Text(f"waiting for {self.series}…", style="dim")
        return self.plot.build(width, height, lines, log=self.log_scale, guides=self.guides,
                               marks=marks, no_color=self.ctx.no_color)
