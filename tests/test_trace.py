"""The trace keeps bounded memory, exact averages, spikes and statuses."""

import numpy as np
import pytest

from tui_optim.chunk import Chunk, Status
from tui_optim.trace import Series, Trace, status_text


def feed(series: Series, values, chunk=37):
    for s in range(0, len(values), chunk):
        series.append(s, values[s: s + chunk])


def test_series_exact_when_small():
    s = Series(capacity=64)
    v = np.arange(50, dtype=float)
    feed(s, v, chunk=7)
    view = s.view(100)
    np.testing.assert_array_equal(view.steps, np.arange(50))
    np.testing.assert_array_equal(view.mean, v)
    assert view.last == 49.0


@pytest.mark.parametrize("chunk", [1, 5, 64, 1000, 100_000])
def test_series_bounded_and_means_exact(chunk):
    s = Series(capacity=64)
    n = 10_000
    v = np.random.default_rng(0).normal(size=n)
    feed(s, v, chunk=chunk)
    assert s.used <= 64
    assert s.n == n
    view = s.view(64)
    assert len(view) <= 64
    # total weighted mean is preserved exactly (up to rounding)
    counts = s.count[: s.used]
    assert counts.sum() == n
    assert np.isclose((s.sum[: s.used]).sum(), v.sum())
    assert np.isclose(view.lo.min(), v.min()) and np.isclose(view.hi.max(), v.max())


def test_spike_survives_decimation():
    s = Series(capacity=32)
    v = np.ones(100_000)
    v[77_777] = 1e6
    feed(s, v, chunk=999)
    view = s.view(10)
    assert view.hi.max() == 1e6
    assert view.mean.max() < 1e6   # averaged line stays smooth


def test_view_steps_are_bucket_centres():
    s = Series(capacity=4)
    feed(s, np.arange(16, dtype=float), chunk=3)
    view = s.view(4)
    np.testing.assert_allclose(view.steps, [1.5, 5.5, 9.5, 13.5])
    np.testing.assert_allclose(view.mean, [1.5, 5.5, 9.5, 13.5])


def test_nonfinite_values_do_not_poison_min_max():
    s = Series(capacity=8)
    s.append(0, np.array([1.0, 2.0, np.inf, np.nan]))
    view = s.view(1)
    assert view.lo[0] == 1.0
    assert view.hi[0] == np.inf


def chunk(run, start, n, status=Status.RUNNING, **snap):
    return Chunk(run=run, start=start, n=n, series={"loss": np.full(n, 1.0 / (start + 1))},
                 snapshots=snap, status=status,
                 diverged_at=(start + n - 1) if status == Status.DIVERGED else None)


def test_trace_versions_status_snapshots():
    t = Trace(2)
    v0 = t.version
    t.ingest(chunk(0, 0, 10, **{"surface.grid": np.zeros((3, 3))}))
    assert t.version > v0 and t.run_version(0) == t.version and t.run_version(1) == 0
    t.ingest(chunk(1, 0, 14, status=Status.DIVERGED))
    assert t.status(1) == (Status.DIVERGED, 13)
    assert status_text(*t.status(1)) == "diverged at step 13"
    assert t.snapshot(0, "surface.grid").shape == (3, 3)
    assert t.records(0) == 10
    assert t.names(0) == ["loss"]
    assert len(t.view(0, "loss", 5)) == 5
    assert len(t.view(0, "nope", 5)) == 0
    assert len(t.view(7, "loss", 5)) == 0


def test_restart_from_zero_forgets_history():
    t = Trace(1)
    t.ingest(chunk(0, 0, 10))
    t.ingest(chunk(0, 10, 10))
    t.ingest(chunk(0, 0, 5))
    assert t.records(0) == 5
    assert len(t.view(0, "loss", 100)) == 5


def test_layers_found_from_names():
    t = Trace(1)
    t.ingest(Chunk(run=0, start=0, n=1, series={"layer.0.grad_norm": np.ones(1),
                                                "layer.2.grad_norm": np.ones(1)},
                   snapshots={"layer.1.act_hist": np.ones(4)}))
    assert t.layers(0, "grad_norm") == [0, 2]
    assert t.layers(0, "act_hist") == [1]


def test_trace_does_not_import_textual():
    import subprocess, sys
    code = "import sys, tui_optim.trace; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_diverging_series_folds_to_inf_and_nan_without_numpy_warnings():
    import warnings

    s = Series(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.append(0, np.full(40, 1e308))            # bucket sums overflow; merges too
        s.append(40, np.array([np.nan, np.inf, 1.0]))
        v = s.view(2)
    assert v.mean[0] == np.inf and v.hi[0] == 1e308 and v.hi[-1] == np.inf
    assert s.n == 43 and s.last == 1.0
