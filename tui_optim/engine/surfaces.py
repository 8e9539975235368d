"""Analytic surfaces: value, exact gradient and exact Hessian, chosen by an integer code.

Kernels dispatch on `code` inside njit (passing functions as arguments would defeat numba's
cache); each surface's parameters live in a float64 array `sp`. The data surfaces
(least squares, logistic) share the same entry points through `X`, `Y` and a row selection;
their formulas live in data_surfaces.

Parameter layouts (`sp`):
    QUADRATIC      [d, c, A (d*d row-major), b (d)]          ½ wᵀAw + bᵀw + c
    ROSENBROCK     [a, b]                                    (a − x)² + b (y − x²)²
    BEALE, HIMMELBLAU, SADDLE, MONKEY_SADDLE  []
    RASTRIGIN      [A]                                       A d + Σ (xᵢ² − A cos 2πxᵢ)
    DOUBLE_WELL    [a, tilt]                                 (x² − a)² + tilt·x            (1-D)
    WIGGLY         [amplitude, frequency]                    x² + amplitude·(1 − cos(frequency·x)) (1-D)
    CLIFF          [height, sharpness, position]             ½(x² + y²) + height·σ(sharpness·(x − position))
    LEAST_SQUARES, LOGISTIC  []                              see data_surfaces
    SPARSE_CODING  [k, p, n, λ, μ]  (X: the p×n data)        λΣ|H| + Σ(X − WᵀH)² + μΣW²: its own
                   formulas and kernel (sparse_coding, surface_kernel.sparse_kernel); f_grad and
                   hessian here do not handle it

wiggly: x² is the bowl and amplitude·(1 − cos(ω x)) ≥ 0 adds ripples that vanish at 0, so the
global minimum is f(0) = 0 and, where ω² amplitude > 2, every ripple is a local minimum. Blurring
with N(0, σ²) multiplies the ripple by exp(−ω²σ²/2): a blurred objective is nearly x² (continuation).

cliff: a gentle bowl and, at x = position, a sigmoid wall `height` high and ~1/sharpness wide;
its slope reaches height·sharpness/4 there, so an unclipped step at the wall is thrown far away.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import catalog
from .jit_options import PER_STEP

from .data_surfaces import data_f_grad, data_f_grad_rows, data_hessian
from .scalar import sigmoid

CODES = catalog.codes(catalog.SURFACES)
BY_NAME = catalog.by_name(catalog.SURFACES)
(QUADRATIC, ROSENBROCK, BEALE, HIMMELBLAU, RASTRIGIN, SADDLE, MONKEY_SADDLE, DOUBLE_WELL, WIGGLY,
 CLIFF, LEAST_SQUARES, LOGISTIC, SPARSE_CODING) = (CODES[n] for n in (
    "quadratic", "rosenbrock", "beale", "himmelblau", "rastrigin", "saddle", "monkey_saddle",
    "double_well", "wiggly", "cliff", "least_squares", "logistic", "sparse_coding"))
DATA_CODES = (LEAST_SQUARES, LOGISTIC)
ONE_D_CODES = (DOUBLE_WELL, WIGGLY)

_TWO_PI = 2.0 * np.pi


@njit(**PER_STEP)
def analytic_f_grad(code, sp, x, g):
    """f(x) for an analytic surface; writes ∇f(x) into g."""
    if code == ROSENBROCK:
        a = sp[0]
        b = sp[1]
        u = a - x[0]
        w = x[1] - x[0] * x[0]
        g[0] = -2.0 * u - 4.0 * b * x[0] * w
        g[1] = 2.0 * b * w
        return u * u + b * w * w
    if code == QUADRATIC:
        d = x.shape[0]
        f = sp[1]
        for i in range(d):
            acc = sp[2 + d * d + i]
            row = 2 + i * d
            for j in range(d):
                acc += sp[row + j] * x[j]
            g[i] = acc
            f += x[i] * (0.5 * (acc - sp[2 + d * d + i]) + sp[2 + d * d + i])
        return f
    if code == BEALE:
        X = x[0]
        Y = x[1]
        y2 = Y * Y
        y3 = y2 * Y
        t1 = 1.5 - X + X * Y
        t2 = 2.25 - X + X * y2
        t3 = 2.625 - X + X * y3
        g[0] = 2.0 * (t1 * (Y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        g[1] = 2.0 * X * (t1 + 2.0 * Y * t2 + 3.0 * y2 * t3)
        return t1 * t1 + t2 * t2 + t3 * t3
    if code == HIMMELBLAU:
        X = x[0]
        Y = x[1]
        p = X * X + Y - 11.0
        q = X + Y * Y - 7.0
        g[0] = 4.0 * X * p + 2.0 * q
        g[1] = 2.0 * p + 4.0 * Y * q
        return p * p + q * q
    if code == RASTRIGIN:
        A = sp[0]
        d = x.shape[0]
        f = A * d
        for i in range(d):
            xi = x[i]
            f += xi * xi - A * np.cos(_TWO_PI * xi)
            g[i] = 2.0 * xi + A * _TWO_PI * np.sin(_TWO_PI * xi)
        return f
    if code == SADDLE:
        g[0] = 2.0 * x[0]
        g[1] = -2.0 * x[1]
        return x[0] * x[0] - x[1] * x[1]
    if code == MONKEY_SADDLE:
        X = x[0]
        Y = x[1]
        g[0] = 3.0 * X * X - 3.0 * Y * Y
        g[1] = -6.0 * X * Y
        return X * X * X - 3.0 * X * Y * Y
    if code == DOUBLE_WELL:
        a = sp[0]
        X = x[0]
        u = X * X - a
        g[0] = 4.0 * X * u + sp[1]
        return u * u + sp[1] * X
    if code == WIGGLY:
        amp = sp[0]
        w = sp[1]
        X = x[0]
        g[0] = 2.0 * X + amp * w * np.sin(w * X)
        return X * X + amp * (1.0 - np.cos(w * X))
    if code == CLIFF:
        h = sp[0]
        k = sp[1]
        s = sigmoid(k * (x[0] - sp[2]))
        g[0] = x[0] + h * k * s * (1.0 - s)
        g[1] = x[1]
        return 0.5 * (x[0] * x[0] + x[1] * x[1]) + h * s
    # unknown code: poison the result so the run reports divergence instead of lying
    for i in range(x.shape[0]):
        g[i] = np.nan
    return np.nan


@njit(**PER_STEP)
def analytic_hessian(code, sp, x, H):
    """Writes the exact Hessian ∇²f(x) into H (d×d)."""
    d = x.shape[0]
    for i in range(d):
        for j in range(d):
            H[i, j] = 0.0
    if code == QUADRATIC:
        for i in range(d):
            for j in range(d):
                H[i, j] = sp[2 + i * d + j]
    elif code == ROSENBROCK:
        b = sp[1]
        H[0, 0] = 2.0 - 4.0 * b * (x[1] - 3.0 * x[0] * x[0])
        H[0, 1] = -4.0 * b * x[0]
        H[1, 0] = H[0, 1]
        H[1, 1] = 2.0 * b
    elif code == BEALE:
        X = x[0]
        Y = x[1]
        y2 = Y * Y
        y3 = y2 * Y
        t1 = 1.5 - X + X * Y
        t2 = 2.25 - X + X * y2
        t3 = 2.625 - X + X * y3
        a1 = Y - 1.0
        a2 = y2 - 1.0
        a3 = y3 - 1.0
        b1 = X
        b2 = 2.0 * X * Y
        b3 = 3.0 * X * y2
        H[0, 0] = 2.0 * (a1 * a1 + a2 * a2 + a3 * a3)
        H[0, 1] = 2.0 * (a1 * b1 + t1 + a2 * b2 + t2 * 2.0 * Y + a3 * b3 + t3 * 3.0 * y2)
        H[1, 0] = H[0, 1]
        H[1, 1] = 2.0 * (b1 * b1 + b2 * b2 + t2 * 2.0 * X + b3 * b3 + t3 * 6.0 * X * Y)
    elif code == HIMMELBLAU:
        X = x[0]
        Y = x[1]
        p = X * X + Y - 11.0
        q = X + Y * Y - 7.0
        H[0, 0] = 4.0 * p + 8.0 * X * X + 2.0
        H[0, 1] = 4.0 * X + 4.0 * Y
        H[1, 0] = H[0, 1]
        H[1, 1] = 2.0 + 4.0 * q + 8.0 * Y * Y
    elif code == RASTRIGIN:
        A = sp[0]
        for i in range(d):
            H[i, i] = 2.0 + A * _TWO_PI * _TWO_PI * np.cos(_TWO_PI * x[i])
    elif code == SADDLE:
        H[0, 0] = 2.0
        H[1, 1] = -2.0
    elif code == MONKEY_SADDLE:
        H[0, 0] = 6.0 * x[0]
        H[0, 1] = -6.0 * x[1]
        H[1, 0] = -6.0 * x[1]
        H[1, 1] = -6.0 * x[0]
    elif code == DOUBLE_WELL:
        H[0, 0] = 12.0 * x[0] * x[0] - 4.0 * sp[0]
    elif code == WIGGLY:
        w = sp[1]
        H[0, 0] = 2.0 + sp[0] * w * w * np.cos(w * x[0])
    elif code == CLIFF:
        h = sp[0]
        k = sp[1]
        s = sigmoid(k * (x[0] - sp[2]))
        H[0, 0] = 1.0 + h * k * k * s * (1.0 - s) * (1.0 - 2.0 * s)
        H[1, 1] = 1.0
    else:
        for i in range(d):
            for j in range(d):
                H[i, j] = np.nan


@njit(**PER_STEP)
def f_grad(code, sp, X, Y, x, g):
    """Full objective and gradient, analytic or on the whole data set. Not sparse coding: its
    formulas live in sparse_coding and only its own kernel (surface_kernel.sparse_kernel)
    calls them, so the other kernels do not compile them."""
    if code == LEAST_SQUARES or code == LOGISTIC:
        return data_f_grad(code, X, Y, x, g)
    return analytic_f_grad(code, sp, x, g)


@njit(**PER_STEP)
def batch_f_grad(code, sp, X, Y, x, g, perm, start, count):
    """Objective and gradient on rows perm[start:start+count] (data surfaces only: the kernel
    calls it for minibatches, which only they have); analytic: full."""
    if code == LEAST_SQUARES or code == LOGISTIC:
        return data_f_grad_rows(code, X, Y, x, g, perm, start, count)
    return analytic_f_grad(code, sp, x, g)


@njit(**PER_STEP)
def hessian(code, sp, X, Y, x, H):
    """Writes ∇²f(x) into H (not sparse coding, see f_grad)."""
    if code == LEAST_SQUARES or code == LOGISTIC:
        data_hessian(code, X, Y, x, H)
    else:
        analytic_hessian(code, sp, x, H)


@njit(cache=True, nogil=True, error_model="numpy")
def value(code, sp, X, Y, x):
    g = np.empty(x.shape[0])
    return f_grad(code, sp, X, Y, x, g)


@njit(cache=True, nogil=True, error_model="numpy")
def grid_values(code, sp, X, Y, origin, e0, e1, window, rows, cols, out):
    """f over a rows×cols grid of the plane origin + u·e0 + v·e1, (u, v) in window.

    Row 0 is v = window[3] (top), the last row v = window[2]; column 0 is u = window[0].
    """
    d = origin.shape[0]
    x = np.empty(d)
    g = np.empty(d)
    for r in range(rows):
        v = window[3] + (window[2] - window[3]) * r / (rows - 1)
        for c in range(cols):
            u = window[0] + (window[1] - window[0]) * c / (cols - 1)
            for i in range(d):
                x[i] = origin[i] + u * e0[i] + v * e1[i]
            out[r, c] = f_grad(code, sp, X, Y, x, g)


# 2-D surfaces with a scalar fast path: polynomial ones only. A libm call (exp, cos) anywhere in
# the loop body makes LLVM spill the loop's registers around it on every step (xmm registers
# are caller-saved): rastrigin and cliff take the generic loop.
TWO_D_CODES = tuple(e.code for e in catalog.SURFACES if e.closed_form_2d)


@njit(inline="always")
def fg2d(code, sp, x, y):
    """(f, ∂f/∂x, ∂f/∂y) of a polynomial 2-D surface (TWO_D_CODES) on scalars: no arrays and no
    calls, so hot 2-D loops keep everything in registers. Same formulas and operation order as
    analytic_f_grad."""
    if code == ROSENBROCK:
        a = sp[0]
        b = sp[1]
        u = a - x
        w = y - x * x
        return u * u + b * w * w, -2.0 * u - 4.0 * b * x * w, 2.0 * b * w
    if code == QUADRATIC:
        b0 = sp[6]
        b1 = sp[7]
        g0 = b0 + sp[2] * x + sp[3] * y
        g1 = b1 + sp[4] * x + sp[5] * y
        f = sp[1] + x * (0.5 * (g0 - b0) + b0)
        f += y * (0.5 * (g1 - b1) + b1)
        return f, g0, g1
    if code == BEALE:
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        return (t1 * t1 + t2 * t2 + t3 * t3,
                2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0)),
                2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3))
    if code == HIMMELBLAU:
        p = x * x + y - 11.0
        q = x + y * y - 7.0
        return p * p + q * q, 4.0 * x * p + 2.0 * q, 2.0 * p + 4.0 * y * q
    if code == SADDLE:
        return x * x - y * y, 2.0 * x, -2.0 * y
    if code == MONKEY_SADDLE:
        return x * x * x - 3.0 * x * y * y, 3.0 * x * x - 3.0 * y * y, -6.0 * x * y
    return np.nan, np.nan, np.nan
