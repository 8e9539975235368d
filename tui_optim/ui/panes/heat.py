"""Layer × time heat strip of `layer.i.<series>` on a log scale: one row per layer, so an
exploding or vanishing gradient shows as a colour gradient from the first to the last layer."""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import ASCII_RAMP, palette
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import fmt, to_log


class HeatPane(Pane):
    kind = "heat"

    def __init__(self, values, ctx, *, id=None) -> None:
        self.series = dict(values).get("series", "grad_norm")
        super().__init__(values, ctx, id=id)

    def short_title(self) -> str:
        return f"{self.series} heat"

    def title(self) -> str:
        label = self.ctx.runs[self.run].label if len(self.ctx.runs) > 1 else ""
        scale = "log10 " if self.log_scale else ""
        return f"{scale}{self.series} · layer × step" + (f" · {label}" if label else "")

    def data_key(self) -> tuple:
        return (self.ctx.trace.run_version(self.run),)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        layers = t.layers(self.run, self.series)
        if not layers:
            return Text(f"waiting for layer.*.{self.series}…", style="dim")
        label_w = len(f"L{layers[-1]} ")
        cols = max(1, width - label_w)
        rows = max(1, height - 1)
        shown = layers if len(layers) <= rows else layers[:: -(-len(layers) // rows)]
        vals = np.full((len(shown), cols), np.nan)
        n_records = t.records(self.run)
        for r, i in enumerate(shown):
            v = t.view(self.run, f"layer.{i}.{self.series}", cols)
            if len(v) and n_records:
                # each column shows the point nearest its step range (no gaps while short)
                col_steps = (np.arange(cols) + 0.5) / cols * n_records
                k = np.clip(np.searchsorted(v.steps, col_steps), 0, len(v) - 1)
                row = to_log(v.mean[k]) if self.log_scale else v.mean[k]
                row[col_steps > v.steps[-1] + 1] = np.nan     # not reached yet
                vals[r] = row
        finite = np.isfinite(vals)
        cv = Canvas(width, height)
        if not finite.any():
            return Text("waiting for data…", style="dim")
        lo, hi = float(vals[finite].min()), float(vals[finite].max())
        if hi - lo < 1e-12:
            hi = lo + 1.0
        ramp = ASCII_RAMP[1:] if self.ctx.no_color else palette().heat_ramp
        scaled = np.nan_to_num((vals - lo) / (hi - lo), nan=-1.0)   # -1 marks "no data"
        idx = np.clip(np.floor(scaled * len(ramp)), -1, len(ramp) - 1).astype(int)
        bounds = np.linspace(0, rows, len(shown) + 1).astype(int)   # the strip fills the pane
        for r, i in enumerate(shown):
            # first layer at the bottom, like a network drawn from the input up
            slot = len(shown) - 1 - r
            base, per = bounds[slot], max(1, bounds[slot + 1] - bounds[slot])
            cv.text(base + (per - 1) // 2, 0, f"L{i}".rjust(label_w - 1))
            for dy in range(per):
                for c in range(cols):
                    k = idx[r, c]
                    if k < 0:
                        continue
                    if self.ctx.no_color:
                        cv.put(base + dy, label_w + c, ramp[k])
                    else:
                        cv.put(base + dy, label_w + c, " ", bg=ramp[k])
        lo_s = fmt(10 ** lo) if self.log_scale else fmt(lo)
        hi_s = fmt(10 ** hi) if self.log_scale else fmt(hi)
        legend = f"step 0…{n_records}  {lo_s} "
        cv.text(rows, 0, legend[:width])
        k = len(legend)
        if self.ctx.no_color:
            cv.text(rows, k, ramp + " " + hi_s)
        else:
            for j, c in enumerate(palette().heat_ramp[::2]):
                cv.put(rows, k + j, "█", c)
            cv.text(rows, k + len(palette().heat_ramp[::2]), " " + hi_s)
        return cv.lines()
