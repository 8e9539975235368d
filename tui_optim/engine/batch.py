"""P independent 2-D paths advanced at once (random restarts, benchmarks).

The inner loop runs over paths with straight-line code and error_model="numpy", so LLVM can
vectorize it (SIMD); the surface is chosen once per call, outside the loops. Records the loss of
every path at every step into `loss` (n × P); positions and optimizer state are updated in place.
Supported surfaces: rosenbrock, quadratic (2-D), himmelblau, saddle; optimizers: SGD, Adam.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .surfaces import HIMMELBLAU, QUADRATIC, ROSENBROCK, SADDLE, fg2d

BATCH_SURFACES = (ROSENBROCK, QUADRATIC, HIMMELBLAU, SADDLE)


@njit(cache=True, nogil=True, error_model="numpy")
def _sgd_loop(code, sp, lr, xs, ys, loss):
    n, P = loss.shape
    for k in range(n):
        for p in range(P):
            f, gx, gy = fg2d(code, sp, xs[p], ys[p])
            loss[k, p] = f
            xs[p] -= lr * gx
            ys[p] -= lr * gy


@njit(cache=True, nogil=True, error_model="numpy")
def batch_sgd(code, sp, lr, xs, ys, loss):
    """n SGD steps on P paths (xs, ys: float64[P]); loss[k, p] = f before update k+1."""
    if code == ROSENBROCK:
        _sgd_loop(ROSENBROCK, sp, lr, xs, ys, loss)
    elif code == QUADRATIC:
        _sgd_loop(QUADRATIC, sp, lr, xs, ys, loss)
    elif code == HIMMELBLAU:
        _sgd_loop(HIMMELBLAU, sp, lr, xs, ys, loss)
    else:
        _sgd_loop(SADDLE, sp, lr, xs, ys, loss)


@njit(cache=True, nogil=True, error_model="numpy")
def _adam_loop(code, sp, lr, r1, r2, delta, xs, ys, state, q, loss):
    n, P = loss.shape
    q1 = q[0]
    q2 = q[1]
    mx = state[0]
    my = state[1]
    vx = state[2]
    vy = state[3]
    for k in range(n):
        q1 *= r1
        q2 *= r2
        c1 = 1.0 / (1.0 - q1)
        c2 = 1.0 / (1.0 - q2)
        for p in range(P):
            f, gx, gy = fg2d(code, sp, xs[p], ys[p])
            loss[k, p] = f
            a = r1 * mx[p] + (1.0 - r1) * gx
            b = r1 * my[p] + (1.0 - r1) * gy
            c = r2 * vx[p] + (1.0 - r2) * gx * gx
            e = r2 * vy[p] + (1.0 - r2) * gy * gy
            mx[p] = a
            my[p] = b
            vx[p] = c
            vy[p] = e
            xs[p] -= lr * (a * c1) / (np.sqrt(c * c2) + delta)
            ys[p] -= lr * (b * c1) / (np.sqrt(e * c2) + delta)
    q[0] = q1
    q[1] = q2


@njit(cache=True, nogil=True, error_model="numpy")
def batch_adam(code, sp, lr, r1, r2, delta, xs, ys, state, q, loss):
    """n Adam steps (bias-corrected) on P paths; state (4 × P) = s_x, s_y, r_x, r_y; q = [ρ1^t, ρ2^t]."""
    if code == ROSENBROCK:
        _adam_loop(ROSENBROCK, sp, lr, r1, r2, delta, xs, ys, state, q, loss)
    elif code == QUADRATIC:
        _adam_loop(QUADRATIC, sp, lr, r1, r2, delta, xs, ys, state, q, loss)
    elif code == HIMMELBLAU:
        _adam_loop(HIMMELBLAU, sp, lr, r1, r2, delta, xs, ys, state, q, loss)
    else:
        _adam_loop(SADDLE, sp, lr, r1, r2, delta, xs, ys, state, q, loss)


def warm_up_batch() -> None:
    sp = np.array([1.0, 100.0])
    xs = np.zeros(4)
    ys = np.zeros(4)
    loss = np.empty((2, 4))
    batch_sgd(ROSENBROCK, sp, 1e-3, xs, ys, loss)
    state = np.zeros((4, 4))
    q = np.ones(2)
    batch_adam(ROSENBROCK, sp, 1e-3, 0.9, 0.999, 1e-8, xs, ys, state, q, loss)


def _guard_cache() -> None:
    import sys

    from .cache_guard import flush_stale

    flush_stale([sys.modules[__name__]])


_guard_cache()
