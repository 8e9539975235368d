"""Per-layer activation histograms as small multiples, updating live; `both` shows the
pre-activation (before batch norm and the nonlinearity) above the activation.

One run: a grid of its layers. Several runs (`runs = [...]`): one row per layer, one column per
run, so collapse, saturation and a healthy spread sit side by side. Bars fill the cell's width
(zoom widens them); each column has its x-axis (the bin values) under it; values outside the
bin edges are never mixed into the end bins: a cell shows their share as ◂12% / 3%▸ (of the
activations, when pre-activations are drawn too).
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.canvas import Canvas
from tui_optim.ui.colors import palette, run_color
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import short
from tui_optim.ui.ticks import nice_ticks, tick_labels

EIGHTHS = " ▁▂▃▄▅▆▇█"
MIN_CELL = 14          # columns a histogram needs to read as one
OUTSIDE_SHOWN = 0.005  # a share below/above the edges worth a mark


def rebin(counts: np.ndarray, cols: int) -> np.ndarray:
    """Sum neighbouring bins (or split them) so the histogram is `cols` wide."""
    b = len(counts)
    edges = np.linspace(0, b, cols + 1)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    return np.diff(np.interp(edges, np.arange(b + 1), cum))


def bars(canvas: Canvas, top: int, left: int, h: int, counts: np.ndarray, color: int | None) -> None:
    peak = counts.max() if counts.size and counts.max() > 0 else 1.0
    heights = counts / peak * h * 8
    for c, hv in enumerate(heights):
        full, part = int(hv // 8), int(round(hv % 8))
        for level in range(h):                    # from the bottom
            y = top + h - 1 - level
            if level < full:
                canvas.put(y, left + c, "█", color if color is not None else -1)
            elif level == full and part:
                canvas.put(y, left + c, EIGHTHS[part], color if color is not None else -1)


def split_outside(counts: np.ndarray, n_edges: int) -> tuple[np.ndarray, float, float]:
    """(bins, share below, share above): snapshots carry the two outside shares first and last
    (older recordings do not: then both are 0)."""
    counts = np.nan_to_num(np.asarray(counts, dtype=float))
    if len(counts) == n_edges + 1:
        return counts[1:-1], float(counts[0]), float(counts[-1])
    return counts, 0.0, 0.0


def axis_row(canvas: Canvas, y: int, left: int, w: int, lo: float, hi: float) -> None:
    """Round bin values under a histogram's columns: -1.5 … 0 … 1.5."""
    ticks = nice_ticks(lo, hi, max(2, w // 7))
    for t, label in zip(ticks, tick_labels(ticks)):
        c = int(round((t - lo) / (hi - lo) * (w - 1))) if hi > lo else 0
        x = min(max(0, c - len(label) // 2), max(0, w - len(label)))
        canvas.text(y, left + x, label, fg=palette().guide)


class HistogramsPane(Pane):
    kind = "histograms"
    log_default = False

    def __init__(self, values, ctx, *, id=None) -> None:
        self.which = values.get("which", "both")        # before the base class asks the title
        labels = values.get("runs")
        self.run_ids = [i for i in (ctx.run_index(l, -1) for l in labels) if i >= 0] if labels else []
        self.only_layers = list(values.get("layers") or ())
        super().__init__(values, ctx, id=id)

    def short_title(self) -> str:
        return "histograms"

    def _runs(self) -> list[int]:
        return self.run_ids or [self.run]

    def title(self) -> str:
        what = {"act": "activation", "preact": "pre-activation"}.get(self.which, "pre-activation and activation")
        scale = " · log counts" if self.log_scale else ""
        if self.run_ids:
            return f"{what} histograms, layer by layer, run by run{scale}"
        label = self.ctx.runs[self.run].label if len(self.ctx.runs) > 1 else ""
        return f"{what} histograms per layer" + (f" · {label}" if label else "") + scale

    def data_key(self) -> tuple:
        return tuple(self.ctx.trace.run_version(i) for i in self._runs())

    def _layers(self, kinds: list[str]) -> list[int]:
        t = self.ctx.trace
        have = sorted(set().union(*(t.layers(i, f"{k}_hist") for i in self._runs() for k in kinds)))
        return [l for l in have if l in self.only_layers] if self.only_layers else have

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        runs = self._runs()
        kinds = ["preact", "act"] if self.which == "both" else [self.which]
        kinds = [k for k in kinds if any(t.layers(i, f"{k}_hist") for i in runs)]
        if not kinds:
            return Text("waiting for histograms…", style="dim")
        layers = self._layers(kinds)
        edges = next((e for e in (t.snapshot(i, "hist.edges") for i in runs) if e is not None), None)
        if not layers or edges is None or len(edges) < 2:
            return Text("waiting for histograms…", style="dim")
        lo, hi = float(edges[0]), float(edges[-1])
        margin = 4 if len(kinds) > 1 else 0            # "pre "/"act " row labels on the left
        usable = max(1, width - margin)
        cells = [(l, i) for l in layers for i in runs]  # one histogram per (layer, run)
        if len(runs) > 1:
            per_row = len(runs)
        else:
            per_row = self._best_per_row(len(cells), usable, height - 2, len(kinds))
        header = 1 if len(runs) > 1 else 0
        grid_rows = -(-len(cells) // per_row)
        cell_w = usable // per_row
        band_h = max(2, (height - 1 - header) // grid_rows)    # title line + bars
        bar_h = max(1, (band_h - 1) // len(kinds))
        cv = Canvas(width, height)
        if header:
            for gx, i in enumerate(runs):
                cv.text(0, margin + gx * cell_w, self.ctx.runs[i].label[: cell_w - 1], bold=True,
                        fg=-1 if self.ctx.no_color else run_color(i))
        for n, (layer, i) in enumerate(cells):
            gy, gx = divmod(n, per_row)
            top, left = header + gy * band_h, margin + gx * cell_w
            if top + band_h > height - 1 and gy > 0:
                cv.text(height - 2, 0, f"… {grid_rows - gy} more rows (f: zoom)"[:width], fg=palette().guide)
                break
            w = max(1, cell_w - 1)
            self._cell(cv, top, left, w, bar_h, layer, i, kinds, len(edges), gx == 0 and margin)
        for gx in range(min(per_row, len(cells))):
            axis_row(cv, height - 1, margin + gx * cell_w, max(1, cell_w - 1), lo, hi)
        return cv.lines()

    @staticmethod
    def _best_per_row(n: int, usable: int, height: int, kinds: int) -> int:
        """Columns of small multiples: as wide as MIN_CELL allows, as tall as the rows allow."""
        best, score = 1, -1.0
        for per_row in range(1, n + 1):
            cell_w = usable // per_row
            rows = -(-n // per_row)
            bar_h = (height // rows - 1) // kinds
            if cell_w < MIN_CELL and per_row > 1:
                break
            s = min(cell_w / 3.0, bar_h) if bar_h >= 1 else -rows
            if s > score:
                best, score = per_row, s
        return best

    def _cell(self, cv: Canvas, top: int, left: int, w: int, bar_h: int, layer: int, run: int,
              kinds: list[str], n_edges: int, row_labels: bool) -> None:
        t = self.ctx.trace
        std = t.last(run, f"layer.{layer}.act_std")
        head = f"L{layer}" + (f" σ {short(std)}" if math.isfinite(std) else "")
        cv.text(top, left, head[:w], bold=True)
        y = top + 1
        for k in kinds:
            raw = t.snapshot(run, f"layer.{layer}.{k}_hist")
            if row_labels:
                cv.text(y + bar_h - 1, 0, "pre" if k == "preact" else "act", fg=palette().guide)
            if raw is not None:
                counts, below, above = split_outside(raw, n_edges)
                if self.log_scale:     # `l`: log counts, so a spike (dead ReLUs) hides nothing
                    counts = np.log1p(np.maximum(counts, 0.0) * 1e4)
                color = None if self.ctx.no_color else (run_color(1) if k == "preact" else run_color(0))
                bars(cv, y, left, bar_h, rebin(counts, w), color)
                if k == kinds[-1]:
                    self._outside(cv, top, left, w, len(head), below, above)
            y += bar_h

    @staticmethod
    def _outside(cv: Canvas, y: int, left: int, w: int, used: int, below: float, above: float) -> None:
        """The shares outside the edges, at the ends of the title line: ◂12%  3%▸."""
        marks = []
        if below >= OUTSIDE_SHOWN:
            marks.append(f"◂{below:.0%}")
        if above >= OUTSIDE_SHOWN:
            marks.append(f"{above:.0%}▸")
        text = " ".join(marks)
        if text and used + 1 + len(text) <= w:
            cv.text(y, left + w - len(text), text, fg=203)
