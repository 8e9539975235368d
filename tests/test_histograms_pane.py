"""The histograms pane reads as histograms: wide bars, the bin values under each column, runs
side by side, and the values outside the bin edges shown apart, never piled into the end bins."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tui_optim.chunk import Chunk
from tui_optim.trace import Trace
from tui_optim.ui.panes.base import PaneContext
from tui_optim.ui.panes.histograms import HistogramsPane, split_outside

EDGES = np.linspace(-1.5, 1.5, 31)


def hist(centre_bin: int, below: float = 0.0, above: float = 0.0) -> np.ndarray:
    h = np.zeros(30)
    h[centre_bin] = 1.0 - below - above
    return np.concatenate([[below], h, [above]])


def pane(runs=None, **values) -> HistogramsPane:
    labels = ["collapsed", "saturated"]
    trace = Trace(2)
    snaps = [{"layer.0.act_hist": hist(15), "layer.1.act_hist": hist(15)},
             {"layer.0.act_hist": hist(0, below=0.4, above=0.2),
              "layer.1.act_hist": hist(29, above=0.45)}]
    for i in range(2):
        trace.ingest(Chunk(run=i, start=0, n=1, series={"layer.0.act_std": np.array([0.5])},
                           snapshots={"hist.edges": EDGES, **snaps[i]}))
    ctx = PaneContext(trace, [SimpleNamespace(label=l, steps=1) for l in labels])
    return HistogramsPane({"which": "act", "runs": runs, **values}, ctx)


def test_outside_shares_are_split_from_the_bins():
    bins, below, above = split_outside(hist(3, 0.1, 0.2), len(EDGES))
    assert len(bins) == 30 and below == 0.1 and above == 0.2 and bins[0] == 0.0
    bins, below, above = split_outside(np.ones(30), len(EDGES))   # an older recording
    assert len(bins) == 30 and below == above == 0.0


def test_runs_side_by_side_with_outside_marks_and_an_axis():
    rows = pane(runs=["collapsed", "saturated"]).build(80, 12).plain.split("\n")
    text = "\n".join(rows)
    assert rows[0].startswith("collapsed") and "saturated" in rows[0]
    assert "◂40%" in text and "20%▸" in text and "45%▸" in text
    axis = rows[-1]
    assert axis.count("0") >= 2 and "-1" in axis and "1" in axis.replace("-1", "")
    # bars are as wide as a column, not a 6-column tower: one column per run of ~40 cells
    bar_rows = [r for r in rows if "█" in r]
    assert bar_rows and all(r.index("█") < 40 for r in bar_rows[:1])


def test_layers_key_picks_the_layers_shown():
    text = pane(runs=["collapsed", "saturated"], layers=[1]).build(80, 12).plain
    assert "L1" in text and "L0" not in text
