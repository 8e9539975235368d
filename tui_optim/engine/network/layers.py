"""Layer pieces as njit functions over 2-D row-major batches (rows = examples).

Each forward has a backward that takes the gradient of the output and returns (in place) the
gradient of the input and of the layer's own parameters. Element-wise work is fused into one
loop per layer: in small MLPs that matters more than the matrix products.
"""

import math

import numpy as np
from numba import njit

from .. import ordered
from ..jit_options import twin
from ..scalar import sigmoid
from .codes import ELU, LEAKY_RELU, MAXOUT, PRELU, RELU, SIGMOID, TANH

_NB = dict(cache=True, nogil=True, error_model="numpy")


# --- matrix products in a fixed order ------------------------------------------------------
# BLAS picks its kernels, and with them the order of every sum, by CPU: the same seed trained a
# different network on AMD and on Intel. These loops add the terms of every sum in index order
# (numba neither reorders nor fuses without fastmath), so the bits are the same on any x86-64.
# Blocking by four rows (or four outputs) keeps the order and cuts the memory traffic.
def _matmul_rows(a, b, out):
    """matmul's interpreted twin: the same sums, a row of k at a time (ordered.matmul)."""
    out[:] = ordered.matmul(a, b)


@twin(_matmul_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def matmul(a, b, out):
    """out = a b: out[i, j] = Σ_k a[i, k] b[k, j], k = 0, 1, ... in order.
    a: (m, p), b: (p, n), out: (m, n)."""
    m, p = a.shape
    n = b.shape[1]
    i = 0
    while i < m:
        r = min(4, m - i)
        for j in range(n):
            for q in range(r):
                out[i + q, j] = 0.0
        if r == 4:
            o0, o1, o2, o3 = out[i], out[i + 1], out[i + 2], out[i + 3]
            for k in range(p):
                a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
                bk = b[k]
                for j in range(n):
                    bkj = bk[j]
                    o0[j] += a0 * bkj
                    o1[j] += a1 * bkj
                    o2[j] += a2 * bkj
                    o3[j] += a3 * bkj
        else:
            for q in range(r):
                oq = out[i + q]
                for k in range(p):
                    aqk = a[i + q, k]
                    bk = b[k]
                    for j in range(n):
                        oq[j] += aqk * bk[j]
        i += r


def _matmul_tn_rows(a, b, out):
    """matmul_tn's interpreted twin: out = aᵀ b, the terms i = 0, 1, ... in order."""
    out[:] = ordered.matmul(a.T, b)


@twin(_matmul_tn_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def matmul_tn(a, b, out):
    """out = aᵀ b: out[k, j] = Σ_i a[i, k] b[i, j], i = 0, 1, ... in order.
    a: (m, p), b: (m, n), out: (p, n)."""
    m, p = a.shape
    n = b.shape[1]
    for k in range(p):
        for j in range(n):
            out[k, j] = 0.0
    i = 0
    while i + 4 <= m:
        b0, b1, b2, b3 = b[i], b[i + 1], b[i + 2], b[i + 3]
        for k in range(p):
            a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
            ok = out[k]
            for j in range(n):
                t = ok[j]
                t += a0 * b0[j]
                t += a1 * b1[j]
                t += a2 * b2[j]
                t += a3 * b3[j]
                ok[j] = t
        i += 4
    while i < m:
        bi = b[i]
        for k in range(p):
            aik = a[i, k]
            ok = out[k]
            for j in range(n):
                ok[j] += aik * bi[j]
        i += 1


@njit(cache=True, nogil=True, error_model="numpy")
def matmul_nt(a, b, out):
    """out = a bᵀ: out[i, k] = Σ_j a[i, j] b[k, j], j = 0, 1, ... in order.
    a: (m, n), b: (p, n), out: (m, p). Through a transposed copy of b, so the innermost loop
    runs over independent outputs (it vectorizes) instead of along one running sum."""
    matmul(a, np.ascontiguousarray(b.T), out)


def _dot_in_order(a, b):
    return ordered.dot(a, b)


@twin(_dot_in_order)
@njit(cache=True, nogil=True, error_model="numpy")
def dot(a, b):
    """Σ_i a[i] b[i], i = 0, 1, ... in order (BLAS's ddot sums in a CPU-dependent order)."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


# --- dense --------------------------------------------------------------------------------
def _dense_forward_rows(x, w, b, z):
    matmul(x, w, z)
    z += b


@twin(_dense_forward_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def dense_forward(x, w, b, z):
    """z = x w + b."""
    matmul(x, w, z)
    m, n = z.shape
    for i in range(m):
        for j in range(n):
            z[i, j] += b[j]


def _dense_backward_rows(x, w, dz, dx, dw, db, need_dx):
    matmul_tn(x, dz, dw)
    db[:] = 0.0
    for i in range(dz.shape[0]):
        db += dz[i]
    if need_dx:
        matmul_nt(dz, w, dx)


@twin(_dense_backward_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def dense_backward(x, w, dz, dx, dw, db, need_dx):
    """Given dz: dw = xᵀ dz, db = Σ_rows dz, and (if need_dx) dx = dz wᵀ."""
    matmul_tn(x, dz, dw)
    m, n = dz.shape
    for j in range(n):
        db[j] = 0.0
    for i in range(m):
        for j in range(n):
            db[j] += dz[i, j]
    if need_dx:
        matmul_nt(dz, w, dx)


# --- batch norm ---------------------------------------------------------------------------
@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def _normalize_column(z, j, mean, r, g, bt, zh, u):
    """Column j: x̂ = (z − mean)·r, y = γ·x̂ + β, whichever statistics mean and r came from."""
    for i in range(z.shape[0]):
        h = (z[i, j] - mean) * r
        zh[i, j] = h
        u[i, j] = g * h + bt


def _bn_forward_train_rows(z, gamma, beta, eps, zh, u, mu, inv):
    """bn_forward_train's interpreted twin: every column at once, its sums a row at a time (so
    each column still adds its rows in order)."""
    m, n = z.shape
    s = np.zeros(n)
    for i in range(m):
        s += z[i]
    mean = s / m
    v = np.zeros(n)
    for i in range(m):
        d = z[i] - mean
        v += d * d
    r = 1.0 / np.sqrt(v / m + eps)
    mu[:n] = mean
    inv[:n] = r
    zh[:] = (z - mean) * r
    u[:] = gamma[:n] * zh + beta[:n]


@twin(_bn_forward_train_rows)
@njit(cache=True, nogil=True, error_model="numpy")
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
        _normalize_column(z, j, mean, r, gamma[j], beta[j], zh, u)


@njit(cache=True, nogil=True, error_model="numpy")
def bn_update_running(mu, inv, eps, run_mean, run_var, momentum):
    """run ← momentum·run + (1 − momentum)·batch (biased batch variance)."""
    for j in range(mu.shape[0]):
        var = 1.0 / (inv[j] * inv[j]) - eps
        run_mean[j] = momentum * run_mean[j] + (1.0 - momentum) * mu[j]
        run_var[j] = momentum * run_var[j] + (1.0 - momentum) * var


@njit(cache=True, nogil=True, error_model="numpy")
def bn_forward_eval(z, gamma, beta, eps, run_mean, run_var, zh, u):
    """Running statistics: each row is normalized on its own, independent of its batch."""
    m, n = z.shape
    for j in range(n):
        _normalize_column(z, j, run_mean[j], 1.0 / np.sqrt(run_var[j] + eps), gamma[j],
                          beta[j], zh, u)


@njit(cache=True, nogil=True, error_model="numpy")
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
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00


@njit(inline="always", error_model="numpy")
def tanh(x):
    """tanh to float64 accuracy (within 2 ulp of NumPy's) in plain arithmetic, so LLVM can
    vectorize it: tanh|x| = e/(e + 2) with e = expm1(2|x|), expm1 by Cody-Waite reduction
    2|x| = k ln2 + r, |r| ≤ ln2/2, and a degree-14 Taylor polynomial (error < 1e-19 there).
    The libm call it replaces costs 20 to 30 ns a value, most of a small MLP's step."""
    y = min(2.0 * abs(x), 40.0)           # tanh(20) is 1 in float64
    k = np.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 87178291200.0
    p = p * r + 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    em = (p * r) * r + r                   # expm1(r)
    s = np.float64(np.int64(1) << np.int64(k))
    e = s * em + (s - 1.0)                 # expm1(y) = 2^k expm1(r) + 2^k − 1
    t = e / (e + 2.0)
    if x != x:
        return x
    return t if x >= 0.0 else -t


def _tanh_array(x):
    """tanh's formula on a whole array (its interpreted twin)."""
    y = np.minimum(2.0 * np.abs(x), 40.0)
    k = np.floor(y * _INV_LN2 + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = np.full_like(r, 1.0 / 87178291200.0)
    for c in _TANH_TAYLOR:
        p = p * r + c
    em = (p * r) * r + r
    s = np.ldexp(1.0, np.nan_to_num(k).astype(np.int64))
    e = s * em + (s - 1.0)
    t = e / (e + 2.0)
    return np.where(x != x, x, np.where(x >= 0.0, t, -t))


_TANH_TAYLOR = (1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
                1.0 / 24.0, 1.0 / 6.0, 0.5)


# exp element by element from libm, as the kernels call it (numpy's own exp is CPU-dependent SIMD)
_LIBM_EXP = np.frompyfunc(math.exp, 1, 1)


def _act_forward_rows(act, u, a, h, xin, mask, arg, slope, k, leaky, elu_alpha, use_mask, skip):
    """act_forward's interpreted twin: tanh, ReLU, sigmoid, leaky ReLU, PReLU and ELU on whole
    arrays, maxout and the identity by its loops."""
    if act == TANH:
        a[:] = _tanh_array(u)
    elif act == RELU:                   # max(u, 0.0): u unless 0 is greater (NaN, -0.0 stay)
        a[:] = np.where(u < 0.0, 0.0, u)
    elif act == SIGMOID:                # scalar.sigmoid's two branches, exp from libm
        pos = u >= 0.0
        e = _LIBM_EXP(np.where(pos, -u, u)).astype(np.float64)
        a[:] = np.where(pos, 1.0 / (1.0 + e), e / (1.0 + e))
    elif act == LEAKY_RELU:             # the kernel's branch: x if x > 0 (NaN goes to the other)
        a[:] = np.where(u > 0.0, u, leaky * u)
    elif act == PRELU:
        a[:] = np.where(u > 0.0, u, slope[:a.shape[1]] * u)
    elif act == ELU:                    # exp (libm) of the other branch's elements only
        e = _LIBM_EXP(np.where(u > 0.0, 0.0, u)).astype(np.float64)
        a[:] = np.where(u > 0.0, u, elu_alpha * (e - 1.0))
    else:
        _act_forward_rows.loops(act, u, a, h, xin, mask, arg, slope, k, leaky, elu_alpha,
                                use_mask, skip)
        return
    h[:] = a
    if use_mask:
        h *= mask
    if skip:
        h += xin


@twin(_act_forward_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def act_forward(act, u, a, h, xin, mask, arg, slope, k, leaky, elu_alpha, use_mask, skip):
    """a = f(u) per unit; h = a·mask (inverted dropout) + xin (skip). Maxout: a_j = max of its
    k pieces u[:, j*k:(j+1)*k], the winning piece index kept in arg. tanh and ReLU get their
    own loops (they vectorize); the rest share one."""
    m, n = a.shape
    if act == TANH:
        for i in range(m):
            for j in range(n):
                y = tanh(u[i, j])
                a[i, j] = y
                h[i, j] = y
    elif act == RELU:
        for i in range(m):
            for j in range(n):
                y = max(u[i, j], 0.0)
                a[i, j] = y
                h[i, j] = y
    else:
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
                    if act == SIGMOID:
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
                h[i, j] = y
    if use_mask or skip:
        for i in range(m):
            for j in range(n):
                y = a[i, j]
                if use_mask:
                    y = y * mask[i, j]
                if skip:
                    y = y + xin[i, j]
                h[i, j] = y


def _act_backward_rows(act, u, a, dh, du, mask, arg, slope, dslope, k, leaky, elu_alpha,
                       use_mask):
    """act_backward's interpreted twin: tanh, ReLU and sigmoid on whole arrays, the rest by its
    loops."""
    if act != TANH and act != RELU and act != SIGMOID:
        _act_backward_rows.loops(act, u, a, dh, du, mask, arg, slope, dslope, k, leaky,
                                 elu_alpha, use_mask)
        return
    d = dh * mask if use_mask else dh
    if act == TANH:
        du[:] = d * (1.0 - a * a)
    elif act == SIGMOID:
        du[:] = d * a * (1.0 - a)
    else:
        du[:] = np.where(u > 0.0, d, 0.0)


@twin(_act_backward_rows)
@njit(cache=True, nogil=True, error_model="numpy")
def act_backward(act, u, a, dh, du, mask, arg, slope, dslope, k, leaky, elu_alpha, use_mask):
    """du from dh through the mask and f. PReLU also accumulates dslope."""
    m, n = a.shape
    if act == TANH and not use_mask:
        for i in range(m):
            for j in range(n):
                y = a[i, j]
                du[i, j] = dh[i, j] * (1.0 - y * y)
        return
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
