"""Layer pieces as njit functions over 2-D row-major batches (rows = examples).

Each forward has a backward that takes the gradient of the output and returns (in place) the
gradient of the input and of the layer's own parameters. Element-wise work is fused into one
loop per layer: in small MLPs that matters more than the matrix products.
"""

import numpy as np
from numba import njit

from .codes import ELU, LEAKY_RELU, MAXOUT, PRELU, RELU, SIGMOID, TANH

_NB = dict(cache=True, nogil=True)


@njit(**_NB)
def sigmoid(x):
    """Logistic function, stable for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


# --- dense --------------------------------------------------------------------------------
@njit(**_NB)
def dense_forward(x, w, b, z):
    """z = x w + b."""
    np.dot(x, w, z)
    m, n = z.shape
    for i in range(m):
        for j in range(n):
            z[i, j] += b[j]


@njit(**_NB)
def dense_backward(x, w, dz, dx, dw, db, need_dx):
    """Given dz: dw = xᵀ dz, db = Σ_rows dz, and (if need_dx) dx = dz wᵀ."""
    np.dot(x.T, dz, dw)
    m, n = dz.shape
    for j in range(n):
        db[j] = 0.0
    for i in range(m):
        for j in range(n):
            db[j] += dz[i, j]
    if need_dx:
        np.dot(dz, w.T, dx)


# --- batch norm ---------------------------------------------------------------------------
@njit(**_NB)
def bn_forward_train(z, gamma, beta, eps, zh, u, mu, inv):
    """Batch statistics: ẑ = (z − μ_B)/√(σ_B² + δ), u = γ ẑ + β. Keeps μ_B and 1/√(σ_B²+δ)."""
    m, n = z.shape
    for j in range(n):
        s = 0.0
        for i in range(m):
            s += z[i, j]
        mean = s / m
        v = 0.0
        for i in range(m):
            d = z[i, j] - mean
            v += d * d
        var = v / m
        r = 1.0 / np.sqrt(var + eps)
        mu[j] = mean
        inv[j] = r
        g = gamma[j]
        bt = beta[j]
        for i in range(m):
            h = (z[i, j] - mean) * r
            zh[i, j] = h
            u[i, j] = g * h + bt


@njit(**_NB)
def bn_update_running(mu, inv, eps, run_mean, run_var, momentum):
    """run ← momentum·run + (1 − momentum)·batch (biased batch variance)."""
    for j in range(mu.shape[0]):
        var = 1.0 / (inv[j] * inv[j]) - eps
        run_mean[j] = momentum * run_mean[j] + (1.0 - momentum) * mu[j]
        run_var[j] = momentum * run_var[j] + (1.0 - momentum) * var


@njit(**_NB)
def bn_forward_eval(z, gamma, beta, eps, run_mean, run_var, zh, u):
    """Running statistics: each row is normalized on its own, independent of its batch."""
    m, n = z.shape
    for j in range(n):
        r = 1.0 / np.sqrt(run_var[j] + eps)
        mean = run_mean[j]
        g = gamma[j]
        bt = beta[j]
        for i in range(m):
            h = (z[i, j] - mean) * r
            zh[i, j] = h
            u[i, j] = g * h + bt


@njit(**_NB)
def bn_backward(du, zh, gamma, inv, dz, dgamma, dbeta):
    """Backward through training-mode batch norm (batch statistics depend on every row)."""
    m, n = du.shape
    for j in range(n):
        sd = 0.0
        sdh = 0.0
        for i in range(m):
            sd += du[i, j]
            sdh += du[i, j] * zh[i, j]
        dgamma[j] = sdh
        dbeta[j] = sd
        g = gamma[j]
        c = g * inv[j] / m
        for i in range(m):
            dz[i, j] = c * (m * du[i, j] - sd - zh[i, j] * sdh)


# --- activations (fused with dropout and the skip connection) -----------------------------
@njit(**_NB)
def act_forward(act, u, a, h, xin, mask, arg, slope, k, leaky, elu_alpha, use_mask, skip):
    """a = f(u) per unit; h = a·mask (inverted dropout) + xin (skip). Maxout: a_j = max of its
    k pieces u[:, j*k:(j+1)*k], the winning piece index kept in arg."""
    m, n = a.shape
    for i in range(m):
        for j in range(n):
            if act == MAXOUT:
                best = u[i, j * k]
                bi = 0
                for p in range(1, k):
                    v = u[i, j * k + p]
                    if v > best:
                        best = v
                        bi = p
                arg[i, j] = bi
                y = best
            else:
                x = u[i, j]
                if act == TANH:
                    y = np.tanh(x)
                elif act == RELU:
                    y = x if x > 0.0 else 0.0
                elif act == SIGMOID:
                    y = sigmoid(x)
                elif act == LEAKY_RELU:
                    y = x if x > 0.0 else leaky * x
                elif act == PRELU:
                    y = x if x > 0.0 else slope[j] * x
                elif act == ELU:
                    y = x if x > 0.0 else elu_alpha * (np.exp(x) - 1.0)
                else:
                    y = x
            a[i, j] = y
            if use_mask:
                y = y * mask[i, j]
            if skip:
                y = y + xin[i, j]
            h[i, j] = y


@njit(**_NB)
def act_backward(act, u, a, dh, du, mask, arg, slope, dslope, k, leaky, elu_alpha, use_mask):
    """du from dh through the mask and f. PReLU also accumulates dslope."""
    m, n = a.shape
    if act == PRELU:
        for j in range(n):
            dslope[j] = 0.0
    if act == MAXOUT:
        for i in range(m):
            for q in range(n * k):
                du[i, q] = 0.0
    for i in range(m):
        for j in range(n):
            d = dh[i, j]
            if use_mask:
                d = d * mask[i, j]
            if act == MAXOUT:
                du[i, j * k + arg[i, j]] = d
                continue
            x = u[i, j]
            if act == TANH:
                y = a[i, j]
                g = d * (1.0 - y * y)
            elif act == RELU:
                g = d if x > 0.0 else 0.0
            elif act == SIGMOID:
                y = a[i, j]
                g = d * y * (1.0 - y)
            elif act == LEAKY_RELU:
                g = d if x > 0.0 else leaky * d
            elif act == PRELU:
                if x > 0.0:
                    g = d
                else:
                    g = slope[j] * d
                    dslope[j] += d * x
            elif act == ELU:
                g = d if x > 0.0 else d * (a[i, j] + elu_alpha)
            else:
                g = d
            du[i, j] = g
