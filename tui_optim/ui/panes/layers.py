"""Per-layer series `layer.i.<series>`, two ways:

- over steps (default): one line per layer of one run, the exploding/vanishing picture in time;
- `x = "layer"`: the profile now, the series against the layer index, one line per run: how
  the activation std or the gradient shrinks (or holds) from the first layer to the last.

The update/weight ratio gets the ~1e-3 rule-of-thumb guide."""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from tui_optim.engine.series import LAYER_WORDS
from tui_optim.ui.colors import run_color, run_glyph
from tui_optim.ui.panes.base import Pane
from tui_optim.ui.plotting import Line, LinePlot


OUTPUT_TOO = ("grad_norm", "update_ratio", "gradcheck")   # per-layer series the output layer has too


class LayersPane(Pane):
    kind = "layers"

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.series = values.get("series", "grad_norm")
        self.profile = values.get("x") == "layer"
        self.at_first = values.get("at") == "first"
        labels = values.get("runs")         # before the base class asks the title
        self.run_ids = [i for i in (ctx.run_index(l, -1) for l in labels) if i >= 0] if labels \
            else list(range(len(ctx.runs)))
        values.setdefault("log", self.series in ("grad_norm", "update_ratio"))
        super().__init__(values, ctx, id=id)
        self.plot = LinePlot()
        self.guides = [(float(g["value"]), str(g.get("label", ""))) for g in values.get("guides", ()) or ()
                       if isinstance(g, dict) and "value" in g]
        if self.series == "update_ratio" and not self.guides:
            self.guides = [(1e-3, "1e-3")]

    def _words(self) -> str:
        return LAYER_WORDS.get(self.series, (self.series, self.series))[0]

    def short_title(self) -> str:
        if self.profile:
            return f"{self._words()} by layer"
        return f"{self._words()}/layer" + (f" · {self.ctx.runs[self.run].label}"
                                            if len(self.ctx.runs) > 1 else "")

    def title(self) -> str:
        if self.values.get("title"):
            t = self.values["title"]
        elif self.profile:
            t = f"{self._words()} against layer, " + ("at the first step" if self.at_first else "now")
        else:
            label = self.ctx.runs[self.run].label if self.run < len(self.ctx.runs) else ""
            t = f"{label}: {self._words()} per layer" if len(self.ctx.runs) > 1 else \
                f"{self._words()} per layer"
        return f"{t} · log" if self.log_scale else t

    def data_key(self) -> tuple:
        runs = self.run_ids if self.profile else [self.run]
        return tuple(self.ctx.trace.run_version(i) for i in runs) + (self.ctx.selected,)

    def _axis(self) -> str:
        return LAYER_WORDS[self.series][1] if self.series in LAYER_WORDS else self.series

    def build(self, width: int, height: int) -> RenderableType:
        return self._profile(width, height) if self.profile else self._over_steps(width, height)

    def _ylim(self):
        lim = self.values.get("ylim")
        return tuple(lim) if lim else None

    def _over_steps(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        layers = t.layers(self.run, self.series)
        if not layers:
            return Text(f"waiting for layer.*.{self.series}…", style="dim")
        out = layers[-1] if self.series in ("grad_norm", "update_ratio") else None
        points = max(8, 2 * (width - 8))      # a point per braille dot column
        lines = []
        for i in layers:
            v = t.view(self.run, f"layer.{i}.{self.series}", points)
            marker = run_glyph(i) if self.ctx.no_color else "braille"
            name = "out" if i == out else f"L{i}"
            lines.append(Line(v.steps, v.mean, run_color(i), marker, name, tag=name[1:] if
                              name != "out" else "out", lo=v.lo, hi=v.hi))
        pic = self.plot.build(width, max(4, height - 1), lines, log=self.log_scale, guides=self.guides,
                              no_color=self.ctx.no_color, ylabel=self._axis(), ylim=self._ylim(),
                              xlim=(0, max(1, self.ctx.runs[self.run].steps - 1)))
        key = Text(no_wrap=True, overflow="ellipsis")
        for i, line in zip(layers, lines):
            mark = run_glyph(i) if self.ctx.no_color else "━"
            key.append(f" {mark}", style=f"color({run_color(i)})" if not self.ctx.no_color else "")
            key.append(line.label)
        return Text("\n").join([pic, key])

    def _profile(self, width: int, height: int) -> RenderableType:
        """The latest value of layer.i.<series> against i, one line per run (the selected on top)."""
        t = self.ctx.trace
        sel = self.ctx.selected
        lines = []
        for r in sorted(self.run_ids, key=lambda i: i == sel):
            layers = t.layers(r, self.series)
            if self.series not in OUTPUT_TOO:
                layers = layers[:-1]        # the output layer has logits, not activations
            if not layers:
                continue
            value = t.first if self.at_first else t.last
            y = np.array([value(r, f"layer.{i}.{self.series}") for i in layers])
            lines.append(Line(np.array(layers, dtype=float), y, run_color(r),
                              run_glyph(r) if self.ctx.no_color else "braille",
                              self.ctx.runs[r].label, tag=run_glyph(r)))
        if not lines:
            return Text(f"waiting for layer.*.{self.series}…", style="dim")
        last = max(int(line.x[-1]) for line in lines)
        return self.plot.build(width, height, lines, log=self.log_scale, guides=self.guides,
                               no_color=self.ctx.no_color, ylabel=self._axis(), xlabel="layer",
                               xlim=(0, max(1, last)), ylim=self._ylim(), keep_all=True)
