"""The update rules of CURRICULUM.md's table, by integer code, on plain float64 state arrays.

    SGD         θ ← θ − ε g
    momentum    v ← α v − ε g ; θ ← θ + v
    Nesterov    g at θ + α v (see grad_point) ; v ← α v − ε g ; θ ← θ + v
    AdaGrad     r ← r + g⊙g ; θ ← θ − ε g / (δ + √r)
    RMSProp     r ← ρ r + (1−ρ) g⊙g ; θ ← θ − ε g / √(δ + r)
    Adam        s ← ρ1 s + (1−ρ1) g ; r ← ρ2 r + (1−ρ2) g⊙g ; ŝ = s/(1−ρ1^t), r̂ = r/(1−ρ2^t) ;
                θ ← θ − ε ŝ / (√r̂ + δ)   (ρ^t carried as running products; correction switchable)
    Newton      θ ← θ − ε (H + damping·I)⁻¹ g  (singular H: non-finite θ, reported as divergence)
    L-BFGS      see lbfgs
    coordinate  cyclic over blocks of `block` coordinates, one block per update: exact
                minimisation along the block (θ_B ← θ_B − H_BB⁻¹ g_B, ε not used) on quadratic
                objectives (quadratic, least squares) in mode "exact", else θ_B ← θ_B − ε g_B.
                Mode "block_exact" (sparse coding only): the blocks are {W, H}, alternating, each
                minimised exactly (W by a least-squares solve, H by coordinate-wise
                soft-thresholding to convergence; see sparse_coding and
                surface_kernel.sparse_kernel); ε is not used. On another surface it falls back
                to "exact".

`op` = [lr, α, ρ, ρ1, ρ2, δ, bias_correction, damping, m, line_search, coordinate_mode, block].
State: `V` (rows × d) and `sv` (scalars), shapes from `state_shape`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from . import catalog
from .jit_options import PER_STEP, twin

from .lbfgs import lbfgs_update
from .linalg import solve_inplace
from .surfaces import LEAST_SQUARES, QUADRATIC, hessian

CODES = catalog.codes(catalog.OPTIMIZERS)
BY_NAME = catalog.by_name(catalog.OPTIMIZERS)
BY_CODE = {e.code: e for e in catalog.OPTIMIZERS}
SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, NEWTON, LBFGS, COORDINATE = (
    CODES[n] for n in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton",
                       "lbfgs", "coordinate"))
FIRST_ORDER = (SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM)   # one line per parameter

# indices into op
LR, ALPHA, RHO, RHO1, RHO2, DELTA, BIAS, DAMPING, HISTORY, LINE_SEARCH, CMODE, BLOCK = range(12)
N_OP = 12
# the op slot of every optimizer key (a key an optimizer does not take leaves its slot 0)
SLOTS = {"lr": LR, "momentum": ALPHA, "rho": RHO, "rho1": RHO1, "rho2": RHO2, "delta": DELTA,
         "bias_correction": BIAS, "damping": DAMPING, "history": HISTORY,
         "line_search": LINE_SEARCH, "coordinate_mode": CMODE, "block": BLOCK}

# op[CMODE]
CMODE_EXACT, CMODE_GRADIENT, CMODE_BLOCK_EXACT = 0.0, 1.0, 2.0
_AS_NUMBER = {"line_search": {"armijo": 1.0, "none": 0.0},
              "coordinate_mode": {"exact": CMODE_EXACT, "gradient": CMODE_GRADIENT,
                                  "block_exact": CMODE_BLOCK_EXACT}}


def optimizer_params(run: Mapping) -> tuple[int, np.ndarray]:
    """(code, op) from a run's keys, completed from the catalog (engine/catalog.py)."""
    name = run.get("optimizer") or "sgd"
    if name not in BY_NAME:
        raise ValueError(f"unknown optimizer {name!r}")
    entry = BY_NAME[name]
    values = catalog.complete(entry, {p.name: run.get(p.name) for p in entry.params})
    op = np.zeros(N_OP)
    for key, v in values.items():
        op[SLOTS[key]] = _AS_NUMBER[key][v] if key in _AS_NUMBER else float(v)
    return entry.code, op


def state_shape(code: int, op: np.ndarray, d: int) -> tuple[tuple[int, int], int]:
    """((rows, d) of V, length of sv) for an optimizer."""
    if code == LBFGS:
        m = int(op[HISTORY])
        return (2 * m + 5, d), 4 + 2 * m
    return (2, d), 4


def init_state(code: int, op: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    (rows, cols), ns = state_shape(code, op, d)
    V = np.zeros((rows, cols))
    sv = np.zeros(ns)
    if code == ADAM:
        sv[0] = 1.0  # ρ1^t
        sv[1] = 1.0  # ρ2^t
    return V, sv


CLIP_NONE, CLIP_NORM, CLIP_VALUE = 0, 1, 2


@njit(**PER_STEP)
def clip_gradient(code, c, g):
    """The stage before every rule, for surfaces and networks alike. By norm: g ← g·c/‖g‖ when
    ‖g‖ > c. By value: each component into [−c, c] (a NaN stays NaN, so divergence shows)."""
    if code == CLIP_NORM:
        s = 0.0
        for i in range(g.shape[0]):
            s += g[i] * g[i]
        n = np.sqrt(s)
        if n > c:
            f = c / n
            for i in range(g.shape[0]):
                g[i] *= f
    elif code == CLIP_VALUE:
        for i in range(g.shape[0]):
            if g[i] > c:
                g[i] = c
            elif g[i] < -c:
                g[i] = -c


@njit(**PER_STEP)
def grad_point(code, op, V, theta, out):
    """Where the gradient for the next update is taken: θ + αv for Nesterov, else θ.

    Returns False when it is θ itself (out untouched), so the caller can reuse ∇f(θ).
    """
    if code == NESTEROV:
        a = op[ALPHA]
        for i in range(theta.shape[0]):
            out[i] = theta[i] + a * V[0, i]
        return True
    return False


def _first_order_update_arrays(code, op, V, sv, theta, g, lr):
    """first_order_update's interpreted twin: coord_step on whole arrays (from 16 parameters
    up; below, numpy's per-call cost outweighs the loop)."""
    if theta.shape[0] < 16 or code not in FIRST_ORDER:
        _first_order_update_arrays.loops(code, op, V, sv, theta, g, lr)
        return
    c1 = c2 = 1.0
    if code == ADAM:
        sv[0] = sv[0] * op[RHO1]
        sv[1] = sv[1] * op[RHO2]
        if op[BIAS] > 0.0:
            c1, c2 = 1.0 / (1.0 - sv[0]), 1.0 / (1.0 - sv[1])
    x, m, v = coord_step(code, theta, V[0], V[1], g, lr, op[ALPHA], op[RHO], op[RHO1],
                         op[RHO2], c1, c2, op[DELTA])
    theta[:] = x
    if code != SGD:
        V[0] = m
    if code == ADAM:
        V[1] = v


@njit(inline="always", error_model="numpy")
def coord_step(code, x, m, v, g, lr, alpha, rho, r1, r2, c1, c2, delta):
    """One coordinate of a first-order update: (x, m, v) after gradient g, in
    first_order_update's arithmetic and order. m is the velocity (momentum, Nesterov), the sum
    of squares (AdaGrad), the running mean square (RMSProp) or Adam's first moment; v is Adam's
    second moment; c1, c2 Adam's bias corrections. The 2-D register loop and the batch kernels
    run it on scalars, so each of their paths is the generic loop's, bit for bit."""
    if code == SGD:
        return x - lr * g, m, v
    if code == MOMENTUM or code == NESTEROV:
        m = alpha * m - lr * g
        return x + m, m, v
    if code == ADAGRAD:
        m = m + g * g
        return x - lr * g / (delta + np.sqrt(m)), m, v
    if code == RMSPROP:
        m = rho * m + (1.0 - rho) * g * g
        return x - lr * g / np.sqrt(delta + m), m, v
    m = r1 * m + (1.0 - r1) * g
    v = r2 * v + (1.0 - r2) * g * g
    return x - lr * (m * c1) / (np.sqrt(v * c2) + delta), m, v


# how the network's train_steps calls first_order_update (through a pointer:
# jit_options.call_through_pointers); the surface kernels link it in
FIRST_ORDER_UPDATE = ("none(int64, float64[::1], float64[:, ::1], float64[::1], float64[::1], "
                      "float64[::1], float64)")


@twin(_first_order_update_arrays)
@njit(**PER_STEP)
def first_order_update(code, op, V, sv, theta, g, lr):
    """One first-order update of θ in place (SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam).

    Split from `update` so the network kernels, which never use curvature, do not compile the
    Newton, L-BFGS and surface-Hessian code into every training kernel.
    """
    d = theta.shape[0]
    if code == SGD:
        for i in range(d):
            theta[i] -= lr * g[i]
    elif code == MOMENTUM or code == NESTEROV:
        a = op[ALPHA]
        for i in range(d):
            v = a * V[0, i] - lr * g[i]
            V[0, i] = v
            theta[i] += v
    elif code == ADAGRAD:
        delta = op[DELTA]
        for i in range(d):
            r = V[0, i] + g[i] * g[i]
            V[0, i] = r
            theta[i] -= lr * g[i] / (delta + np.sqrt(r))
    elif code == RMSPROP:
        rho = op[RHO]
        delta = op[DELTA]
        for i in range(d):
            r = rho * V[0, i] + (1.0 - rho) * g[i] * g[i]
            V[0, i] = r
            theta[i] -= lr * g[i] / np.sqrt(delta + r)
    elif code == ADAM:
        r1 = op[RHO1]
        r2 = op[RHO2]
        delta = op[DELTA]
        p1 = sv[0] * r1
        p2 = sv[1] * r2
        sv[0] = p1
        sv[1] = p2
        if op[BIAS] > 0.0:
            c1 = 1.0 / (1.0 - p1)
            c2 = 1.0 / (1.0 - p2)
        else:
            c1 = 1.0
            c2 = 1.0
        for i in range(d):
            s = r1 * V[0, i] + (1.0 - r1) * g[i]
            r = r2 * V[1, i] + (1.0 - r2) * g[i] * g[i]
            V[0, i] = s
            V[1, i] = r
            theta[i] -= lr * (s * c1) / (np.sqrt(r * c2) + delta)
    elif code == COORDINATE:
        # A gradient step on the current block of coordinates, cycling through the blocks.
        bs = int(op[BLOCK])
        nblocks = (d + bs - 1) // bs
        blk = int(sv[0])
        lo = blk * bs
        for i in range(lo, min(d, lo + bs)):
            theta[i] -= lr * g[i]
        sv[0] = (blk + 1) % nblocks
    else:
        for i in range(d):
            theta[i] = np.nan


@njit(**PER_STEP)
def damped_newton_step(Hw, g, step, damp, lr, theta):
    """θ −= lr·(H + damp·I)⁻¹·g with the Hessian H in Hw (overwritten) and `step` as scratch:
    Newton's rule, for the generic loop and the sparse-coding one, whichever Hessian they have."""
    d = theta.shape[0]
    for i in range(d):
        Hw[i, i] += damp
        step[i] = g[i]
    solve_inplace(Hw, step, d)
    for i in range(d):
        theta[i] -= lr * step[i]


# how the surface engine's generic_kernel calls update (through a pointer:
# jit_options.call_through_pointers)
UPDATE = ("none(int64, float64[::1], float64[:, ::1], float64[::1], float64[::1], float64[::1], "
          "float64, int64, float64[::1], float64[:, ::1], float64[::1], float64[:, ::1])")


@njit(**PER_STEP)
def update(code, op, V, sv, theta, g, lr, scode, sp, X, Y, Hw):
    """One update of θ in place with gradient g (already noised/clipped) and rate lr: the
    first-order rules, plus the ones that need the objective itself (Newton, L-BFGS, exact
    coordinate minimisation on quadratics; sparse coding's block-exact W/H steps are in
    surface_kernel.sparse_kernel)."""
    d = theta.shape[0]
    exact_coordinate = code == COORDINATE and op[CMODE] != CMODE_GRADIENT and (
        scode == QUADRATIC or scode == LEAST_SQUARES)
    if code != NEWTON and code != LBFGS and not exact_coordinate:
        first_order_update(code, op, V, sv, theta, g, lr)
    elif code == NEWTON:
        hessian(scode, sp, X, Y, theta, Hw)
        damped_newton_step(Hw, g, V[0], op[DAMPING], lr, theta)
    elif code == LBFGS:
        lbfgs_update(int(op[HISTORY]), int(op[LINE_SEARCH]), scode, sp, X, Y, V, sv, theta, g, lr)
    else:
        # Exact minimisation along the current block: solve its Hessian block.
        bs = int(op[BLOCK])
        nblocks = (d + bs - 1) // bs
        blk = int(sv[0])
        lo = blk * bs
        n = min(d, lo + bs) - lo
        hessian(scode, sp, X, Y, theta, Hw)
        step = V[0]
        for i in range(n):
            step[i] = g[lo + i]
            for j in range(n):
                Hw[i, j] = Hw[lo + i, lo + j]
        solve_inplace(Hw, step, n)
        for i in range(n):
            theta[lo + i] -= step[i]
        sv[0] = (blk + 1) % nblocks
