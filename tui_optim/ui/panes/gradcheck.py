"""Relative error per layer between the analytic and the central-difference gradient."""

from __future__ import annotations

import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import fmt

OK, WARN = 1e-6, 1e-3


class GradcheckPane(Pane):
    kind = "gradcheck"
    log_default = True

    def __init__(self, values, ctx, *, id=None) -> None:
        super().__init__(values, ctx, id=id)

    def short_title(self) -> str:
        return "gradcheck"

    def title(self) -> str:
        return "gradient check: relative error per layer"

    def data_key(self) -> tuple:
        return (self.ctx.trace.run_version(self.run),)

    def build(self, width: int, height: int) -> RenderableType:
        errs = self.ctx.trace.snapshot(self.run, "gradcheck")
        if errs is None:
            return Text("waiting for a gradient check…", style="dim")
        out = Text(no_wrap=True, overflow="ellipsis")
        bar_w = max(4, width - 24)
        for i, e in enumerate(np.asarray(errs, dtype=float).ravel()[: max(1, height)]):
            good = math.isfinite(e) and e < OK
            verdict = "ok" if good else ("check" if math.isfinite(e) and e < WARN else "BAD")
            color = "green" if good else ("yellow" if verdict == "check" else "red")
            # bar length: log10 error from 1e-12 (empty) to 1e0 (full)
            if not math.isfinite(e):
                frac = 1.0
            elif e <= 0:
                frac = 0.0
            else:
                frac = min(1.0, max(0.0, (math.log10(e) + 12) / 12))
            n = int(round(frac * bar_w))
            if i:
                out.append("\n")
            out.append(f"L{i:<3}{fmt(e):>9} ")
            out.append("█" * n + "·" * (bar_w - n), style="" if self.ctx.no_color else color)
            out.append(f" {verdict}", style="bold" if verdict != "ok" else "")
        return out
