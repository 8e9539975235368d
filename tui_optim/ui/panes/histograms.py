"""Per-layer activation histograms as small multiples, updating live; `both` shows the
pre-activation (before batch norm and the nonlinearity) above the activation."""

from __future__ import annotations

import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import run_color
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import fmt

EIGHTHS = " ▁▂▃▄▅▆▇█"
NAMES = {"preact": "pre-activation", "act": "activation"}


def rebin(counts: np.ndarray, cols: int) -> np.ndarray:
    """Sum neighbouring bins (or repeat them) so the histogram is `cols` wide."""
    b = len(counts)
    edges = np.linspace(0, b, cols + 1)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    return np.diff(np.interp(edges, np.arange(b + 1), cum))


def bars(canvas: Canvas, top: int, left: int, h: int, counts: np.ndarray, color: int | None) -> None:
    peak = counts.max() if counts.size and counts.max() > 0 else 1.0
    heights = counts / peak * h * 8
    for c, hv in enumerate(heights):
        full, part = int(hv // 8), int(round(hv % 8))
        for r in range(h):
            level = r  # from the bottom
            y = top + h - 1 - level
            if level < full:
                canvas.put(y, left + c, "█", color if color is not None else -1)
            elif level == full and part:
                canvas.put(y, left + c, EIGHTHS[part], color if color is not None else -1)


class HistogramsPane(Pane):
    kind = "histograms"
    log_default = False

    def __init__(self, values, ctx, *, id=None) -> None:
        super().__init__(values, ctx, id=id)
        self.which = values.get("which", "both")

    def short_title(self) -> str:
        return "histograms"

    def title(self) -> str:
        label = self.ctx.runs[self.run].label if len(self.ctx.runs) > 1 else ""
        scale = " (log counts)" if self.log_scale else ""
        return "activation histograms per layer" + (f" · {label}" if label else "") + scale

    def data_key(self) -> tuple:
        return (self.ctx.trace.run_version(self.run),)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        kinds = ["preact", "act"] if self.which == "both" else [self.which]
        kinds = [k for k in kinds if t.layers(self.run, f"{k}_hist")]
        if not kinds:
            return Text("waiting for histograms…", style="dim")
        layers = sorted(set().union(*(t.layers(self.run, f"{k}_hist") for k in kinds)))
        edges = t.snapshot(self.run, "hist.edges")
        margin = 4 if len(kinds) > 1 else 0           # "pre "/"act " row labels on the left
        usable_w = max(1, width - margin)
        footer = 1 if height >= 8 else 0
        per_row = max(1, min(len(layers), usable_w // 9))
        grid_rows = -(-len(layers) // per_row)
        cell_w = usable_w // per_row
        band_h = max(2, (height - footer) // grid_rows)   # one layer's block: title + bars
        bar_h = max(1, (band_h - 1) // len(kinds))
        cv = Canvas(width, height)
        for n, layer in enumerate(layers):
            gy, gx = divmod(n, per_row)
            top, left = gy * band_h, margin + gx * cell_w
            w = max(1, cell_w - 1)
            std = t.last(self.run, f"layer.{layer}.act_std")
            head = f"L{layer}" + (f" σ {fmt(std)}" if math.isfinite(std) else "")
            cv.text(top, left, head[:w], bold=True)
            y = top + 1
            for k in kinds:
                counts = t.snapshot(self.run, f"layer.{layer}.{k}_hist")
                if margin and gx == 0:
                    cv.text(y + bar_h - 1, 0, "pre" if k == "preact" else "act", fg=244)
                if counts is not None:
                    counts = np.nan_to_num(np.asarray(counts, dtype=float))
                    if self.log_scale:     # `l`: log counts, so a spike (dead ReLUs) hides nothing
                        counts = np.log1p(np.maximum(counts, 0.0))
                    color = None if self.ctx.no_color else (run_color(1) if k == "preact" else run_color(0))
                    bars(cv, y, left, bar_h, rebin(counts, w), color)
                y += bar_h
        if footer and edges is not None and len(edges) > 1:
            note = f"x: {fmt(float(edges[0]))}…{fmt(float(edges[-1]))}"
            if len(kinds) > 1:
                note += "  pre = before BN/nonlinearity · act = after"
            cv.text(height - 1, 0, note[:width], fg=244)
        return cv.lines()
