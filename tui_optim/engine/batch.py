"""P independent 2-D paths advanced at once (random restarts, benchmarks), by any first-order
rule: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam.

The inner loop runs over paths with straight-line code and error_model="numpy", so LLVM can
vectorize it (SIMD); the surface and the rule are chosen once per call, outside the loops. Each
path takes optimizers.coord_step, as the single-path register loop does
(surface_kernel._first_order_2d, constant ε, no noise, clipping or averaging), so a path is bit
for bit the run a stepper would make from its start (a test compares them). Records the loss of
every path at every step into `loss` (n × P); positions and optimizer state are updated in
place. Surfaces: rosenbrock, quadratic (2-D), himmelblau, saddle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import optimizers as O
from .surfaces import HIMMELBLAU, QUADRATIC, ROSENBROCK, SADDLE, fg2d


@njit(inline="always", error_model="numpy")
def _loop(code, rule, sp, op, xs, ys, state, q, loss):
    """n steps of `rule` on P paths: state rows 0, 1 are m of x and y, rows 2, 3 their v
    (optimizers.coord_step); q = [ρ1^t, ρ2^t]."""
    n, P = loss.shape
    lr, alpha, rho, delta = op[O.LR], op[O.ALPHA], op[O.RHO], op[O.DELTA]
    r1, r2 = op[O.RHO1], op[O.RHO2]
    # without bias correction the running products are driven to 0, so 1/(1 − 0) = 1 exactly
    rq1 = r1 if op[O.BIAS] > 0.0 else 0.0
    rq2 = r2 if op[O.BIAS] > 0.0 else 0.0
    mx, my, vx, vy = state[0], state[1], state[2], state[3]
    q1, q2 = q[0], q[1]
    c1 = c2 = 1.0
    for k in range(n):
        if rule == O.ADAM:
            q1 *= rq1
            q2 *= rq2
            c1 = 1.0 / (1.0 - q1)
            c2 = 1.0 / (1.0 - q2)
        for p in range(P):
            x0 = xs[p]
            x1 = ys[p]
            f, g0, g1 = fg2d(code, sp, x0, x1)
            loss[k, p] = f
            if rule == O.NESTEROV:                  # the gradient at θ + αv
                _, g0, g1 = fg2d(code, sp, x0 + alpha * mx[p], x1 + alpha * my[p])
            x0, a0, b0 = O.coord_step(rule, x0, mx[p], vx[p], g0, lr, alpha, rho, r1, r2, c1,
                                      c2, delta)
            x1, a1, b1 = O.coord_step(rule, x1, my[p], vy[p], g1, lr, alpha, rho, r1, r2, c1,
                                      c2, delta)
            xs[p] = x0
            ys[p] = x1
            if rule != O.SGD:           # only the state the rule has: stores cost the loop
                mx[p] = a0
                my[p] = a1
            if rule == O.ADAM:
                vx[p] = b0
                vy[p] = b1
    q[0] = q1
    q[1] = q2


@njit(cache=True, nogil=True, error_model="numpy")
def _on(code, rule, sp, op, xs, ys, state, q, loss):
    """The loop with `rule` a constant in each branch (inlined there), so each is compiled for
    its rule."""
    if rule == O.SGD:
        _loop(code, O.SGD, sp, op, xs, ys, state, q, loss)
    elif rule == O.MOMENTUM:
        _loop(code, O.MOMENTUM, sp, op, xs, ys, state, q, loss)
    elif rule == O.NESTEROV:
        _loop(code, O.NESTEROV, sp, op, xs, ys, state, q, loss)
    elif rule == O.ADAGRAD:
        _loop(code, O.ADAGRAD, sp, op, xs, ys, state, q, loss)
    elif rule == O.RMSPROP:
        _loop(code, O.RMSPROP, sp, op, xs, ys, state, q, loss)
    else:
        _loop(code, O.ADAM, sp, op, xs, ys, state, q, loss)


@njit(cache=True, nogil=True, error_model="numpy")
def batch_first_order(code, rule, sp, op, xs, ys, state, q, loss):
    """n steps of a first-order rule (optimizers.SGD … ADAM) with the optimizer parameters `op`
    (optimizers.optimizer_params: ε, α, ρ, ρ1, ρ2, δ, bias correction) on P paths (xs, ys:
    float64[P]); loss[k, p] = f before update k+1. state (4 × P), zeros at the start;
    q = [1, 1]."""
    if code == ROSENBROCK:
        _on(ROSENBROCK, rule, sp, op, xs, ys, state, q, loss)
    elif code == QUADRATIC:
        _on(QUADRATIC, rule, sp, op, xs, ys, state, q, loss)
    elif code == HIMMELBLAU:
        _on(HIMMELBLAU, rule, sp, op, xs, ys, state, q, loss)
    else:
        _on(SADDLE, rule, sp, op, xs, ys, state, q, loss)


def warm_up_batch() -> None:
    sp = np.array([1.0, 100.0])
    xs = np.zeros(4)
    ys = np.zeros(4)
    code, op = O.optimizer_params({"optimizer": "sgd", "lr": 1e-3})
    batch_first_order(ROSENBROCK, code, sp, op, xs, ys, np.zeros((4, 4)), np.ones(2),
                      np.empty((2, 4)))


def _guard_cache() -> None:
    import sys

    from .cache_guard import flush_stale

    flush_stale([sys.modules[__name__]])


_guard_cache()
