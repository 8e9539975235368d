"""One module per pane kind; `make_pane` turns a scenario's PaneSpec into a widget."""

from __future__ import annotations

from typing import Any, Mapping

from tui_optim.ui.panes.base import Pane, PaneContext
from tui_optim.ui.panes.boundary import BoundaryPane
from tui_optim.ui.panes.gradcheck import GradcheckPane
from tui_optim.ui.panes.heat import HeatPane
from tui_optim.ui.panes.histograms import HistogramsPane
from tui_optim.ui.panes.layers import LayersPane
from tui_optim.ui.panes.phase import PhasePane
from tui_optim.ui.panes.surface import SurfacePane
from tui_optim.ui.panes.sweep import SweepPane
from tui_optim.ui.panes.trace import TracePane

# One widget class per pane kind of the catalog (engine/catalog.py PANES; a test pins the two).
KINDS: dict[str, type[Pane]] = {
    "surface": SurfacePane,
    "trace": TracePane,
    "layers": LayersPane,
    "heat": HeatPane,
    "histograms": HistogramsPane,
    "boundary": BoundaryPane,
    "gradcheck": GradcheckPane,
    "phase": PhasePane,
    "sweep": SweepPane,
}

def make_pane(kind: str, values: Mapping[str, Any], ctx: PaneContext, *, id: str | None = None) -> Pane:
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown pane kind {kind!r}; known: {', '.join(KINDS)}")
    return cls(values, ctx, id=id)


__all__ = ["KINDS", "Pane", "PaneContext", "make_pane"]
