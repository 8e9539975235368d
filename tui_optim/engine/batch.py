"""P independent 2-D paths advanced at once (random restarts, benchmarks), by any first-order
rule: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam.

The inner loop runs over paths with straight-line code and error_model="numpy", so LLVM can
vectorize it (SIMD); each (rule, surface) pair is a kernel of its own, chosen once per call. Each
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
from .jit_options import KERNEL
from .surfaces import HIMMELBLAU, QUADRATIC, ROSENBROCK, SADDLE, fg2d


def _path_loop(rule, code):
    """The loop over P paths for one rule on one surface, each a kernel of its own with `rule`
    and `code` constants of its closure: LLVM compiles just that rule's arithmetic and that
    surface's formulas, vectorized, and only the pairs used are compiled (the six rules on four
    surfaces in one kernel took numba 56 s)."""
    @njit(**KERNEL)
    def loop(sp, op, xs, ys, state, q, loss):
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
    return loop


SURFACES = (ROSENBROCK, QUADRATIC, HIMMELBLAU, SADDLE)
# (rule, surface code) -> its kernel; a module global, where cache_guard finds them
_LOOPS = {(rule, code): _path_loop(rule, code) for rule in O.FIRST_ORDER for code in SURFACES}


def batch_first_order(code, rule, sp, op, xs, ys, state, q, loss):
    """n steps of a first-order rule (optimizers.SGD … ADAM) with the optimizer parameters `op`
    (optimizers.optimizer_params: ε, α, ρ, ρ1, ρ2, δ, bias correction) on P paths (xs, ys:
    float64[P]) of a surface in SURFACES; loss[k, p] = f before update k+1. state (4 × P),
    zeros at the start; q = [1, 1]. Chooses the kernel here, once per call."""
    loop = _LOOPS.get((rule, code))
    if loop is None:
        raise ValueError(f"no batch kernel for rule {rule} on surface {code}")
    loop(sp, op, xs, ys, state, q, loss)


def warm_up_batch() -> None:
    """Compile (or load from the cache) every rule's kernel on every surface."""
    op = O.optimizer_params({"optimizer": "sgd", "lr": 1e-3})[1]
    for loop in _LOOPS.values():
        loop(np.ones(8), op, np.zeros(4), np.zeros(4), np.zeros((4, 4)), np.ones(2),
             np.empty((2, 4)))


def _guard_cache() -> None:
    import sys

    from .cache_guard import flush_stale

    flush_stale([sys.modules[__name__]])


_guard_cache()
