"""SurfaceStepper against the Stepper protocol: series names, record semantics, determinism,
chunking independence, divergence, snapshots, warm-up."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from tui_optim.engine.surface_stepper import SurfaceStepper, warm_up

CONFIGS = [
    ({"surface": "rosenbrock"}, {"optimizer": "sgd", "lr": 1e-3}),
    ({"surface": "rosenbrock"}, {"optimizer": "adam", "lr": 1e-2}),
    ({"surface": "rosenbrock"}, {"optimizer": "adam", "lr": 1e-2, "bias_correction": False}),
    ({"surface": "himmelblau"}, {"optimizer": "momentum", "lr": 1e-3, "noise": 0.5}),
    ({"surface": "quadratic", "eigenvalues": [1.0, 3.0, 9.0], "rotation_seed": 2},
     {"optimizer": "nesterov", "lr": 0.05, "noise": 0.1, "clip": {"norm": 1.0},
      "average": {"kind": "polyak"}, "schedule": {"name": "cosine", "warmup": 10}}),
    ({"surface": "wiggly"}, {"optimizer": "sgd", "lr": 0.005,
                             "continuation": {"sigmas": [1.0, 0.3, 0.0], "samples": 4}}),
    ({"surface": "logistic", "n_samples": 50}, {"optimizer": "adagrad", "lr": 0.5,
                                                "batch_size": 7}),
    ({"surface": "least_squares", "n_samples": 30, "n_features": 3},
     {"optimizer": "lbfgs", "batch_size": 8, "average": {"kind": "ema", "decay": 0.9}}),
    ({"surface": "rastrigin"}, {"optimizer": "rmsprop", "lr": 0.01, "noise": 1.0}),
    ({"surface": "beale"}, {"optimizer": "newton", "lr": 0.5, "damping": 1.0}),
    ({"surface": "quadratic", "eigenvalues": [1.0, 2.0, 3.0, 4.0]},
     {"optimizer": "coordinate", "block": 3}),
]
IDS = [f"{p['surface']}-{r['optimizer']}" for p, r in CONFIGS]


@pytest.mark.parametrize("problem,run", CONFIGS, ids=IDS)
def test_same_seed_same_numbers_whatever_the_chunking(problem, run):
    n = 300
    a = SurfaceStepper(problem, run, n, seed=5)
    whole, div_a = a.advance(n)
    b = SurfaceStepper(problem, run, n, seed=5)
    parts = []
    while b.steps_done < n and not b.diverged:
        parts.append(b.advance(min(7, n - b.steps_done))[0])
    assert set(whole) == set(a.series_names)
    for name in a.series_names:
        chunked = np.concatenate([p[name] for p in parts])
        np.testing.assert_array_equal(whole[name], chunked, err_msg=name)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.steps_done == b.steps_done == len(whole["loss"])


@pytest.mark.parametrize("problem,run", [c for c in CONFIGS if c[1].get("noise") or
                                         c[1].get("batch_size") or c[1].get("continuation")],
                         ids=[i for i, c in zip(IDS, CONFIGS) if c[1].get("noise") or
                              c[1].get("batch_size") or c[1].get("continuation")])
def test_different_seeds_differ_when_random(problem, run):
    a = SurfaceStepper(problem, run, 50, seed=1).advance(50)[0]
    b = SurfaceStepper(problem, run, 50, seed=2).advance(50)[0]
    assert not np.array_equal(a["loss"], b["loss"])


def test_record_semantics():
    st = SurfaceStepper({"surface": "rosenbrock"}, {"optimizer": "sgd", "lr": 1e-3}, 10, 0)
    s, div = st.advance(10)
    assert div is None and st.steps_done == 10
    assert st.series_names == ("loss", "grad_norm", "lr", "param_norm", "step_size", "x.0", "x.1",
                               "dist")
    x = np.stack([s["x.0"], s["x.1"]], axis=1)
    assert x[0].tolist() == [-1.2, 1.0]  # record 0 is θ_0
    spec = st.spec
    np.testing.assert_allclose(s["loss"], [spec.value(p) for p in x], rtol=1e-15)
    np.testing.assert_allclose(s["grad_norm"], [np.linalg.norm(spec.grad(p)) for p in x])
    np.testing.assert_allclose(s["param_norm"], np.linalg.norm(x, axis=1))
    assert s["step_size"][0] == 0.0
    np.testing.assert_allclose(s["step_size"][1:], np.linalg.norm(np.diff(x, axis=0), axis=1))
    np.testing.assert_allclose(s["dist"], np.linalg.norm(x - [1.0, 1.0], axis=1))
    np.testing.assert_allclose(x[1], x[0] - 1e-3 * spec.grad(x[0]))
    # θ after 10 updates is the state record 10 will show
    theta = st.theta
    s2, _ = st.advance(1)
    np.testing.assert_array_equal([s2["x.0"][0], s2["x.1"][0]], theta)


def test_series_for_high_dimension_and_averaging():
    st = SurfaceStepper({"surface": "rastrigin", "dim": 10}, {"optimizer": "sgd", "lr": 1e-3,
                        "average": {"kind": "polyak"}}, 5, 0)
    names = st.series_names
    assert "x.0" not in names and "avg.x.0" not in names  # d > 8: no per-coordinate series
    assert {"proj.0", "proj.1", "dist", "avg.loss"} <= set(names)
    s, _ = st.advance(5)
    assert set(s) == set(names) and all(len(v) == 5 for v in s.values())
    st = SurfaceStepper({"surface": "himmelblau"}, {"optimizer": "sgd"}, 5, 0)
    assert "dist" not in st.series_names  # four minima: no single θ*
    st = SurfaceStepper({"surface": "quadratic", "eigenvalues": [1.0, 2.0, 5.0]},
                        {"optimizer": "sgd", "average": {"kind": "ema"}}, 5, 0)
    assert {"x.2", "avg.x.2", "proj.0"} <= set(st.series_names)
    s, _ = st.advance(3)
    # diagonal quadratic: the top two eigenvectors are axes 2 and 1
    np.testing.assert_allclose(np.abs(s["proj.0"]), np.abs(s["x.2"]))
    np.testing.assert_allclose(np.abs(s["proj.1"]), np.abs(s["x.1"]))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_divergence_reported_at_the_right_step(optimizer, chunk):
    # GD on ½x² with ε = 2.5: x_k = (−1.5)^k x_0, and the loss ½x² overflows first
    problem = {"surface": "quadratic", "eigenvalues": [1.0]}
    run = {"optimizer": optimizer, "lr": 2.5, "momentum": 0.0, "start": [2.0]}
    x = np.float64(2.0)
    expected = None
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(5000):
            if not np.isfinite(x * (0.5 * x)):
                expected = k
                break
            x = x - 2.5 * x
    assert expected is not None and expected > 100
    st = SurfaceStepper(problem, run, 5000, 0)
    losses = []
    diverged_at = None
    while diverged_at is None and st.steps_done < 5000:
        s, diverged_at = st.advance(chunk)
        losses.append(s["loss"])
    loss = np.concatenate(losses)
    assert diverged_at == expected
    assert len(loss) == expected + 1 and st.steps_done == expected + 1
    assert not np.isfinite(loss[-1]) and np.all(np.isfinite(loss[:-1]))
    assert st.diverged
    s, d = st.advance(10)
    assert d is None and all(len(v) == 0 for v in s.values()) and set(s) == set(st.series_names)


def test_divergence_of_theta_is_reported_too():
    # Adam cannot overflow θ quickly; GD on a steep quartic can: x → ∞ then inf − inf
    st = SurfaceStepper({"surface": "double_well", "a": 1.0, "tilt": 0.0},
                        {"optimizer": "adam", "lr": 1e308, "start": [1.5]}, 50, 0)
    s, d = st.advance(50)
    assert d is not None and d == len(s["loss"]) - 1


def test_steps_done_and_empty_advance():
    st = SurfaceStepper({"surface": "saddle"}, {"optimizer": "sgd", "lr": 0.1}, 20, 0)
    s, d = st.advance(0)
    assert d is None and all(len(v) == 0 for v in s.values())
    st.advance(5)
    st.advance(6)
    assert st.steps_done == 11


def test_saddle_escape_with_noise():
    # GD started on the ridge stays at the saddle; noisy GD escapes
    problem = {"surface": "saddle", "window": [-2.0, 2.0, -2.0, 2.0]}
    s0, _ = SurfaceStepper(problem, {"optimizer": "sgd", "lr": 0.05, "start": [1.5, 0.0]},
                           100, 0).advance(100)
    s1, _ = SurfaceStepper(problem, {"optimizer": "sgd", "lr": 0.05, "start": [1.5, 0.0],
                                     "noise": 0.1}, 100, 0).advance(100)
    assert s0["grad_norm"][-1] < 1e-3 and s0["x.1"][-1] == 0.0
    assert abs(s1["x.1"][-1]) > 1.0


def test_run_keys_may_be_none_or_missing():
    run = {"optimizer": "adam", "lr": 0.01, "schedule": None, "clip": None, "average": None,
           "continuation": None, "noise": None, "batch_size": None, "momentum": None,
           "label": "x", "group": "g", "steps": 10, "seed": 3}
    st = SurfaceStepper({"surface": "beale", "window": None, "minima": None, "saddles": None},
                        run, 10, 3)
    s, d = st.advance(10)
    assert d is None and np.all(np.isfinite(s["loss"]))


def test_warm_up_runs():
    calls = []
    warm_up(lambda i, total, what: calls.append((i, total, what)))
    assert calls and calls[-1][0] == calls[-1][1] - 1


@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau"])
@pytest.mark.parametrize("opt,lr", [("sgd", 1e-3), ("momentum", 1e-3), ("nesterov", 1e-3),
                                    ("adagrad", 0.1), ("rmsprop", 1e-2), ("adam", 1e-2)])
def test_each_path_of_a_batch_is_the_single_run_bit_for_bit(surface, opt, lr):
    from tui_optim.engine import batch as B
    from tui_optim.engine import optimizers as O

    starts = np.array([[-1.2, 1.0], [0.5, -0.5], [1.5, 2.0], [-3.0, -2.5], [0.1, 0.2]])
    P, n = len(starts), 200
    runs = [SurfaceStepper({"surface": surface},
                           {"optimizer": opt, "lr": lr, "start": x.tolist()}, n, 0)
            for x in starts]
    op, spec = runs[0]._op, runs[0].spec
    xs, ys = starts[:, 0].copy(), starts[:, 1].copy()
    loss = np.empty((n, P))
    B.batch_first_order(spec.code, O.CODES[opt], spec.sp, op, xs, ys, np.zeros((4, P)),
                        np.ones(2), loss)
    diverged = 0
    for p, st in enumerate(runs):
        series, diverged_at = st.advance(n)
        k = len(series["loss"])     # a diverging run stops at its first non-finite record
        np.testing.assert_array_equal(loss[:k, p], series["loss"])
        if diverged_at is None:
            np.testing.assert_array_equal([xs[p], ys[p]], st.theta)
        diverged += diverged_at is not None
    assert diverged < P


@njit(cache=True)
def _tiny_cached(x):
    return x + 1.0


def test_cache_guard_flushes_once_when_sources_change(monkeypatch):
    import types

    from tui_optim.engine import cache_guard

    _tiny_cached(1.0)
    flushed = []
    monkeypatch.setattr(_tiny_cached._cache, "flush", lambda: flushed.append(1))
    # A module holding only _tiny_cached: this test module's globals reach the engine, whose
    # real caches a flush would empty (it did: the next start recompiled every kernel).
    mod = types.ModuleType(__name__)
    mod._tiny_cached = _tiny_cached
    assert cache_guard.reachable_modules([mod]) == [mod]
    stamp = cache_guard.Path(_tiny_cached._cache.cache_path) / f"tui_optim_{__name__}.stamp"
    stamp.unlink(missing_ok=True)
    try:
        monkeypatch.setattr(cache_guard, "_digest", lambda files: "one")
        assert cache_guard.flush_stale([mod]) == [__name__]
        assert flushed == [1] and stamp.read_text() == "one"   # no stamp yet: flush
        assert cache_guard.flush_stale([mod]) == []             # once per process
        cache_guard._done.discard(__name__)
        cache_guard.flush_stale([mod])
        assert flushed == [1]                                    # same sources: keep
        cache_guard._done.discard(__name__)
        monkeypatch.setattr(cache_guard, "_digest", lambda files: "two")
        cache_guard.flush_stale([mod])
        assert flushed == [1, 1] and stamp.read_text() == "two"  # changed: flush again
    finally:
        cache_guard._done.discard(__name__)
        stamp.unlink(missing_ok=True)


def test_cache_guard_finds_kernels_made_per_case_and_the_batch_refuses_other_surfaces():
    # engine/batch.py makes a kernel per (rule, surface) in a dict: a source change must flush
    # them too, or a stale batch kernel would run after an edit of optimizers.py
    from tui_optim.engine import batch as B
    from tui_optim.engine import cache_guard
    from tui_optim.engine import optimizers as O
    from tui_optim.engine.surfaces import BEALE

    found = cache_guard._module_dispatchers(B)
    assert len(B._LOOPS) == 6 * 4 and all(any(k is f for f in found) for k in B._LOOPS.values())
    with pytest.raises(ValueError, match="no batch kernel"):
        B.batch_first_order(BEALE, O.SGD, np.ones(2), np.zeros(8), np.zeros(2), np.zeros(2),
                            np.zeros((4, 2)), np.ones(2), np.empty((1, 2)))


def test_cache_guard_keeps_a_module_two_kernel_groups_share_after_the_first(monkeypatch,
                                                                             tmp_path):
    # The surface and network kernels both use surfaces.py. With one stamp per group, the
    # network group's first use flushed the surface helpers cached a moment before.
    from tui_optim.engine import cache_guard, surface_kernel
    from tui_optim.engine.network import train

    flushed = []
    monkeypatch.setattr(cache_guard, "_done", set())
    monkeypatch.setattr(cache_guard, "_stamp_path", lambda m, ds: tmp_path / f"{m.__name__}.st")
    monkeypatch.setattr(cache_guard, "_flush", lambda m, ds: flushed.append(m.__name__))
    first = cache_guard.flush_stale([surface_kernel])
    assert {"tui_optim.engine.surfaces", "tui_optim.engine.surface_kernel"} <= set(first)
    cache_guard._done.clear()                 # as in a new process
    second = cache_guard.flush_stale([train])
    assert "tui_optim.engine.network.train" in second
    assert "tui_optim.engine.surfaces" not in second and "tui_optim.engine.optimizers" not in second
    assert flushed == first + second


@pytest.mark.parametrize("problem,start", [
    ({"surface": "saddle"}, [1.2, 1e-6]),
    ({"surface": "monkey_saddle"}, [0.5, 1e-3]),
    ({"surface": "himmelblau"}, [0.3, -0.4]),
    ({"surface": "double_well"}, [0.2]),
    ({"surface": "rastrigin", "dim": 5}, [0.3, -0.2, 0.45, 0.1, -0.35]),
    ({"surface": "quadratic", "eigenvalues": [3.0, -1.0, 2.0, 0.5, -4.0, 1.0, 7.0, 2.5],
      "allow_indefinite": True, "rotation_seed": 1}, [1.0] * 8),
], ids=["saddle", "monkey", "himmelblau", "double_well", "rastrigin5", "quad8"])
def test_hess_min_eig_is_numpys_smallest_eigenvalue_at_each_record(problem, start):
    st = SurfaceStepper(problem, {"optimizer": "newton", "lr": 0.5, "start": start}, 12, 0)
    s, _ = st.advance(12)
    assert "hess_min_eig" in st.series_names
    d = len(start)
    xs = np.stack([s[f"x.{i}"] for i in range(d)], axis=1)
    for k in range(xs.shape[0]):
        ev = np.linalg.eigvalsh(st.spec.hessian(xs[k]))
        assert s["hess_min_eig"][k] == pytest.approx(ev[0], rel=1e-10, abs=1e-12)


def test_hess_min_eig_only_for_newton_in_low_dimension():
    assert "hess_min_eig" not in SurfaceStepper({"surface": "saddle"}, {"optimizer": "sgd"}, 5,
                                                0).series_names
    big = {"surface": "quadratic", "eigenvalues": [1.0] * 9}
    assert "hess_min_eig" not in SurfaceStepper(big, {"optimizer": "newton"}, 5, 0).series_names


def test_sparse_coding_runs_are_chunk_independent_and_have_sparsity():
    problem = {"surface": "sparse_coding", "n_samples": 10, "n_atoms": 3, "n_features": 4}
    for run in ({"optimizer": "coordinate", "coordinate_mode": "block_exact"},
                {"optimizer": "adam", "lr": 0.05, "noise": 0.1}):
        a = SurfaceStepper(problem, run, 40, 3)
        whole, _ = a.advance(40)
        b = SurfaceStepper(problem, run, 40, 3)
        parts = [b.advance(n)[0] for n in (1, 6, 33)]
        for name in a.series_names:
            np.testing.assert_array_equal(whole[name], np.concatenate([p[name] for p in parts]))
        assert "sparsity" in a.series_names and "x.0" not in a.series_names
    snaps = SurfaceStepper(problem, run, 5, 0).snapshots()
    assert np.all(np.isfinite(snaps["surface.grid"]))


def test_cache_guard_finds_the_sources_a_kernel_group_is_built_from():
    from tui_optim.engine import cache_guard, surface_kernel
    from tui_optim.engine.network import chain, train

    names = {f.name for f in cache_guard.source_files([surface_kernel])}
    assert {"surface_kernel.py", "surfaces.py", "data_surfaces.py", "sparse_coding.py",
            "optimizers.py", "lbfgs.py", "linalg.py", "rng.py", "schedules.py"} <= names
    net = {str(f.relative_to(cache_guard._HERE)) for f in cache_guard.source_files([train, chain])}
    # the network kernels inline engine.optimizers, which inlines surfaces' Hessians
    assert {"network/train.py", "network/chain.py", "optimizers.py", "surfaces.py",
            "data_surfaces.py", "lbfgs.py", "linalg.py", "rng.py", "schedules.py"} <= net
    assert "sparse_coding.py" not in net and "surface_kernel.py" not in net
    assert not any(n.startswith("ui") for n in net)


def test_warm_up_for_a_scenario_compiles_only_the_kernels_its_runs_use(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "from tui_optim.engine import surface_kernel as K\n"
        "from tui_optim.engine.surface_stepper import warm_up\n"
        "warm_up(problem={'surface': 'rosenbrock'}, runs=[{'optimizer': 'sgd', 'lr': 1e-3}])\n"
        "print(len(K._plain_sgd_2d.signatures), len(K._first_order_2d.signatures),"
        " len(K.generic_kernel.signatures), len(K.sparse_kernel.signatures))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True, cwd=os.path.dirname(os.path.dirname(__file__))).stdout
    assert out.split() == ["1", "0", "0", "0"]


def test_kernel_path_is_the_kernels_own_choice():
    from tui_optim.engine import surface_kernel as K

    cases = [({"surface": "rosenbrock"}, {"optimizer": "sgd"}, K.PATH_PLAIN_SGD),
             ({"surface": "beale"}, {"optimizer": "adam"}, K.PATH_FIRST_ORDER_2D),
             ({"surface": "rosenbrock"}, {"optimizer": "sgd", "noise": 0.1},
              K.PATH_FIRST_ORDER_2D),
             ({"surface": "beale"}, {"optimizer": "rmsprop"}, K.PATH_FIRST_ORDER_2D),
             ({"surface": "cliff"}, {"optimizer": "sgd"}, K.PATH_GENERIC),
             ({"surface": "saddle"}, {"optimizer": "newton"}, K.PATH_GENERIC),
             ({"surface": "rosenbrock"}, {"optimizer": "adam",
                                          "schedule": {"name": "cosine"}}, K.PATH_FIRST_ORDER_2D),
             ({"surface": "quadratic", "eigenvalues": [1.0, 2.0, 3.0]}, {"optimizer": "momentum"},
              K.PATH_GENERIC),
             ({"surface": "sparse_coding"}, {"optimizer": "sgd"}, K.PATH_SPARSE)]
    for problem, run, path in cases:
        st = SurfaceStepper(problem, run, 10, 0)
        assert st._path == path
        st.advance(3)
        assert bool(st._istate[K.S_PLAIN]) == (path in (K.PATH_PLAIN_SGD, K.PATH_FIRST_ORDER_2D))


def test_sparse_kernel_matches_a_numpy_replay_of_its_records():
    """Momentum with noise, clipping, a schedule and EMA averaging on sparse coding, replayed
    step by step in NumPy from the engine's own J and subgradient (same generator draws)."""
    from tui_optim.engine.rng import normal, seed_state
    from tui_optim.engine.schedules import lr_at, schedule_params

    problem = {"surface": "sparse_coding", "n_samples": 5, "n_atoms": 2, "n_features": 3}
    run = {"optimizer": "momentum", "lr": 0.01, "momentum": 0.8, "noise": 0.3,
           "clip": {"norm": 5.0}, "schedule": {"name": "exponential", "rate": 0.99},
           "average": {"kind": "ema", "decay": 0.9}}
    st = SurfaceStepper(problem, run, 30, 4)
    s, div = st.advance(30)
    assert div is None and "avg.loss" in st.series_names
    spec = st.spec
    theta = spec.start.copy()
    v = np.zeros(spec.dim)
    avg = theta.copy()
    rng = seed_state(4)
    code, p = schedule_params(run["schedule"], 30)
    for k in range(30):
        assert s["loss"][k] == pytest.approx(spec.value(theta), rel=1e-10)
        g = spec.grad(theta)
        assert s["grad_norm"][k] == pytest.approx(np.linalg.norm(g), rel=1e-10)
        avg = theta.copy() if k == 0 else 0.9 * avg + 0.1 * theta
        assert s["avg.loss"][k] == pytest.approx(spec.value(avg), rel=1e-10)
        g = g + 0.3 * np.array([normal(rng) for _ in range(spec.dim)])
        if np.linalg.norm(g) > 5.0:
            g = g * (5.0 / np.linalg.norm(g))
        lr = lr_at(code, p, 0.01, k)
        assert s["lr"][k] == lr
        v = 0.8 * v - lr * g
        theta = theta + v
    np.testing.assert_allclose(st.theta, theta, rtol=1e-10, atol=1e-12)


def test_sparse_coding_newton_and_unsupported_options():
    problem = {"surface": "sparse_coding", "n_samples": 4, "n_atoms": 2, "n_features": 3,
               "w_decay": 0.5}
    st = SurfaceStepper(problem, {"optimizer": "newton", "damping": 1.0}, 5, 0)
    s, _ = st.advance(5)
    assert np.all(np.isfinite(s["loss"]))
    for run in ({"optimizer": "lbfgs"}, {"continuation": {"sigmas": [1.0, 0.0]}}):
        with pytest.raises(ValueError):
            SurfaceStepper(problem, run, 5, 0)
