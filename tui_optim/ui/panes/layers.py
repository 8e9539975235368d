"""One line per layer of one run for `layer.i.<series>`: the exploding/vanishing picture.
The update/weight ratio gets the ~1e-3 rule-of-thumb guide."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from tui_optim.ui.colors import run_color, run_glyph
from tui_optim.ui.panes.base import Pane
from tui_optim.engine.series import LAYER_WORDS
from tui_optim.ui.plotting import Line, LinePlot

TITLES = {"grad_norm": "gradient norm per layer", "update_ratio": "update/weight ratio per layer",
          "act_std": "activation std per layer", "dead": "dead units per layer"}


class LayersPane(Pane):
    kind = "layers"

    def __init__(self, values, ctx, *, id=None) -> None:
        values = dict(values)
        self.series = values.get("series", "grad_norm")
        values.setdefault("log", self.series in ("grad_norm", "update_ratio"))
        super().__init__(values, ctx, id=id)
        self.plot = LinePlot()
        self.guides = [(float(g["value"]), str(g.get("label", ""))) for g in values.get("guides", ()) or ()
                       if isinstance(g, dict) and "value" in g]
        if self.series == "update_ratio" and not self.guides:
            self.guides = [(1e-3, "1e-3")]

    def short_title(self) -> str:
        return f"{LAYER_WORDS.get(self.series, (self.series,))[0]}/layer"

    def title(self) -> str:
        t = self.values.get("title") or TITLES.get(self.series, self.series)
        label = self.ctx.runs[self.run].label if self.run < len(self.ctx.runs) else ""
        t = f"{t} · {label}" if len(self.ctx.runs) > 1 else t
        return f"{t} · log scale" if self.log_scale else t

    def data_key(self) -> tuple:
        return (self.ctx.trace.run_version(self.run),)

    def build(self, width: int, height: int) -> RenderableType:
        t = self.ctx.trace
        layers = t.layers(self.run, self.series)
        if not layers:
            return Text(f"waiting for layer.*.{self.series}…", style="dim")
        points = max(8, 2 * (width - 8))      # a point per braille dot column
        lines = []
        for i in layers:
            v = t.view(self.run, f"layer.{i}.{self.series}", points)
            marker = run_glyph(i) if self.ctx.no_color else "braille"
            lines.append(Line(v.steps, v.mean, run_color(i), marker, f"L{i}", tag=str(i % 10),
                              lo=v.lo, hi=v.hi))
        pic = self.plot.build(width, max(4, height - 1), lines, log=self.log_scale, guides=self.guides,
                              no_color=self.ctx.no_color, ylabel=LAYER_WORDS[self.series][1]
                              if self.series in LAYER_WORDS else self.series,
                              xlim=(0, max(1, self.ctx.runs[self.run].steps - 1)))
        key = Text(no_wrap=True, overflow="ellipsis")
        for i in layers:
            mark = run_glyph(i) if self.ctx.no_color else "━"
            key.append(f" {mark}", style=f"color({run_color(i)})" if not self.ctx.no_color else "")
            key.append(f"L{i}")
        return Text("\n").join([pic, key])
