"""The headless summary keeps memory flat however long a run: every record while a run is
short, its first and last records and exact running statistics when it is long; claims give
the same answers either way, or say plainly which records they would need."""

import math

import numpy as np
import pytest

from tui_optim.expect import claim_tolerances, evaluate
from tui_optim.runner import Session
from tui_optim.scenario import ExpectSpec, load_scenario
from tui_optim import summary as summary_mod
from tui_optim.summary import KeptSeries, NotKept, Summary


@pytest.fixture(autouse=True)
def small_ends(monkeypatch):
    """Runs of a few thousand steps stand in for long ones: 100 records kept at each end."""
    monkeypatch.setattr(summary_mod, "MIN_KEEP", 100)


def test_a_kept_series_keeps_its_ends_and_exact_statistics():
    rng = np.random.default_rng(0)
    full = np.concatenate([rng.standard_normal(3000).cumsum(), [np.inf, np.nan, -2.0]])
    k = KeptSeries(100, 150, tols=[-5.0, 0.0])
    at = 0
    for n in rng.integers(1, 97, 200):           # chunks of any size
        k.add(full[at:at + n])
        at += n
        if at >= len(full):
            break
    k.add(full[at:])
    assert k.n == len(full) and not k.complete
    assert (k.first, k.final) == (full[0], full[-1])
    assert (k.min, k.max) == (np.nanmin(full), np.nanmax(full))
    d = np.diff(full)
    assert (k.down, k.up) == (np.count_nonzero(d < 0), np.count_nonzero(d > 0))
    for tol in (-5.0, 0.0):
        hits = np.flatnonzero(full <= tol)
        assert k.below(tol) == (int(hits[0]), len(hits))
    assert np.array_equal(k.window(3, 90), full[3:90])
    assert np.array_equal(k.window(len(full) - 150, len(full)), full[-150:], equal_nan=True)
    with pytest.raises(NotKept, match="keeps only its first 100 and last"):
        k.window(50, 200)
    with pytest.raises(NotKept):
        k.below(1.0)                            # a tolerance no claim named
    short = KeptSeries(100, 150)
    short.add(full[:250])
    assert short.complete and np.array_equal(short.window(0, 250), full[:250])


def _pieces(chunk, size=50):
    """A chunk as chunks of at most `size` records (a long run's chunks are small beside it)."""
    from dataclasses import replace

    for a in range(0, max(chunk.n, 1), size):
        b = min(chunk.n, a + size)
        last = b == chunk.n
        yield replace(chunk, start=chunk.start + a, n=b - a,
                      series={k: v[a:b] for k, v in chunk.series.items()},
                      status=chunk.status if last else type(chunk.status).RUNNING,
                      diverged_at=chunk.diverged_at if last else None)


def _summaries(name, steps, keep):
    scenario = load_scenario(name, steps=steps)   # steps None: the scenario's own
    tols = claim_tolerances(scenario.expects)
    full, kept = Summary(Session(scenario).runs), None
    session = Session(scenario)
    kept = Summary(session.runs, keep=keep, tols=tols)
    full = Summary(session.runs, keep=None)
    for chunk in session.chunks():
        for piece in _pieces(chunk):
            full.add(piece)
            kept.add(piece)
    return scenario, full, kept


@pytest.mark.parametrize("name", ["03_momentum_ravine", "11_polyak_averaging", "10_lr_decay",
                                  "04_adaptive_rates", "02_conditioning"])
def test_a_long_runs_claims_are_the_claims_of_every_record(name):
    """Kept: 100 records at each end of each series, far fewer than the runs have. Every
    claim either gives the answer every record gives, or names the records it would need."""
    scenario, full, kept = _summaries(name, None, keep=1)
    assert any(not r.kept("loss").complete for r in kept.runs)
    a = evaluate(scenario.expects, full.runs)
    b = evaluate(scenario.expects, kept.runs)
    answered = 0
    for va, vb in zip(a, b):
        if vb.error is not None:
            assert "flat memory" in vb.error, (va.claim, vb.error)
            continue
        answered += 1
        assert va.holds == vb.holds, va.claim
        if "mean(" not in va.check:             # a running sum: equal but for the last bit
            assert va.measured == vb.measured, va.claim
    if name == "03_momentum_ravine":            # its claims look at the first steps
        assert answered == len(a)


def test_a_claim_on_records_not_kept_says_which_and_why():
    scenario, _, kept = _summaries("03_momentum_ravine", 3000, keep=1)
    checks = {
        "at('SGD', 'loss', 1500) > 0": "records 1500..1500 of 3,000",
        "sign_flips('SGD', 'x.0', 0) >= 0": "records 0..2999 of 3,000",
        "count_below('SGD', 'loss', 0.123) >= 0": "not 0.123 (flat memory)",
    }
    for check, says in checks.items():
        (v,) = evaluate([ExpectSpec("c", check)], kept.runs)
        assert not v.holds and says in v.error, (check, v.error)
    fine = ["final('SGD', 'loss') < 1", "steps_to('SGD', 'loss', 1e-6) < 3000",
            "frac_decreasing('SGD', 'loss') > 0.5", "min('SGD', 'loss', 2900) >= 0",
            "max('SGD', 'loss') > 1", "spread('SGD', 'loss') > 0", "at('SGD', 'loss', -1) >= 0"]
    scenario2 = load_scenario("03_momentum_ravine", steps=3000)
    tols = claim_tolerances([ExpectSpec("c", c) for c in fine])
    session = Session(scenario2)
    full, long = Summary(session.runs, keep=None), Summary(session.runs, keep=1, tols=tols)
    for chunk in session.chunks():
        for piece in _pieces(chunk):
            full.add(piece)
            long.add(piece)
    for check in fine:
        (a,) = evaluate([ExpectSpec("c", check)], full.runs)
        (b,) = evaluate([ExpectSpec("c", check)], long.runs)
        assert b.error is None and (a.holds, a.measured) == (b.holds, b.measured), check
    assert math.isfinite(long.runs[0].final("loss"))


def test_claim_tolerances_are_the_numbers_claims_name():
    expects = [ExpectSpec("a", "steps_to('x', 'loss', 1e-6) < steps_to('y', 'grad_norm', 0.5)"),
               ExpectSpec("b", "count_below('x', 'loss', tol=-2) > 3 and "
                               "steps_to('x', 'loss', 2 * first('x', 'loss')) < 9")]
    assert claim_tolerances(expects) == {"loss": {1e-6, -2.0}, "grad_norm": {0.5}}
