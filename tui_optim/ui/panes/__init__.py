"""One module per pane kind; `make_pane` turns a scenario's PaneSpec into a widget."""

from __future__ import annotations

from typing import Any, Mapping

from tui_optim.ui.panes.base import Pane, PaneContext
from tui_optim.ui.panes.boundary import BoundaryPane
from tui_optim.ui.panes.gradcheck import GradcheckPane
from tui_optim.ui.panes.heat import HeatPane
from tui_optim.ui.panes.histograms import HistogramsPane
from tui_optim.ui.panes.layers import LayersPane
from tui_optim.ui.panes.surface import SurfacePane
from tui_optim.ui.panes.trace import TracePane

KINDS: dict[str, type[Pane]] = {
    "surface": SurfacePane,
    "trace": TracePane,
    "layers": LayersPane,
    "heat": HeatPane,
    "histograms": HistogramsPane,
    "boundary": BoundaryPane,
    "gradcheck": GradcheckPane,
}

# When a scenario lists no panes (the loader normally fills these in; kept as a fallback).
DEFAULTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "surface": [("surface", {}), ("trace", {"series": "loss"}), ("trace", {"series": "grad_norm"})],
    "network": [("trace", {"series": "loss"}), ("layers", {"series": "grad_norm"}),
                ("histograms", {}), ("layers", {"series": "update_ratio"}), ("boundary", {})],
    "chain": [("trace", {"series": "loss"}), ("heat", {"series": "grad_norm"}),
              ("layers", {"series": "grad_norm"})],
}


def make_pane(kind: str, values: Mapping[str, Any], ctx: PaneContext, *, id: str | None = None) -> Pane:
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown pane kind {kind!r}; known: {', '.join(KINDS)}")
    return cls(values, ctx, id=id)


__all__ = ["KINDS", "DEFAULTS", "Pane", "PaneContext", "make_pane"]
