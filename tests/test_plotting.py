"""The plot promises of ui/ticks and ui/plotting: round ticks on any range, and a run that
explodes or diverges never takes the y-range from the others."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_optim.ui.plotting import Line, LinePlot, scale_lines
from tui_optim.ui.ticks import log_ticks, nice_ticks, tick_labels

RANGES = [(0.0, 1.0), (-3.7, 74.8), (0.0886, 0.508), (-1e-300, 1e-300), (1e-300, 3e-300),
          (-1e300, 1e300), (1e299, 1e300), (-5.0, -4.999), (0.0, 299.0), (-2.0, 2.0),
          (123456.0, 123457.0), (-1.7976931348623157e308, 1.7976931348623157e308)]


def is_125(step: float) -> bool:
    mant = step / 10 ** math.floor(math.log10(step))
    return any(abs(mant - m) < 1e-9 * m for m in (1.0, 2.0, 5.0, 10.0))


@pytest.mark.parametrize("lo, hi", RANGES)
@pytest.mark.parametrize("n", [2, 3, 6, 10])
def test_nice_ticks_are_round_evenly_spaced_and_inside(lo, hi, n):
    ticks = nice_ticks(lo, hi, n)
    assert 2 <= len(ticks) <= max(n, 3)   # -2..2 in 2 ticks has no round answer
    assert all(lo - 1e-9 * abs(lo) <= t <= hi + 1e-9 * abs(hi) for t in ticks)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0], rtol=1e-6)
    assert is_125(float(steps[0]))
    assert len(set(tick_labels(ticks))) == len(ticks), tick_labels(ticks)


def test_nice_ticks_pick_the_round_values_a_person_would():
    assert nice_ticks(-3.7, 74.8, 5) == [0.0, 20.0, 40.0, 60.0]
    assert nice_ticks(0.0886, 0.508, 5) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert nice_ticks(-2.0, 2.0, 3) == [-2.0, 0.0, 2.0]
    assert tick_labels([0.1, 0.2, 0.3]) == ["0.1", "0.2", "0.3"]
    assert tick_labels([0.0, 2e-5, 4e-5]) == ["0", "2e-5", "4e-5"]


@pytest.mark.parametrize("lo, hi", [(math.nan, 1.0), (0.0, math.inf), (-math.inf, math.inf),
                                    (math.nan, math.nan)])
def test_no_ticks_for_a_range_that_is_not_finite(lo, hi):
    assert nice_ticks(lo, hi) == []
    assert log_ticks(lo, hi) == ([], [], [])


def test_a_zero_width_range_gets_its_one_value():
    assert nice_ticks(3.0, 3.0) == [3.0]
    assert nice_ticks(0.0, 0.0) == [0.0]


@pytest.mark.parametrize("lo, hi", [(-30.0, 0.6), (-300.0, 300.0), (-1.0, 1.0), (-323.0, 308.0),
                                    (5.0, 5.3)])
def test_log_ticks_are_decades_at_a_round_stride(lo, hi):
    pos, labels, minor = log_ticks(lo, hi, 6)
    assert 2 <= len(pos) <= 6 and all(lo - 1e-9 <= p <= hi + 1e-9 for p in pos)
    if hi - lo >= 2:
        assert all(p.is_integer() for p in pos) and labels == [f"1e{int(p)}" for p in pos]
        stride = pos[1] - pos[0]
        assert stride in (1, 2, 5, 10, 20, 50, 100, 200)
        assert all(m.is_integer() and m % stride for m in minor)
    else:                                    # inside a decade: round values on the linear scale
        assert all(is_125(abs(10 ** pos[1] - 10 ** pos[0])) for _ in pos[:1])


def test_an_exploding_run_does_not_take_the_range():
    # 01's w − w*: four runs within ±2, the fifth grows to ±82
    extents = [(0.0, 2.0), (0.0, 2.0), (-1.0, 2.0), (-2.0, 2.0), (-82.3, 82.3)]
    assert scale_lines(extents) == [0, 1, 2, 3]
    # runs that merely differ do keep the range together
    assert scale_lines([(0.0, 2.0), (-2.0, 2.0), (-3.0, 3.0)]) == [0, 1, 2]
    # on a log axis 30 decades of convergence are not squeezed by 3 decades of growth
    assert scale_lines([(-30.0, 0.6), (-30.0, 0.6), (0.6, 3.9)], log=True) == [0, 1, 2]
    # ... a diverging loss does not take 300 decades from the others ...
    assert scale_lines([(-3.0, 0.6), (-2.0, 0.6), (0.6, 300.0)], log=True) == [0, 1]
    # ... and a collapse far below the rest is the lesson, not an outlier (16's std 0.01)
    assert scale_lines([(-9.0, -8.5), (-0.1, 0.0), (-0.6, -0.4)], log=True) == [0, 1, 2]


def rows_of(text) -> list[str]:
    return text.plain.split("\n")


def test_a_diverged_run_leaves_through_the_edge_with_its_step():
    steps = np.arange(40.0)
    calm = Line(steps, np.cos(steps) * 0.5 ** steps, 39, label="calm", tag="1")
    wild = Line(steps[:30], 1.5 ** steps[:30], 208, label="wild", tag="2", diverged_at=30)
    pic = rows_of(LinePlot().build(60, 16, [calm, wild], log=False))
    assert "↑ wild diverged at 30" in pic[-1]            # said under the plot, not over data
    assert any("↑" in r for r in pic[:3])                 # and marked where it leaves
    labels = [r.split("┤")[0].strip() for r in pic if "┤" in r]
    assert max(float(v) for v in labels if v) <= 1.0       # the calm run owns the y-range


def test_a_guide_is_drawn_on_the_row_of_its_value_with_its_label():
    steps = np.arange(20.0)
    w = 2.0 * (-0.5) ** steps
    pic = rows_of(LinePlot().build(60, 14, [Line(steps, w, 39)], log=False,
                                   guides=[(0.0, "w*")]))
    rows = [r for r in pic if "┤" in r or "├" in r]
    labels = [r.split("├")[0].split("┤")[0].strip() for r in rows]
    at = labels.index("w*")                              # the guide is labelled on the axis
    assert "─" in rows[at]                               # on the row its line is drawn
    above = [float(l) for l in labels[:at] if l]
    below = [float(l) for l in labels[at + 1:] if l]
    assert min(above) > 0 > max(below), labels


def test_axis_titles_name_both_axes():
    steps = np.arange(10.0)
    pic = rows_of(LinePlot().build(50, 12, [Line(steps, steps ** 2, 39)], log=False,
                                   ylabel="‖g‖"))
    assert "↑ ‖g‖" in pic[-1] and "step →" in pic[-1]


def test_an_averaged_swing_still_shows_its_extent():
    """400 steps in 40 columns: each point averages ±1 to 0, the dots keep the swing visible."""
    from tui_optim.trace import Series

    s = Series()
    s.append(0, np.array([(-1.0) ** k for k in range(400)]))
    v = s.view(40)
    assert np.allclose(v.mean, 0.0)
    pic = rows_of(LinePlot().build(50, 12, [Line(v.steps, v.mean, 39, lo=v.lo, hi=v.hi)],
                                   log=False))
    body = [r for r in pic if "┤" in r or "│" in r]
    top_label = float([r.split("┤")[0] for r in pic if "┤" in r][0].strip())
    assert top_label >= 0.5, "the y-range reaches the swing, not just the mean"
    assert sum(any("\u2800" <= c <= "\u28ff" for c in r) for r in body) >= 3   # mean row and both edges


def test_several_decades_get_every_decade_even_when_the_stride_would_leave_one():
    # 1e-3 to 0.3 with room for three ticks: 1e-3, 1e-2, 1e-1, not 0.1 0.2 0.3 on a log axis
    assert log_ticks(-3.1, -0.42, 3)[1] == ["1e-3", "1e-2", "1e-1"]


def test_a_sweep_pane_puts_each_run_at_its_hyperparameter_and_result():
    """Final loss against lr on a log axis: the grid's 3 values and random search's 4 land in
    their own columns, each group with its glyph; a diverged run is a ✕ along the top."""
    from types import SimpleNamespace

    from tui_optim.chunk import Chunk, Status
    from tui_optim.trace import Trace
    from tui_optim.ui.panes.base import PaneContext
    from tui_optim.ui.panes.sweep import SweepPane

    lrs = [(1e-3, "grid"), (1e-2, "grid"), (1e-1, "grid"),
           (2e-3, "random"), (5e-3, "random"), (3e-2, "random"), (3e-1, "random"), (1.0, "grid")]
    runs = [SimpleNamespace(index=i, label=f"r{i}", group=g, steps=10, values={"lr": lr})
            for i, (lr, g) in enumerate(lrs)]
    trace = Trace(len(runs))
    for i, (lr, _) in enumerate(lrs):
        diverged = lr == 1.0
        loss = np.full(10, np.inf if diverged else 0.05 / lr ** 0.5)
        trace.ingest(Chunk(i, 0, 10, {"loss": loss}, {},
                           Status.DIVERGED if diverged else Status.DONE, 9 if diverged else None))
    ctx = PaneContext(trace, runs, selected=-1)
    pane = SweepPane({"x": "lr", "series": "loss", "metric": "final", "log": True}, ctx)
    rows = rows_of(pane.build(60, 18))
    plot = rows[1:-3]
    assert rows[-2].split() == ["1e-3", "1e-2", "1e-1", "1e0"]       # a log axis, by decade
    assert "● grid" in rows[-1] and "■ random" in rows[-1] and "(log)" in rows[-1]
    assert sum(r.count("●") for r in plot) == 3 and sum(r.count("■") for r in plot) == 4
    assert sum(r.count("✕") for r in plot) == 1 and "✕" in plot[0] + plot[1]
    # one column per decade of lr: the grid's points sit under their ticks, in order
    tick_cols = [rows[-2].index(t) for t in ("1e-3", "1e-2", "1e-1")]
    grid_cols = sorted(r.index("●") for r in plot if "●" in r)
    assert all(abs(g - (t + 1)) <= 2 for g, t in zip(grid_cols, tick_cols)), (grid_cols, tick_cols)
    # lower lr, higher loss: the points fall from left to right
    grid_rows = [next(k for k, r in enumerate(plot) if len(r) > c and r[c] == "●") for c in grid_cols]
    assert grid_rows == sorted(grid_rows) and len(set(grid_rows)) == 3


def test_a_sweep_where_every_run_diverged_says_so_and_best_accuracy_is_the_largest():
    from types import SimpleNamespace

    from tui_optim.chunk import Chunk, Status
    from tui_optim.trace import Trace
    from tui_optim.ui.panes.base import PaneContext
    from tui_optim.ui.panes.sweep import SweepPane

    runs = [SimpleNamespace(index=i, label=f"r{i}", group="g", steps=3, values={"lr": lr})
            for i, lr in enumerate((1.0, 2.0))]
    trace = Trace(2)
    for i in range(2):
        trace.ingest(Chunk(i, 0, 3, {"loss": np.array([1.0, 5.0, np.inf]),
                                     "accuracy": np.array([0.3, 0.9, 0.8])}, {}, Status.DIVERGED, 2))
    pane = SweepPane({"x": "lr", "series": "loss", "log": None}, PaneContext(trace, runs))
    assert "all 2 runs diverged" in pane.build(40, 12).plain
    best = SweepPane({"x": "lr", "series": "accuracy", "metric": "best", "log": None},
                     PaneContext(trace, runs))
    assert best._value(0) == 0.9 and not best.log_scale       # accuracy: linear, largest best


def test_a_sweep_pane_draws_trials_from_their_outcomes():
    """Trials (keep = "result") have no records in the trace, only outcomes: the pane puts
    each at its lr and its steps to tol (linear), fewer steps at larger rates; a diverged
    trial is a ✕."""
    from types import SimpleNamespace

    from tui_optim.chunk import Outcome, Status
    from tui_optim.trace import Trace
    from tui_optim.ui.panes.base import PaneContext
    from tui_optim.ui.panes.sweep import SweepPane

    lrs = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    trials = [SimpleNamespace(index=i, label=f"t{i}", group="GD", steps=1000, values={"lr": lr},
                              tol=1e-6) for i, lr in enumerate(lrs)]
    trace = Trace(0)
    for i, lr in enumerate(lrs):
        if lr == 1.0:
            trace.ingest(Outcome(i, 5, Status.DIVERGED, {"steps_to_tol": math.inf}, 4))
        else:
            trace.ingest(Outcome(i, 1000, Status.DONE, {"steps_to_tol": 7.0 / lr}))
    pane = SweepPane({"x": "lr", "series": "loss", "metric": "steps_to_tol", "log": None},
                     PaneContext(trace, [], trials=trials))
    assert not pane.log_scale and pane.short_title() == "steps to tol vs lr"
    rows = rows_of(pane.build(60, 18))
    plot = rows[1:-3]
    assert sum(r.count("●") for r in plot) == 6 and sum(r.count("✕") for r in plot) == 1
    cols = sorted((r.index("●"), k) for k, r in enumerate(plot) if "●" in r)
    assert [k for _, k in cols] == sorted(k for _, k in cols)      # falling left to right
    assert "steps" in rows[-1]
