"""Update rules against closed forms and their recurrences (CURRICULUM.md's table), schedules
against their formulas, clipping, averaging, noise and continuation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_optim.engine import optimizers as O
from tui_optim.engine.schedules import lr_at, schedule_params
from tui_optim.engine.surface_stepper import SurfaceStepper

QUAD2 = {"surface": "quadratic", "eigenvalues": [1.0, 10.0], "angle": 30.0, "b": [1.0, -2.0]}


def run(problem, steps, seed=0, **keys):
    st = SurfaceStepper(problem, keys, steps, seed)
    series, diverged_at = st.advance(steps)
    return st, series, diverged_at


def xs(series, d):
    return np.stack([series[f"x.{i}"] for i in range(d)], axis=1)


def test_gd_on_a_quadratic_follows_the_closed_form():
    a, b = 3.0, -1.5
    w_star = -b / a
    for lr in (0.1, 1 / a, 0.5, 2 / a, 0.7):
        _, s, div = run({"surface": "quadratic", "eigenvalues": [a], "b": [b]}, 40,
                        optimizer="sgd", lr=lr, start=[2.0])
        k = np.arange(40)
        expected = (1 - lr * a) ** k * (2.0 - w_star)
        np.testing.assert_allclose(s["x.0"] - w_star, expected, rtol=1e-9, atol=1e-12)
        assert div is None or lr > 2 / a


def test_sgd_on_a_rotated_quadratic_matches_the_matrix_recurrence():
    st, s, _ = run(QUAD2, 50, optimizer="sgd", lr=0.05)
    A = st.spec.hessian(np.zeros(2))
    b = np.array([1.0, -2.0])
    w = st.spec.start.copy()
    ref = []
    for _ in range(50):
        ref.append(w.copy())
        w = w - 0.05 * (A @ w + b)
    np.testing.assert_allclose(xs(s, 2), ref, rtol=1e-12, atol=1e-12)


def test_adam_first_step_has_size_lr_per_coordinate():
    lr = 0.01
    _, s, _ = run({"surface": "rosenbrock"}, 2, optimizer="adam", lr=lr)
    step = np.abs(xs(s, 2)[1] - xs(s, 2)[0])
    np.testing.assert_allclose(step, lr, rtol=1e-9)
    _, s, _ = run({"surface": "rosenbrock"}, 2, optimizer="adam", lr=lr, bias_correction=False)
    step = np.abs(xs(s, 2)[1] - xs(s, 2)[0])
    # δ = 1e-8 against √(1−ρ2)|g| ≈ 3: relative effect ~1e-8
    np.testing.assert_allclose(step, (1 - 0.9) / math.sqrt(1 - 0.999) * lr, rtol=1e-7)
    assert step[0] / lr == pytest.approx(3.1623, abs=1e-4)


_FIRST_ORDER_SETTINGS = [
    {}, {"noise": 0.5, "clip": {"norm": 0.7}}, {"clip": {"value": 0.2}},
    {"average": {"kind": "polyak"}}, {"average": {"kind": "ema", "decay": 0.8}},
    {"schedule": {"name": "step", "every": 50}}, {"schedule": {"name": "cosine", "warmup": 20}},
    {"schedule": {"name": "exponential", "rate": 0.99}, "noise": 0.1,
     "average": {"kind": "polyak"}},
]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("problem", [QUAD2, {"surface": "himmelblau"}, {"surface": "rosenbrock"},
                                     {"surface": "beale"}, {"surface": "monkey_saddle"}],
                         ids=["quad", "himmelblau", "rosenbrock", "beale", "monkey_saddle"])
def test_generic_loop_matches_the_2d_register_loops(optimizer, problem):
    """Every first-order rule and setting on the 2-D polynomial surfaces takes a register loop
    (plain SGD and Adam their own): the generic loop's numbers, bit for bit, including the
    series derived after the loop, whatever the chunks, and where it diverges."""
    from tui_optim.engine import surface_kernel as K

    lr = {"adam": 0.05, "adagrad": 0.5, "rmsprop": 0.01}.get(optimizer, 0.002)
    for setting in _FIRST_ORDER_SETTINGS + [{"lr": 1e3 * lr}]:
        run = {"optimizer": optimizer, "lr": lr, **setting}
        fast = SurfaceStepper(problem, run, 300, 5)
        generic = SurfaceStepper(problem, run, 300, 5)
        # (averaging where θ* is unknown keeps the generic loop: its rows sit elsewhere)
        if fast._cfg_i[K.I_ROW_DIST] == 7 or "average" not in run:
            assert fast._path != K.PATH_GENERIC, run
        generic._path = K.PATH_GENERIC
        a = [fast.advance(k) for k in (1, 6, 93, 200)]
        b, div_b = generic.advance(300)
        assert next((d for _, d in a if d is not None), None) == div_b, run
        for name in fast.series_names:
            np.testing.assert_array_equal(np.concatenate([p[name] for p, _ in a]), b[name],
                                          err_msg=f"{run} {name}")


def _constant_gradient_steps(code, op, g, n):
    theta = np.zeros(1)
    V, sv = O.init_state(code, op, 1)
    steps = []
    X = np.zeros((0, 0))
    Hw = np.zeros((1, 1))
    for _ in range(n):
        before = theta[0]
        O.update(code, op, V, sv, theta, np.array([g]), op[O.LR], 0, np.zeros(3), X, np.zeros(0),
                 Hw)
        steps.append(before - theta[0])
    return np.array(steps)


def test_adagrad_rate_decays_like_one_over_sqrt_t():
    code, op = O.optimizer_params({"optimizer": "adagrad", "lr": 0.1})
    g = 2.0
    steps = _constant_gradient_steps(code, op, g, 200)
    t = np.arange(1, 201)
    np.testing.assert_allclose(steps, 0.1 * g / (1e-7 + np.sqrt(t * g * g)), rtol=1e-12)
    assert steps[99] / steps[0] == pytest.approx(1 / 10, rel=1e-6)


def test_rmsprop_rate_does_not_decay():
    code, op = O.optimizer_params({"optimizer": "rmsprop", "lr": 0.1, "rho": 0.9})
    g = 2.0
    steps = _constant_gradient_steps(code, op, g, 200)
    t = np.arange(1, 201)
    r = (1 - 0.9 ** t) * g * g
    np.testing.assert_allclose(steps, 0.1 * g / np.sqrt(1e-6 + r), rtol=1e-10)
    assert steps[-1] == pytest.approx(0.1, rel=1e-5)  # settles at ε, not 0


def test_momentum_matches_its_recurrence():
    st, s, _ = run(QUAD2, 60, optimizer="momentum", lr=0.05, momentum=0.8)
    A = st.spec.hessian(np.zeros(2))
    b = np.array([1.0, -2.0])
    w = st.spec.start.copy()
    v = np.zeros(2)
    ref = []
    for _ in range(60):
        ref.append(w.copy())
        v = 0.8 * v - 0.05 * (A @ w + b)
        w = w + v
    np.testing.assert_allclose(xs(s, 2), ref, rtol=1e-12, atol=1e-12)


def test_nesterov_matches_its_recurrence():
    st, s, _ = run(QUAD2, 60, optimizer="nesterov", lr=0.05, momentum=0.8)
    A = st.spec.hessian(np.zeros(2))
    b = np.array([1.0, -2.0])
    w = st.spec.start.copy()
    v = np.zeros(2)
    ref = []
    for _ in range(60):
        ref.append(w.copy())
        g = A @ (w + 0.8 * v) + b
        v = 0.8 * v - 0.05 * g
        w = w + v
    np.testing.assert_allclose(xs(s, 2), ref, rtol=1e-12, atol=1e-12)
    # and the trace reports the gradient at θ, not at the look-ahead point
    np.testing.assert_allclose(s["grad_norm"], [np.linalg.norm(A @ r + b) for r in ref],
                               rtol=1e-10, atol=1e-14)


def test_newton_is_exact_in_one_step_on_a_quadratic():
    st, s, _ = run(QUAD2, 3, optimizer="newton", lr=1.0)
    np.testing.assert_allclose(xs(s, 2)[1], st.spec.theta_star, atol=1e-12)
    assert s["grad_norm"][1] < 1e-12
    # ε scales the step; damping shrinks it
    st, s, _ = run(QUAD2, 2, optimizer="newton", lr=0.5)
    np.testing.assert_allclose(xs(s, 2)[1], 0.5 * (st.spec.start + st.spec.theta_star))
    d = 3.0
    st, s, _ = run(QUAD2, 2, optimizer="newton", lr=1.0, damping=d)
    A = st.spec.hessian(np.zeros(2))
    w0 = st.spec.start
    np.testing.assert_allclose(xs(s, 2)[1],
                               w0 - np.linalg.solve(A + d * np.eye(2), A @ w0 + [1.0, -2.0]))


def test_newton_goes_to_the_saddle_and_singular_hessian_diverges():
    st, s, div = run({"surface": "saddle"}, 3, optimizer="newton", start=[1.5, 0.3])
    assert div is None
    np.testing.assert_allclose(xs(s, 2)[1], [0.0, 0.0], atol=1e-15)
    assert np.linalg.eigvalsh(st.spec.hessian(xs(s, 2)[1])).prod() < 0
    # H singular with the gradient outside its range: a non-finite step, reported, no exception
    st, s, div = run({"surface": "quadratic", "matrix": [[1.0, 0.0], [0.0, 0.0]], "b": [0, 1]},
                     5, optimizer="newton", start=[1.0, 1.0])
    assert div == 1 and len(s["loss"]) == 2 and not np.isfinite(s["loss"][1])
    assert st.advance(5)[0]["loss"].size == 0


def test_lbfgs_solves_rosenbrock():
    _, s, div = run({"surface": "rosenbrock"}, 200, optimizer="lbfgs")
    assert div is None
    assert s["loss"].min() < 1e-8
    assert np.argmax(s["loss"] < 1e-8) < 100
    _, s, _ = run({"surface": "rosenbrock"}, 300, optimizer="lbfgs", history=3)
    assert s["loss"].min() < 1e-8
    # on a quadratic, L-BFGS with exact... Armijo reaches the minimum quickly too
    _, s, _ = run(QUAD2, 60, optimizer="lbfgs")
    assert s["dist"][-1] < 1e-8


def test_lbfgs_without_line_search_takes_lr_steps():
    _, s, _ = run(QUAD2, 2, optimizer="lbfgs", line_search="none", lr=0.01)
    assert s["step_size"][1] == pytest.approx(0.01 * s["grad_norm"][0])  # first: −ε g


def test_coordinate_descent_exact_on_a_diagonal_quadratic_in_d_steps():
    p = {"surface": "quadratic", "eigenvalues": [1.0, 5.0, 20.0], "b": [1.0, -2.0, 3.0]}
    st, s, _ = run(p, 5, optimizer="coordinate", start=[4.0, -3.0, 2.0])
    x = xs(s, 3)
    # one coordinate per update, cycling 0, 1, 2
    assert np.count_nonzero(x[1] != x[0]) == 1 and x[1][0] != x[0][0]
    assert np.count_nonzero(x[2] != x[1]) == 1 and x[2][1] != x[1][1]
    np.testing.assert_allclose(x[3], st.spec.theta_star, atol=1e-14)
    # blocks of 2 on a full (rotated) quadratic in 2-D: one block = the whole space
    st, s, _ = run(QUAD2, 2, optimizer="coordinate", block=2)
    np.testing.assert_allclose(xs(s, 2)[1], st.spec.theta_star, atol=1e-12)
    # gradient mode: θ_i ← θ_i − ε g_i, one coordinate at a time
    st, s, _ = run(p, 3, optimizer="coordinate", coordinate_mode="gradient", lr=0.1,
                   start=[4.0, -3.0, 2.0])
    x = xs(s, 3)
    assert x[1][0] == pytest.approx(4.0 - 0.1 * (1.0 * 4.0 + 1.0))
    assert x[1][1:].tolist() == [-3.0, 2.0]
    assert x[2][1] == pytest.approx(-3.0 - 0.1 * (5.0 * -3.0 - 2.0))


def test_clipping_bounds_the_step():
    cliff = {"surface": "cliff"}
    lr, c = 0.05, 1.0
    _, free, _ = run(cliff, 300, optimizer="sgd", lr=lr, start=[3.0, 1.0])
    _, norm, _ = run(cliff, 300, optimizer="sgd", lr=lr, start=[3.0, 1.0], clip={"norm": c})
    _, val, _ = run(cliff, 300, optimizer="sgd", lr=lr, start=[3.0, 1.0], clip={"value": c})
    assert free["step_size"].max() > 10 * lr * c   # thrown at the wall
    assert norm["step_size"].max() <= lr * c * (1 + 1e-12)
    assert val["step_size"].max() <= lr * c * math.sqrt(2) * (1 + 1e-12)
    dx = np.abs(np.diff(xs(val, 2), axis=0))
    assert dx.max() <= lr * c * (1 + 1e-12)


SCHEDULES = [
    ({"name": "constant"}, lambda t, e, T: e),
    ({"name": "step", "every": 7, "factor": 0.3}, lambda t, e, T: e * 0.3 ** (t // 7)),
    ({"name": "exponential", "rate": 0.97}, lambda t, e, T: e * 0.97 ** t),
    ({"name": "inverse_time", "k": 0.2}, lambda t, e, T: e / (1 + 0.2 * t)),
    ({"name": "cosine", "min_lr": 0.01}, lambda t, e, T: 0.01 + 0.5 * (e - 0.01) * (1 + math.cos(math.pi * t / T))),
    ({"name": "cosine", "period": 20}, lambda t, e, T: 0.5 * e * (1 + math.cos(math.pi * min(t, 20) / 20))),
    ({"name": "cyclic", "cycles": 3, "min_lr": 0.0}, lambda t, e, T: 0.5 * e * (1 + math.cos(math.pi * (t % 20) / 20))),
    ({"name": "linear", "final_lr": 0.02, "until": 30}, lambda t, e, T: e + (0.02 - e) * min(t, 30) / 30),
    ({"name": "step", "every": 10, "warmup": 5}, lambda t, e, T: e * 0.5 ** (t // 10) * min(1.0, t / 5)),
    ({"name": "constant", "warmup": 8}, lambda t, e, T: e * min(1.0, t / 8)),
]


@pytest.mark.parametrize("schedule,formula", SCHEDULES, ids=[str(s[0]) for s in SCHEDULES])
def test_schedule_matches_its_formula(schedule, formula):
    T = 60
    _, s, _ = run(QUAD2, T, optimizer="sgd", lr=0.1, schedule=schedule)
    expected = [formula(t, 0.1, T) for t in range(T)]
    np.testing.assert_allclose(s["lr"], expected, rtol=1e-12, atol=1e-15)
    code, p = schedule_params(schedule, T)
    assert lr_at(code, p, 0.1, 7) == pytest.approx(expected[7])


def test_schedule_drives_the_update():
    _, s, _ = run({"surface": "quadratic", "eigenvalues": [1.0], "b": [0.0]}, 30, optimizer="sgd",
                  lr=0.5, start=[1.0], schedule={"name": "inverse_time", "k": 0.5})
    x = s["x.0"]
    np.testing.assert_allclose(x[1:], x[:-1] * (1 - s["lr"][:-1]), rtol=1e-14)


def test_lr_scale_multiplies_the_schedule():
    st = SurfaceStepper(QUAD2, {"optimizer": "sgd", "lr": 0.1,
                                "schedule": {"name": "exponential", "rate": 0.9}}, 20, 0)
    a, _ = st.advance(5)
    st.set_lr_scale(0.5)
    b, _ = st.advance(5)
    np.testing.assert_allclose(b["lr"], 0.5 * 0.1 * 0.9 ** np.arange(5, 10), rtol=1e-14)
    for opt in ("sgd", "adam"):  # the plain fast paths honour the knob too
        st = SurfaceStepper(QUAD2, {"optimizer": opt, "lr": 0.1}, 20, 0)
        st.advance(3)
        st.set_lr_scale(2.0)
        assert st.advance(2)[0]["lr"].tolist() == [0.2, 0.2]


def test_polyak_average_is_the_mean_of_iterates():
    st, s, _ = run({"surface": "rosenbrock"}, 200, optimizer="sgd", lr=1e-3, noise=2.0,
                   average={"kind": "polyak"})
    x = xs(s, 2)
    mean = np.cumsum(x, axis=0) / np.arange(1, 201)[:, None]
    avg = np.stack([s["avg.x.0"], s["avg.x.1"]], axis=1)
    np.testing.assert_allclose(avg, mean, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(s["avg.loss"], [st.spec.value(p) for p in avg], rtol=1e-12)


def test_ema_average_follows_its_recurrence():
    _, s, _ = run(QUAD2, 100, optimizer="sgd", lr=0.05, noise=1.0,
                  average={"kind": "ema", "decay": 0.9})
    x = xs(s, 2)
    a = x[0].copy()
    ref = [a.copy()]
    for k in range(1, 100):
        a = 0.9 * a + 0.1 * x[k]
        ref.append(a.copy())
    np.testing.assert_allclose(np.stack([s["avg.x.0"], s["avg.x.1"]], axis=1), ref, rtol=1e-12)


def test_gradient_noise_is_gaussian_with_the_given_std():
    # on a flat-gradient region: SGD step − ε g_true = −ε·noise·z
    st, s, _ = run({"surface": "quadratic", "eigenvalues": [1e-12, 1e-12]}, 4001, optimizer="sgd",
                   lr=1.0, noise=0.5, start=[0.0, 0.0])
    dx = np.diff(xs(s, 2), axis=0)
    assert abs(dx.std() - 0.5) < 0.02 and abs(dx.mean()) < 0.02


def test_continuation_reaches_the_global_minimum_of_wiggly():
    w = {"surface": "wiggly", "amplitude": 1.0, "frequency": 10.0}
    _, plain, _ = run(w, 600, optimizer="sgd", lr=0.005, start=[2.5])
    _, cont, _ = run(w, 600, optimizer="sgd", lr=0.005, start=[2.5],
                     continuation={"sigmas": [1.0, 0.5, 0.2, 0.0], "samples": 32})
    assert abs(plain["x.0"][-1]) > 0.5          # stuck in a ripple
    assert abs(cont["x.0"][-1]) < 0.05          # found the global minimum at 0
    assert cont["loss"][-1] < 1e-3


def test_minibatch_noise_shrinks_with_batch_size():
    p = {"surface": "least_squares", "n_samples": 200, "n_features": 2, "noise": 0.5}
    spread = []
    for bs in (1, 20, 0):
        _, s, _ = run(p, 400, optimizer="sgd", lr=0.05, batch_size=bs)
        spread.append(np.std(s["dist"][200:]))
    assert spread[0] > spread[1] > spread[2]
    assert spread[2] < 0.01 * spread[1]  # full batch: deterministic convergence


def test_separable_logistic_has_no_minimum_and_norm_grows():
    _, s, _ = run({"surface": "logistic", "separable": True, "margin": 0.5}, 2000,
                  optimizer="sgd", lr=1.0)
    assert "dist" not in s
    pn = s["param_norm"]
    assert np.all(np.diff(pn[50:]) > 0)
    assert s["loss"][-1] < s["loss"][100] < s["loss"][0]


SPARSE = {"surface": "sparse_coding", "n_samples": 20, "n_atoms": 4, "n_features": 6, "l1": 1.0,
          "w_decay": 0.1}


@pytest.mark.parametrize("problem", [SPARSE, {**SPARSE, "w_decay": 0.0, "l1": 0.3, "data_seed": 5}],
                         ids=["ridge", "plain"])
def test_block_coordinate_descent_never_increases_j_and_alternates_exact_blocks(problem):
    from tui_optim.engine import sparse_coding as SC

    st, s, div = run(problem, 60, optimizer="coordinate", coordinate_mode="block_exact")
    assert div is None
    assert np.all(np.diff(s["loss"]) <= 1e-12 * s["loss"][:-1])
    assert s["loss"][-1] < 0.2 * s["loss"][0]
    # the recorded θ_k: k = 1 after the W step, k = 2 after the H step; replay them by hand
    spec = st.spec
    k, p = int(spec.sp[0]), int(spec.sp[1])
    theta = spec.start.copy()
    SC.sc_w_step(spec.sp, spec.X, theta)
    assert s["loss"][1] == spec.value(theta)
    SC.sc_h_step(spec.sp, spec.X, theta)
    assert s["loss"][2] == spec.value(theta)
    assert s["sparsity"][0] == 0.0 and s["sparsity"][-1] > 0.1
    assert s["sparsity"][2] == np.mean(theta[k * p:] == 0.0)


def test_block_coordinate_descent_beats_subgradient_descent_at_equal_steps():
    _, bcd, _ = run(SPARSE, 100, optimizer="coordinate", coordinate_mode="block_exact")
    for lr in (0.003, 0.01):
        _, gd, _ = run(SPARSE, 100, optimizer="sgd", lr=lr)
        assert bcd["loss"][-1] < gd["loss"][-1]
        assert gd["sparsity"][-1] == 0.0           # subgradient steps never land on 0


def test_block_exact_falls_back_to_exact_coordinate_on_a_quadratic():
    a = run(QUAD2, 20, optimizer="coordinate", coordinate_mode="block_exact")[1]
    b = run(QUAD2, 20, optimizer="coordinate", coordinate_mode="exact")[1]
    np.testing.assert_array_equal(a["loss"], b["loss"])
