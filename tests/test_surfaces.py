"""Surfaces: exact gradients and Hessians against central differences, known minima, the
scalar 2-D fast path, the generator, data sets and minibatches, and the map snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from tui_optim.engine import rng
from tui_optim.engine import surfaces as S
from tui_optim.engine.data_surfaces import make_data
from tui_optim.engine.surface_kernel import S_POS, _next_batch
from tui_optim.engine.surface_specs import build_surface
from tui_optim.engine.surface_stepper import GRID_COLS, GRID_ROWS, SurfaceStepper

PROBLEMS = [
    {"surface": "quadratic", "eigenvalues": [1.0, 50.0], "angle": 30.0, "b": [1.0, -2.0], "c": 3.0},
    {"surface": "quadratic", "eigenvalues": [1.0, 4.0, 9.0], "rotation_seed": 3, "b": [1, 2, 3]},
    {"surface": "quadratic", "matrix": [[2.0, 0.5], [0.5, 1.0]]},
    {"surface": "quadratic", "eigenvalues": [2.0], "b": [1.0]},
    {"surface": "rosenbrock", "a": 1.0, "b": 100.0},
    {"surface": "beale"},
    {"surface": "himmelblau"},
    {"surface": "rastrigin", "A": 10.0, "dim": 2},
    {"surface": "rastrigin", "A": 10.0, "dim": 4},
    {"surface": "saddle"},
    {"surface": "monkey_saddle"},
    {"surface": "double_well", "a": 1.0, "tilt": 0.3},
    {"surface": "wiggly", "amplitude": 1.0, "frequency": 10.0},
    {"surface": "cliff", "height": 100.0, "sharpness": 50.0, "position": 1.0},
    {"surface": "cliff", "height": 5.0, "sharpness": 3.0, "position": 1.0},
    {"surface": "least_squares", "n_samples": 50, "n_features": 3, "scales": [1.0, 10.0, 0.5]},
    {"surface": "logistic", "n_samples": 60, "n_features": 2},
    {"surface": "logistic", "n_samples": 60, "n_features": 2, "separable": True, "margin": 0.5},
]


def _ids(p):
    return p["surface"] + "-" + "-".join(f"{k}" for k in p if k != "surface")


def _points(spec, k=6):
    r = np.random.default_rng(1)
    d = spec.dim
    pts = [spec.start, np.zeros(d) + 0.3]
    for _ in range(k):
        pts.append(spec.start + r.normal(0.0, 1.0, d))
    if spec.code == S.CLIFF:  # on the wall, where the curvature is large
        pts.append(np.array([1.0 + 0.01, 0.2]))
    return pts


@pytest.mark.parametrize("problem", PROBLEMS, ids=_ids)
def test_gradient_matches_central_differences(problem):
    spec = build_surface(problem)
    for x in _points(spec):
        g = spec.grad(x)
        h = 1e-6 * max(1.0, np.max(np.abs(x)))
        fd = np.empty(spec.dim)
        for i in range(spec.dim):
            e = np.zeros(spec.dim)
            e[i] = h
            fd[i] = (spec.value(x + e) - spec.value(x - e)) / (2 * h)
        scale = max(1.0, np.max(np.abs(g)), abs(spec.value(x)))
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("problem", PROBLEMS, ids=_ids)
def test_hessian_matches_central_differences_of_gradient(problem):
    spec = build_surface(problem)
    for x in _points(spec):
        H = spec.hessian(x)
        np.testing.assert_array_equal(H, H.T)
        h = 1e-6 * max(1.0, np.max(np.abs(x)))
        fd = np.empty((spec.dim, spec.dim))
        for i in range(spec.dim):
            e = np.zeros(spec.dim)
            e[i] = h
            fd[:, i] = (spec.grad(x + e) - spec.grad(x - e)) / (2 * h)
        scale = max(1.0, np.max(np.abs(H)))
        np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if p["surface"] not in
                                     ("saddle", "monkey_saddle")], ids=_ids)
def test_known_minimum_is_stationary_and_lowest_nearby(problem):
    spec = build_surface(problem)
    if spec.theta_star is None:
        assert problem["surface"] in ("himmelblau",) or problem.get("separable")
        return
    g = spec.grad(spec.theta_star)
    assert np.linalg.norm(g) < 1e-8
    assert spec.f_star == pytest.approx(spec.value(spec.theta_star))
    r = np.random.default_rng(0)
    for _ in range(20):
        assert spec.value(spec.theta_star + r.normal(0, 1e-3, spec.dim)) >= spec.f_star - 1e-12


def test_exact_minima_values():
    assert build_surface({"surface": "rosenbrock", "a": 2.0}).theta_star.tolist() == [2.0, 4.0]
    assert build_surface({"surface": "beale"}).f_star == 0.0
    spec = build_surface({"surface": "himmelblau"})
    assert spec.minima.shape == (4, 2) and spec.saddles.shape == (4, 2)
    for p in spec.minima:
        assert spec.value(p) < 1e-20
    for p in spec.saddles:
        assert np.linalg.norm(spec.grad(p)) < 1e-9
        assert np.linalg.eigvalsh(spec.hessian(p)).prod() < 0  # indefinite: a saddle
    spec = build_surface({"surface": "wiggly"})
    assert spec.theta_star.tolist() == [0.0] and spec.f_star == 0.0
    assert len(spec.minima) > 5  # many local minima on the window, all marked
    spec = build_surface({"surface": "double_well", "a": 1.0, "tilt": 0.3})
    assert spec.theta_star[0] < 0 and len(spec.minima) == 2  # the tilt favours the left well
    spec = build_surface({"surface": "quadratic", "eigenvalues": [1.0, -1.0]})
    assert spec.theta_star is None and spec.saddles.shape == (1, 2)


@pytest.mark.parametrize("problem", [p for p in PROBLEMS
                                     if S.CODES[p["surface"]] in S.TWO_D_CODES
                                     and len(build_surface(p).start) == 2], ids=_ids)
def test_scalar_2d_path_is_bit_identical(problem):
    spec = build_surface(problem)
    for x in _points(spec):
        g = np.empty(2)
        f = S.analytic_f_grad(spec.code, spec.sp, x, g)
        f2, g0, g1 = _fg2d(spec.code, spec.sp, x[0], x[1])
        assert (f, g[0], g[1]) == (f2, g0, g1)


@njit
def _fg2d(code, sp, x, y):
    return S.fg2d(code, sp, x, y)


def test_generator_is_chunk_independent_and_seeded():
    a = rng.seed_state(42)
    whole = np.empty(1000)
    rng.fill_normal(a, whole)
    b = rng.seed_state(42)
    parts = []
    while sum(len(p) for p in parts) < 1000:
        p = np.empty(min(7, 1000 - sum(len(p) for p in parts)))
        rng.fill_normal(b, p)
        parts.append(p)
    np.testing.assert_array_equal(whole, np.concatenate(parts))
    np.testing.assert_array_equal(a, b)
    c = rng.seed_state(43)
    other = np.empty(1000)
    rng.fill_normal(c, other)
    assert not np.array_equal(whole, other)
    u = np.empty(200_000)
    rng.fill_uniform(rng.seed_state(1), u)
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005
    z = np.empty(200_000)
    rng.fill_normal(rng.seed_state(2), z)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01


def test_minibatches_cover_each_epoch_without_replacement():
    X = np.zeros((10, 2))
    perm = np.arange(10, dtype=np.int64)
    ist = np.array([0, -1, 0], dtype=np.int64)
    st = rng.seed_state(0)
    epochs = []
    for _ in range(3):
        seen = []
        for _ in range(4):  # batches of 3, 3, 3, 1
            _next_batch(X, perm, ist, 3, st)
            pos = ist[S_POS]
            seen += perm[pos:min(pos + 3, 10)].tolist()
        assert sorted(seen) == list(range(10))
        epochs.append(seen)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]  # reshuffled


def test_data_generation():
    p = {"surface": "least_squares", "n_samples": 400, "n_features": 2, "scales": [1.0, 100.0],
         "noise": 0.0}
    spec = build_surface(p)
    std = spec.X.std(axis=0)
    assert 50 < std[1] / std[0] < 200
    assert spec.f_star == pytest.approx(0.0, abs=1e-18)  # noise-free: exact fit
    std = build_surface(p, standardize=True).X.std(axis=0)
    np.testing.assert_allclose(std, 1.0)
    sep = build_surface({"surface": "logistic", "n_samples": 100, "separable": True,
                         "margin": 0.5})
    assert sep.theta_star is None  # separable: no minimum
    X, Y, w = make_data("logistic", 100, 2, None, 0.1, 0, separable=True, margin=0.5)
    u = w / np.linalg.norm(w)
    assert np.all((X @ u) * Y >= 0.5 - 1e-12)  # every point on its side, with the margin
    X, Y, w = make_data("logistic", 1000, 2, None, 0.1, 0)
    assert 0.05 < np.mean(np.sign(X @ w) != Y) < 0.15  # label flips with probability noise
    a = build_surface({"surface": "logistic", "data_seed": 3})
    b = build_surface({"surface": "logistic", "data_seed": 3})
    np.testing.assert_array_equal(a.X, b.X)


def test_grid_snapshot_orientation_and_window():
    st = SurfaceStepper({"surface": "rosenbrock"}, {"optimizer": "sgd"}, 10, 0)
    snap = st.snapshots()
    grid = snap["surface.grid"]
    x0, x1, y0, y1 = snap["surface.window"]
    assert grid.shape == (GRID_ROWS, GRID_COLS)
    assert grid[0, 0] == pytest.approx(st.spec.value([x0, y1]))      # top-left: y1
    assert grid[-1, -1] == pytest.approx(st.spec.value([x1, y0]))    # bottom-right: y0
    assert snap["surface.minima"].tolist() == [[1.0, 1.0]]
    assert snap["surface.saddles"].shape == (0, 2)
    assert st.snapshots() == {}  # static: first call only


def test_one_d_curve_and_projection_snapshots():
    st = SurfaceStepper({"surface": "double_well"}, {"optimizer": "sgd"}, 10, 0)
    snap = st.snapshots()
    assert "surface.grid" not in snap
    curve = snap["surface.curve"]
    assert curve.shape[0] == 2
    assert curve[1, 0] == pytest.approx(st.spec.value([curve[0, 0]]))
    w = snap["surface.window"]
    assert w[2] <= curve[1].min() and w[3] >= curve[1].max()
    np.testing.assert_allclose(snap["surface.minima"][:, 1],
                               [st.spec.value([x]) for x in snap["surface.minima"][:, 0]])
    st = SurfaceStepper({"surface": "quadratic", "eigenvalues": [1.0, 2.0, 10.0],
                         "rotation_seed": 1}, {"optimizer": "sgd"}, 10, 0)
    snap = st.snapshots()
    grid = snap["surface.grid"]
    u0, u1, v0, v1 = snap["surface.window"]
    spec = st.spec
    assert grid[0, 0] == pytest.approx(spec.value(spec.origin + u0 * spec.e0 + v1 * spec.e1))
    # the plane holds the two stiffest directions
    H = spec.hessian(spec.origin)
    assert spec.e0 @ H @ spec.e0 == pytest.approx(10.0)
    assert spec.e1 @ H @ spec.e1 == pytest.approx(2.0)
    assert snap["surface.minima"] == pytest.approx(np.zeros((1, 2)))


def test_window_contains_start():
    st = SurfaceStepper({"surface": "himmelblau"}, {"optimizer": "sgd", "start": [8.0, -9.0]},
                        10, 0)
    x0, x1, y0, y1 = st.snapshots()["surface.window"]
    assert x0 < 8.0 < x1 and y0 < -9.0 < y1
    w = [-1.0, 1.0, -2.0, 2.0]
    st = SurfaceStepper({"surface": "saddle", "window": w}, {"optimizer": "sgd"}, 10, 0)
    assert st.snapshots()["surface.window"].tolist() == w


def test_one_d_window_may_give_only_the_x_range():
    st = SurfaceStepper({"surface": "double_well", "window": [-1.5, 1.5]}, {"optimizer": "sgd"},
                        5, 0)
    snap = st.snapshots()
    x0, x1, y0, y1 = snap["surface.window"]
    assert (x0, x1) == (-1.5, 1.5) and y0 < snap["surface.curve"][1].min() < y1


# ---------------------------------------------------------------- sparse coding (curriculum 12)

from tui_optim.engine import sparse_coding as SC  # noqa: E402

SPARSE = {"surface": "sparse_coding", "n_samples": 7, "n_atoms": 3, "n_features": 4, "l1": 0.7,
          "w_decay": 0.0, "noise": 0.05, "data_seed": 2}


def _split(spec, theta):
    k, p, n = (int(v) for v in spec.sp[:3])
    return theta[:k * p].reshape(k, p), theta[k * p:].reshape(k, n)


def _smooth_grad(spec, theta):
    g = np.empty(spec.dim)
    SC.sc_f_grad(spec.sp, spec.X, theta, g, 0.0)
    return g


def _smooth_value(spec, theta):
    W, H = _split(spec, theta)
    mu = spec.sp[4]
    return float(np.sum((spec.X - W.T @ H) ** 2) + mu * np.sum(W ** 2))


@pytest.mark.parametrize("w_decay", [0.0, 0.3])
def test_sparse_coding_value_and_smooth_gradient_match_numpy_and_central_differences(w_decay):
    spec = build_surface({**SPARSE, "w_decay": w_decay})
    k, p, n = (int(v) for v in spec.sp[:3])
    assert spec.dim == k * (p + n) == 33 and spec.X.shape == (p, n)
    r = np.random.default_rng(4)
    for theta in [spec.start, spec.start + r.normal(0, 0.7, spec.dim)]:
        W, H = _split(spec, theta)
        J = _smooth_value(spec, theta) + 0.7 * np.sum(np.abs(H))
        assert spec.value(theta) == pytest.approx(J, rel=1e-13)
        g = _smooth_grad(spec, theta)
        R = W.T @ H - spec.X
        np.testing.assert_allclose(g[:k * p], (2 * H @ R.T + 2 * w_decay * W).ravel(), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(g[k * p:], (2 * W @ R).ravel(), rtol=1e-12, atol=1e-12)
        h = 1e-6
        fd = np.empty(spec.dim)
        for i in range(spec.dim):
            e = np.zeros(spec.dim)
            e[i] = h
            fd[i] = (_smooth_value(spec, theta + e) - _smooth_value(spec, theta - e)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
        # the smooth part's Hessian against central differences of its gradient
        Hm = spec.hessian(theta)
        np.testing.assert_array_equal(Hm, Hm.T)
        fdH = np.empty((spec.dim, spec.dim))
        for i in range(spec.dim):
            e = np.zeros(spec.dim)
            e[i] = h
            fdH[:, i] = (_smooth_grad(spec, theta + e) - _smooth_grad(spec, theta - e)) / (2 * h)
        np.testing.assert_allclose(Hm, fdH, rtol=1e-6, atol=1e-6)


def test_sparse_coding_reports_the_minimum_norm_subgradient():
    spec = build_surface(SPARSE)
    k, p, n = (int(v) for v in spec.sp[:3])
    lam = spec.sp[3]
    theta = spec.start.copy()
    theta[k * p::3] = 0.0                        # some codes exactly 0
    s = _smooth_grad(spec, theta)
    g = spec.grad(theta)
    np.testing.assert_array_equal(g[:k * p], s[:k * p])
    for q in range(k * p, spec.dim):
        if theta[q] != 0.0:
            assert g[q] == pytest.approx(s[q] + lam * np.sign(theta[q]), abs=1e-13)
        else:   # argmin of |s + λu| over u in [−1, 1]
            assert g[q] == pytest.approx(np.sign(s[q]) * max(abs(s[q]) - lam, 0.0), abs=1e-13)
    assert np.any(g[k * p:][theta[k * p:] == 0.0] == 0.0)


def test_sparse_coding_w_step_is_the_exact_least_squares_minimiser():
    for w_decay in (0.0, 0.2):
        spec = build_surface({**SPARSE, "w_decay": w_decay})
        k, p, _ = (int(v) for v in spec.sp[:3])
        theta = spec.start.copy()
        before = spec.value(theta)
        SC.sc_w_step(spec.sp, spec.X, theta)
        W, H = _split(spec, theta)
        # the smooth part's gradient in W vanishes ...
        gW = _smooth_grad(spec, theta)[:k * p]
        assert np.max(np.abs(gW)) < 1e-10 * max(1.0, np.max(np.abs(spec.X)))
        # ... at numpy's (ridge) least-squares solution, and H is untouched
        W_np = np.linalg.solve(H @ H.T + w_decay * np.eye(k), H @ spec.X.T)
        np.testing.assert_allclose(W, W_np, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(theta[k * p:], spec.start[k * p:])
        assert spec.value(theta) <= before


def test_sparse_coding_w_step_leaves_unused_atoms_alone():
    spec = build_surface(SPARSE)
    k, p, n = (int(v) for v in spec.sp[:3])
    theta = spec.start.copy()
    theta[k * p + 1 * n: k * p + 2 * n] = 0.0   # atom 1 is not used by any code
    SC.sc_w_step(spec.sp, spec.X, theta)
    np.testing.assert_array_equal(theta[p:2 * p], spec.start[p:2 * p])
    assert np.max(np.abs(_smooth_grad(spec, theta)[:k * p])) < 1e-10 * np.max(np.abs(spec.X))


def test_sparse_coding_h_step_satisfies_the_lasso_optimality_conditions():
    spec = build_surface({**SPARSE, "l1": 1.5})
    k, p, _ = (int(v) for v in spec.sp[:3])
    lam = spec.sp[3]
    theta = spec.start.copy()
    SC.sc_w_step(spec.sp, spec.X, theta)         # a sensible W
    before = spec.value(theta)
    W_before = theta[:k * p].copy()
    sweeps = SC.sc_h_step(spec.sp, spec.X, theta)
    assert 1 <= sweeps < SC.H_MAX_SWEEPS
    np.testing.assert_array_equal(theta[:k * p], W_before)
    s = _smooth_grad(spec, theta)[k * p:]
    Hv = theta[k * p:]
    zero = Hv == 0.0
    assert zero.any() and (~zero).any()
    # 0 ∈ ∂J/∂H: s + λ sign(h) = 0 where h ≠ 0, |s| ≤ λ where h = 0
    np.testing.assert_allclose(s[~zero] + lam * np.sign(Hv[~zero]), 0.0, atol=1e-9)
    assert np.all(np.abs(s[zero]) <= lam + 1e-9)
    assert np.linalg.norm(spec.grad(theta)[k * p:]) < 1e-9
    assert spec.value(theta) <= before
    # and it is the minimum: no random perturbation of H does better
    r = np.random.default_rng(0)
    f = spec.value(theta)
    for _ in range(50):
        t2 = theta.copy()
        t2[k * p:] += r.normal(0, 1e-3, Hv.shape[0])
        assert spec.value(t2) >= f - 1e-12


def test_sparse_coding_default_start_is_seeded_and_has_the_dimension():
    a = build_surface(SPARSE)
    b = build_surface(SPARSE)
    c = build_surface({**SPARSE, "data_seed": 3})
    np.testing.assert_array_equal(a.start, b.start)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.start, c.start)
    from tui_optim.scenario.keys import surface_dim
    assert surface_dim("sparse_coding", SPARSE) == a.dim
    given = np.linspace(-1, 1, a.dim)
    np.testing.assert_array_equal(build_surface(SPARSE, given).start, given)


def test_block_exact_is_checked_by_the_loader():
    from tui_optim.scenario import ScenarioError, load_scenario_text

    ok = load_scenario_text(
        'title = "t"\n[problem]\ntype = "surface"\nsurface = "sparse_coding"\n'
        '[[runs]]\noptimizer = "coordinate"\ncoordinate_mode = "block_exact"\n', "ok.toml")
    assert ok.runs[0].values["coordinate_mode"] == "block_exact"
    assert ok.runs[0].values["start"] is None    # the engine draws the seeded start
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(
            'title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
            'eigenvalues = [1.0, 2.0]\n[[runs]]\noptimizer = "coordinate"\n'
            'coordinate_mode = "block_exact"\n', "bad.toml")
    assert "sparse_coding" in str(info.value)


def test_ordered_solve_and_lstsq_match_lapack_and_refuse_singular():
    """The reference points of a surface (θ*, stationary points) come from fixed-order
    elimination, not LAPACK (whose kernels, and sums, are chosen per CPU)."""
    import numpy as np
    import pytest

    from tui_optim.engine import ordered

    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 12):
        A, b = rng.standard_normal((n, n)) + n * np.eye(n), rng.standard_normal(n)
        np.testing.assert_allclose(ordered.solve(A, b), np.linalg.solve(A, b), rtol=1e-12, atol=1e-12)
    X = rng.standard_normal((300, 3)) * [1.0, 100.0, 0.01]
    Y = rng.standard_normal(300)
    np.testing.assert_allclose(ordered.lstsq(X, Y), np.linalg.lstsq(X, Y, rcond=None)[0], rtol=1e-9)
    with pytest.raises(np.linalg.LinAlgError):
        ordered.solve(np.zeros((2, 2)), np.ones(2))


@pytest.mark.parametrize("d", [2, 3, 6, 12])
def test_the_fixed_order_eigh_and_qr_agree_with_lapack(d):
    from tui_optim.engine import ordered

    rng = np.random.default_rng(d)
    M = rng.standard_normal((d, d))
    A = M + M.T
    ev, V = ordered.eigh(A)
    assert np.allclose(ev, np.linalg.eigvalsh(A), atol=1e-12 * d)
    assert np.allclose(A @ V, V * ev, atol=1e-12 * d) and np.allclose(V.T @ V, np.eye(d), atol=1e-13)
    assert all(V[np.argmax(np.abs(V[:, k])), k] > 0 for k in range(d))     # the sign rule
    Q = ordered.orthonormal(M)
    Q0, R0 = np.linalg.qr(M)
    assert np.allclose(Q, Q0 * np.sign(np.diag(R0)), atol=1e-13)
    R = Q.T @ M
    assert np.allclose(np.tril(R, -1), 0, atol=1e-12) and np.all(np.diag(R) > 0)


def test_a_problem_in_more_than_two_dimensions_is_set_up_without_lapack(monkeypatch):
    """LAPACK calls BLAS, whose kernels depend on the CPU: the map plane of a d > 2 surface
    (its top Hessian eigenvectors) and a random rotation come from engine/ordered.py."""
    def refuse(*a, **k):
        raise AssertionError("LAPACK called")

    for name in ("eigh", "eigvalsh", "qr", "eig"):
        monkeypatch.setattr(np.linalg, name, refuse)
    spec = build_surface({"surface": "quadratic", "eigenvalues": [1.0, 4.0, 9.0],
                          "rotation_seed": 3})
    H = spec.hessian(np.zeros(3))
    assert np.allclose(H @ spec.e0, 9.0 * spec.e0) and np.allclose(H @ spec.e1, 4.0 * spec.e1)
    data = build_surface({"surface": "least_squares", "n_features": 5, "n_samples": 40})
    assert data.e0.shape == (5,) and abs(data.e0 @ data.e1) < 1e-12
