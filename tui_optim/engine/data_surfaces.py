"""Least squares and logistic regression on generated data: objective, gradient, Hessian.

Least squares: f(w) = (1/2m) Σ (xᵢᵀw − yᵢ)².  Logistic (labels ±1): f(w) = (1/m) Σ log(1 + e^(−yᵢ xᵢᵀw)).
No intercept: the data are generated centred, and two features keep w on the surface map.
Minibatches are rows perm[start:start+count] (data_f_grad_rows).
`make_data` builds the data in Python with NumPy's generator (once per run, from data_seed).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import ordered
from .jit_options import PER_STEP

from .scalar import sigmoid, softplus

_LEAST_SQUARES = 10  # surfaces.LEAST_SQUARES (not imported: surfaces imports this module)


@njit(inline="always")
def _add_row(code, X, Y, w, g, i):
    """Row i's loss; adds its gradient to g."""
    d = w.shape[0]
    z = 0.0
    for j in range(d):
        z += X[i, j] * w[j]
    if code == _LEAST_SQUARES:
        r = z - Y[i]
        f = 0.5 * r * r
        coef = r
    else:
        m = -Y[i] * z
        f = softplus(m)
        coef = -Y[i] * sigmoid(m)
    for j in range(d):
        g[j] += coef * X[i, j]
    return f


@njit(inline="always")
def _zero(g):
    for j in range(g.shape[0]):
        g[j] = 0.0


@njit(inline="always")
def _mean(g, f, count):
    inv = 1.0 / count
    for j in range(g.shape[0]):
        g[j] *= inv
    return f * inv


@njit(**PER_STEP)
def data_f_grad(code, X, Y, w, g):
    """Mean loss over all rows; its gradient into g."""
    _zero(g)
    f = 0.0
    for i in range(X.shape[0]):
        f += _add_row(code, X, Y, w, g, i)
    return _mean(g, f, X.shape[0])


@njit(**PER_STEP)
def data_f_grad_rows(code, X, Y, w, g, perm, start, count):
    """Mean loss over rows perm[start:start+count] (a minibatch); its gradient into g."""
    _zero(g)
    f = 0.0
    for k in range(count):
        f += _add_row(code, X, Y, w, g, perm[start + k])
    return _mean(g, f, count)


@njit(**PER_STEP)
def data_hessian(code, X, Y, w, H):
    m = X.shape[0]
    d = w.shape[0]
    for a in range(d):
        for b in range(d):
            H[a, b] = 0.0
    for i in range(m):
        if code == _LEAST_SQUARES:
            c = 1.0
        else:
            z = 0.0
            for j in range(d):
                z += X[i, j] * w[j]
            s = sigmoid(z)
            c = s * (1.0 - s)
        for a in range(d):
            ca = c * X[i, a]
            for b in range(a, d):
                H[a, b] += ca * X[i, b]
    for a in range(d):
        for b in range(a, d):
            H[a, b] /= m
            H[b, a] = H[a, b]


def make_data(kind: str, n_samples: int, n_features: int, scales, noise: float, data_seed: int,
              separable: bool = False, margin: float = 0.5):
    """(X, Y, w_true) for `least_squares` or `logistic`.

    Features are N(0, 1) times their scale (the feature-normalisation demo uses scales 1 and 100).
    Least squares: y = X w_true + noise·N(0, 1). Logistic: y = sign(X w_true); with `separable`,
    points are pushed at least `margin` (in units of the scaled features) away from the plane
    w_trueᵀx = 0, otherwise each label flips with probability `noise` (so a minimum exists).
    """
    rng = np.random.default_rng(int(data_seed))
    n, d = int(n_samples), int(n_features)
    sc = np.ones(d)
    if scales is not None and len(scales):
        s = np.asarray(scales, dtype=np.float64)
        sc[: min(d, len(s))] = s[:d]
    X = rng.standard_normal((n, d)) * sc
    w_true = rng.standard_normal(d)
    w_true /= ordered.norm(w_true) or 1.0
    if kind == "least_squares":
        w_true = w_true * 2.0 / sc  # every feature matters, whatever its scale
        Y = ordered.matmul(X, w_true) + float(noise) * rng.standard_normal(n)
        return np.ascontiguousarray(X), Y, w_true
    # logistic: a decision plane through the origin, in the scaled feature space
    u = w_true / sc
    u /= ordered.norm(u)
    p = ordered.matmul(X, u)
    Y = np.where(p >= 0.0, 1.0, -1.0)
    if separable:
        push = Y * np.maximum(np.abs(p), float(margin)) - p
        X = X + push[:, None] * u[None, :]
    else:
        flip = rng.random(n) < float(noise)
        Y = np.where(flip, -Y, Y)
    return np.ascontiguousarray(X), Y, 2.0 * u
