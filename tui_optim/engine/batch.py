"""P independent 2-D paths advanced at once (random restarts, benchmarks), by any first-order
rule: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam.

The inner loop runs over paths with straight-line code and error_model="numpy", so LLVM can
vectorize it (SIMD); the surface and the rule are chosen once per call, outside the loops. Each
path is the single-path register loop's arithmetic in its order (surface_kernel._first_order_2d,
constant ε, no noise, clipping or averaging), so a path is bit for bit the run a stepper would
make from its start (a test compares them). Records the loss of every path at every step into
`loss` (n × P); positions and optimizer state are updated in place. Surfaces: rosenbrock,
quadratic (2-D), himmelblau, saddle.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .optimizers import ADAGRAD, ADAM, MOMENTUM, NESTEROV, RMSPROP, SGD
from .surfaces import HIMMELBLAU, QUADRATIC, ROSENBROCK, SADDLE, fg2d

BATCH_SURFACES = (ROSENBROCK, QUADRATIC, HIMMELBLAU, SADDLE)
BATCH_RULES = (SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM)


@njit(cache=True, nogil=True, error_model="numpy")
def _loop(code, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss):
    """n steps of `rule` on P paths: state rows 0, 1 are the first moment (or velocity, or sum
    of squares) of x and y, rows 2, 3 Adam's second moment; q = [ρ1^t, ρ2^t]."""
    n, P = loss.shape
    mx = state[0]
    my = state[1]
    vx = state[2]
    vy = state[3]
    q1 = q[0]
    q2 = q[1]
    for k in range(n):
        if rule == ADAM:
            q1 *= r1
            q2 *= r2
        c1 = 1.0 / (1.0 - q1)
        c2 = 1.0 / (1.0 - q2)
        for p in range(P):
            x0 = xs[p]
            x1 = ys[p]
            f, g0, g1 = fg2d(code, sp, x0, x1)
            loss[k, p] = f
            if rule == SGD:
                xs[p] = x0 - lr * g0
                ys[p] = x1 - lr * g1
            elif rule == MOMENTUM or rule == NESTEROV:
                if rule == NESTEROV:            # the gradient at θ + αv
                    _, g0, g1 = fg2d(code, sp, x0 + alpha * mx[p], x1 + alpha * my[p])
                a = alpha * mx[p] - lr * g0
                b = alpha * my[p] - lr * g1
                mx[p] = a
                my[p] = b
                xs[p] = x0 + a
                ys[p] = x1 + b
            elif rule == ADAGRAD:
                a = mx[p] + g0 * g0
                b = my[p] + g1 * g1
                mx[p] = a
                my[p] = b
                xs[p] = x0 - lr * g0 / (delta + np.sqrt(a))
                ys[p] = x1 - lr * g1 / (delta + np.sqrt(b))
            elif rule == RMSPROP:
                a = rho * mx[p] + (1.0 - rho) * g0 * g0
                b = rho * my[p] + (1.0 - rho) * g1 * g1
                mx[p] = a
                my[p] = b
                xs[p] = x0 - lr * g0 / np.sqrt(delta + a)
                ys[p] = x1 - lr * g1 / np.sqrt(delta + b)
            else:
                a = r1 * mx[p] + (1.0 - r1) * g0
                b = r1 * my[p] + (1.0 - r1) * g1
                c = r2 * vx[p] + (1.0 - r2) * g0 * g0
                e = r2 * vy[p] + (1.0 - r2) * g1 * g1
                mx[p] = a
                my[p] = b
                vx[p] = c
                vy[p] = e
                xs[p] = x0 - lr * (a * c1) / (np.sqrt(c * c2) + delta)
                ys[p] = x1 - lr * (b * c1) / (np.sqrt(e * c2) + delta)
    q[0] = q1
    q[1] = q2


@njit(cache=True, nogil=True, error_model="numpy")
def _on(code, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss):
    """The loop with `rule` a constant in each branch, so each is compiled for its rule."""
    if rule == SGD:
        _loop(code, SGD, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif rule == MOMENTUM:
        _loop(code, MOMENTUM, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif rule == NESTEROV:
        _loop(code, NESTEROV, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif rule == ADAGRAD:
        _loop(code, ADAGRAD, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif rule == RMSPROP:
        _loop(code, RMSPROP, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    else:
        _loop(code, ADAM, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)


@njit(cache=True, nogil=True, error_model="numpy")
def batch_first_order(code, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss):
    """n steps of a first-order rule (optimizers.SGD … ADAM) on P paths (xs, ys: float64[P]),
    loss[k, p] = f before update k+1; α (momentum, Nesterov), ρ (RMSProp), ρ1, ρ2 (Adam, bias
    corrected), δ (AdaGrad, RMSProp, Adam). state (4 × P), zeros at the start; q = [1, 1]."""
    if code == ROSENBROCK:
        _on(ROSENBROCK, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif code == QUADRATIC:
        _on(QUADRATIC, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    elif code == HIMMELBLAU:
        _on(HIMMELBLAU, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)
    else:
        _on(SADDLE, rule, sp, lr, alpha, rho, r1, r2, delta, xs, ys, state, q, loss)


def warm_up_batch() -> None:
    sp = np.array([1.0, 100.0])
    xs = np.zeros(4)
    ys = np.zeros(4)
    loss = np.empty((2, 4))
    batch_first_order(ROSENBROCK, SGD, sp, 1e-3, 0.9, 0.9, 0.9, 0.999, 1e-8, xs, ys,
                      np.zeros((4, 4)), np.ones(2), loss)


def _guard_cache() -> None:
    import sys

    from .cache_guard import flush_stale

    flush_stale([sys.modules[__name__]])


_guard_cache()
