"""What the panes measure: per-layer statistics, histograms on fixed edges, decision-boundary
grids, validation, gradient checks by central differences and sharpness by power iteration.

Sharpness uses Hessian-vector products by central finite differences of the exact backprop
gradient, Hv ≈ (∇L(θ + h v) − ∇L(θ − h v)) / 2h with h = 1e-5 and ‖v‖ = 1 (relative error
~1e-8 here, far below what the edge-of-stability pane resolves; an exact R-op would double the
code of every layer for no visible gain).
"""

import numpy as np
from numba import njit

from . import codes as C
from ..jit_options import twin
from ..ordered import in_order
from .layers import dot
from .losses import count_correct, predicted_class
from .model import _mat, l2_penalty, load_range, loss_grad

_NB = dict(cache=True, nogil=True, error_model="numpy")

GC_MAX_PER_LAYER = 200   # parameters checked per layer (evenly strided), keeps a check cheap
GC_H = 1e-6
HVP_H = 1e-5


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def evaluate(forward, loss_and_grad, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n, loss_code,
             n_classes):
    """(mean loss, accuracy) over rows 0..n of X in evaluation mode, cap rows at a time.
    Accuracy is NaN for regression, both NaN when n == 0."""
    if n == 0:
        return np.nan, np.nan
    cap = yb.shape[0]
    r = spec[spec.shape[0] - 1]
    total = 0.0
    hits = 0
    s = 0
    while s < n:
        m = min(cap, n - s)
        load_range(spec, buf, X, Y, yb, s, m)
        forward(spec, theta, fh, buf, ibuf, bns, m, np.int64(C.EVAL), np.int64(0))
        z = _mat(buf, r[C.Z], m, r[C.N_OUT])
        dz = _mat(buf, r[C.DZ], m, r[C.N_OUT])
        total += m * loss_and_grad(loss_code, z, yb[:m], dz, n_classes, np.int64(0))
        hits += count_correct(loss_code, z, yb[:m], n_classes)
        s += m
    acc = hits / n if n_classes > 0 else np.nan
    return total / n, acc


def _sums_in_order(x, lo, hi):
    v = x[lo:hi]
    return in_order(v, 4), in_order(v * v, 4)


@twin(_sums_in_order)
@njit(inline="always", error_model="numpy")
def sums(x, lo, hi):
    """(Σ x, Σ x²) over x[lo:hi] with four independent accumulators: without fastmath a
    single running sum is one long dependent chain of adds, the slowest part of a step."""
    s0 = s1 = s2 = s3 = 0.0
    q0 = q1 = q2 = q3 = 0.0
    i = lo
    while i + 4 <= hi:
        a0 = x[i]
        a1 = x[i + 1]
        a2 = x[i + 2]
        a3 = x[i + 3]
        s0 += a0
        s1 += a1
        s2 += a2
        s3 += a3
        q0 += a0 * a0
        q1 += a1 * a1
        q2 += a2 * a2
        q3 += a3 * a3
        i += 4
    while i < hi:
        a0 = x[i]
        s0 += a0
        q0 += a0 * a0
        i += 1
    return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)


def _norms_and_copy_in_order(g, x, xc, lo, hi):
    xc[lo:hi] = x[lo:hi]
    v, w = g[lo:hi], x[lo:hi]
    return in_order(v * v, 4), in_order(w * w, 4)


@twin(_norms_and_copy_in_order)
@njit(cache=True, nogil=True, error_model="numpy")
def norms_and_copy(g, x, xc, lo, hi):
    """(Σ g², Σ x²) over [lo, hi) and xc[lo:hi] = x[lo:hi], in one pass (large layers are
    memory bound: one pass instead of three)."""
    g0 = g1 = g2 = g3 = 0.0
    q0 = q1 = q2 = q3 = 0.0
    i = lo
    while i + 4 <= hi:
        a0 = x[i]
        a1 = x[i + 1]
        a2 = x[i + 2]
        a3 = x[i + 3]
        xc[i] = a0
        xc[i + 1] = a1
        xc[i + 2] = a2
        xc[i + 3] = a3
        q0 += a0 * a0
        q1 += a1 * a1
        q2 += a2 * a2
        q3 += a3 * a3
        b0 = g[i]
        b1 = g[i + 1]
        b2 = g[i + 2]
        b3 = g[i + 3]
        g0 += b0 * b0
        g1 += b1 * b1
        g2 += b2 * b2
        g3 += b3 * b3
        i += 4
    while i < hi:
        a0 = x[i]
        xc[i] = a0
        q0 += a0 * a0
        g0 += g[i] * g[i]
        i += 1
    return (g0 + g1) + (g2 + g3), (q0 + q1) + (q2 + q3)


def _sumsq_diff_in_order(x, y, lo, hi):
    d = x[lo:hi] - y[lo:hi]
    return in_order(d * d, 4)


@twin(_sumsq_diff_in_order)
@njit(cache=True, nogil=True, error_model="numpy")
def sumsq_diff(x, y, lo, hi):
    """Σ (x − y)² over [lo, hi), four accumulators."""
    q0 = q1 = q2 = q3 = 0.0
    i = lo
    while i + 4 <= hi:
        d0 = x[i] - y[i]
        d1 = x[i + 1] - y[i + 1]
        d2 = x[i + 2] - y[i + 2]
        d3 = x[i + 3] - y[i + 3]
        q0 += d0 * d0
        q1 += d1 * d1
        q2 += d2 * d2
        q3 += d3 * d3
        i += 4
    while i < hi:
        d0 = x[i] - y[i]
        q0 += d0 * d0
        i += 1
    return (q0 + q1) + (q2 + q3)


# how train_steps calls layer_stats (through a pointer: jit_options.call_through_pointers)
LAYER_STATS = "none(int64[:, ::1], float64[::1], int64, float64[:, ::1], int64)"


@njit(cache=True, nogil=True, error_model="numpy")
def layer_stats(spec, buf, m, out, k):
    """act_mean, act_std, preact_std, dead, spread of every layer on the last forward's m rows,
    into column k of out (rows laid out as codes.GLOBAL_SERIES then NLS per layer). This runs
    every step, so every pass is row-major with split accumulators."""
    L = spec.shape[0]
    for l in range(L):
        r = spec[l]
        n = r[C.N_OUT]
        nk = n * r[C.K]
        oa = r[C.A] if l < L - 1 else r[C.Z]
        s = 0.0
        s2 = 0.0
        sp = 0.0
        for i in range(m):
            us, us2 = sums(buf, oa + i * n, oa + (i + 1) * n)
            um = us / n
            sp += np.sqrt(max(us2 / n - um * um, 0.0))
            s += us
            s2 += us2
        dead = 0
        if l < L - 1:
            for j in range(n):
                alive = False
                for i in range(m):
                    if buf[oa + i * n + j] != 0.0:
                        alive = True
                        break
                if not alive:
                    dead += 1
        cnt = m * n
        mean = s / cnt
        zs, zs2 = sums(buf, r[C.Z], r[C.Z] + m * nk)
        zc = m * nk
        zm = zs / zc
        base = C.NGS + l * C.NLS
        out[base + 2, k] = mean
        out[base + 3, k] = np.sqrt(max(s2 / cnt - mean * mean, 0.0))
        out[base + 4, k] = np.sqrt(max(zs2 / zc - zm * zm, 0.0))
        out[base + 5, k] = dead / n
        out[base + 7, k] = sp / m


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def gradcheck_layers(forward, backward, loss_and_grad, spec, theta, grad, fh, buf, ibuf, bns, yb,
                     m, loss_code, n_classes, mode, res):
    """Relative error ‖g − ĝ‖/(‖g‖ + ‖ĝ‖) per layer between the analytic gradient `grad` and
    central differences of data loss + L2 on the loaded rows (same masks, same mode; running
    statistics untouched). Up to GC_MAX_PER_LAYER parameters per layer."""
    L = spec.shape[0]
    wd = fh[C.FH_WD]
    for l in range(L):
        p0 = spec[l, C.P0]
        p1 = spec[l, C.P1]
        stride = max(1, (p1 - p0 + GC_MAX_PER_LAYER - 1) // GC_MAX_PER_LAYER)
        num = 0.0
        den_a = 0.0
        den_n = 0.0
        for q in range(p0, p1, stride):
            old = theta[q]
            fp = 0.0
            fm = 0.0
            for side in range(2):   # one call site of the inlined loss_grad, not two
                theta[q] = old + GC_H if side == 0 else old - GC_H
                f = loss_grad(forward, backward, loss_and_grad, spec, theta, grad, fh, buf, ibuf,
                              bns, yb, m, mode, np.int64(0), loss_code, n_classes,
                              np.int64(0)) + l2_penalty(spec, theta, wd)
                if side == 0:
                    fp = f
                else:
                    fm = f
            theta[q] = old
            gn = (fp - fm) / (2.0 * GC_H)
            d = grad[q] - gn
            num += d * d
            den_a += grad[q] * grad[q]
            den_n += gn * gn
        den = np.sqrt(den_a) + np.sqrt(den_n)
        res[l] = np.sqrt(num) / den if den > 0.0 else 0.0


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def hvp(forward, backward, loss_and_grad, spec, theta, fh, buf, ibuf, bns, yb, m, loss_code,
        n_classes, v, tp, g1, g2, hv):
    """Hv by central differences of gradients on the loaded rows (probe mode)."""
    P = theta.shape[0]
    for side in range(2):       # one call site of the inlined loss_grad, not two
        if side == 0:
            g = g1
            for i in range(P):
                tp[i] = theta[i] + HVP_H * v[i]
        else:
            g = g2
            for i in range(P):
                tp[i] = theta[i] - HVP_H * v[i]
        loss_grad(forward, backward, loss_and_grad, spec, tp, g, fh, buf, ibuf, bns, yb, m,
                  np.int64(C.PROBE), np.int64(0), loss_code, n_classes, np.int64(1))
    for i in range(P):
        hv[i] = (g1[i] - g2[i]) / (2.0 * HVP_H)


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def sharpness(forward, backward, loss_and_grad, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n,
              loss_code, n_classes, iters, work):
    """Top Hessian eigenvalue (largest |λ|, signed) of the loss on rows 0..n (n ≤ cap) by power
    iteration, warm-started from work[0] (the previous eigenvector)."""
    load_range(spec, buf, X, Y, yb, np.int64(0), n)
    v = work[0]
    hv = work[1]
    P = theta.shape[0]
    lam = 0.0
    for it in range(iters):
        nv = np.sqrt(dot(v, v))
        for i in range(P):
            v[i] /= nv
        hvp(forward, backward, loss_and_grad, spec, theta, fh, buf, ibuf, bns, yb, n, loss_code,
            n_classes, v, work[2], work[3], work[4], hv)
        lam = dot(v, hv)
        nh = np.sqrt(dot(hv, hv))
        if not np.isfinite(nh) or nh == 0.0:
            return lam
        for i in range(P):
            v[i] = hv[i]
    nv = np.sqrt(dot(v, v))
    for i in range(P):
        v[i] /= nv
    return lam


def _fractions(values, lo, width, B):
    """A histogram row as histograms' loop adds it: each value adds 1/count to its bin in turn,
    so a bin holding k values holds the k-th partial sum of that constant."""
    v = values.reshape(-1)
    b = np.clip(np.floor((v - lo) / width).astype(np.int64), -1, B) + 1
    steps = np.add.accumulate(np.full(v.shape[0] + 1, 1.0 / v.shape[0]))
    steps[1:] = steps[:-1]
    steps[0] = 0.0
    return steps[np.bincount(b, minlength=B + 2)]


def _histograms_rows(forward, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n, edges, act_h, pre_h):
    """histograms' interpreted twin: each layer's values binned at once."""
    load_range(spec, buf, X, Y, yb, np.int64(0), n)
    forward(spec, theta, fh, buf, ibuf, bns, n, np.int64(C.PROBE), np.int64(0))
    L = spec.shape[0]
    B = edges.shape[0] - 1
    width = (edges[B] - edges[0]) / B
    for l in range(L):
        r = spec[l]
        nn = r[C.N_OUT]
        z = _mat(buf, r[C.Z], n, nn * r[C.K])
        a = _mat(buf, r[C.A], n, nn) if l < L - 1 else _mat(buf, r[C.Z], n, nn)
        act_h[l] = _fractions(a, edges[0], width, B)
        pre_h[l] = _fractions(z, edges[0], width, B)


@twin(_histograms_rows)
@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def histograms(forward, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n, edges, act_h, pre_h):
    """Fractions of act and preact values per bin for each layer, on rows 0..n (n ≤ cap) in
    probe mode. act_h, pre_h: (L, B + 2) for B bins on the fixed edges; column 0 counts the
    values below edges[0], column B + 1 those at or above edges[B] (never mixed into a bin)."""
    load_range(spec, buf, X, Y, yb, np.int64(0), n)
    forward(spec, theta, fh, buf, ibuf, bns, n, np.int64(C.PROBE), np.int64(0))
    L = spec.shape[0]
    B = edges.shape[0] - 1
    lo = edges[0]
    width = (edges[B] - edges[0]) / B
    for l in range(L):
        r = spec[l]
        nn = r[C.N_OUT]
        nk = nn * r[C.K]
        z = _mat(buf, r[C.Z], n, nk)
        a = _mat(buf, r[C.A], n, nn) if l < L - 1 else _mat(buf, r[C.Z], n, nn)
        for b in range(B + 2):
            act_h[l, b] = 0.0
            pre_h[l, b] = 0.0
        for i in range(n):
            for j in range(nn):
                b = int(np.floor((a[i, j] - lo) / width))
                act_h[l, min(max(b, -1), B) + 1] += 1.0 / (n * nn)
            for j in range(nk):
                b = int(np.floor((z[i, j] - lo) / width))
                pre_h[l, min(max(b, -1), B) + 1] += 1.0 / (n * nk)


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def predict_grid(forward, spec, theta, fh, buf, ibuf, bns, yb, window, G, out):
    """Predicted class over a G×G grid of the 2-D input window (x0, x1, y0, y1) in evaluation
    mode; row 0 is the top (y1), as the surface map draws."""
    cap = yb.shape[0]
    r = spec[spec.shape[0] - 1]
    c = r[C.N_OUT]
    o = spec[0, C.IN]
    total = G * G
    s = 0
    while s < total:
        m = min(cap, total - s)
        for i in range(m):
            p = s + i
            gi = p // G
            gj = p % G
            buf[o + 2 * i] = window[0] + (window[1] - window[0]) * (gj + 0.5) / G
            buf[o + 2 * i + 1] = window[3] - (window[3] - window[2]) * (gi + 0.5) / G
        forward(spec, theta, fh, buf, ibuf, bns, m, np.int64(C.EVAL), np.int64(0))
        z = _mat(buf, r[C.Z], m, c)
        for i in range(m):
            p = s + i
            out[p // G, p % G] = predicted_class(z, i)
        s += m


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def snapshot_arrays(forward, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n, edges, act_h, pre_h,
                    window, G, grid):
    """What a snapshot needs (train.train_steps runs it; no compiled entry point of its own):
    the histograms on rows 0..n of X, and when G > 0 the G×G decision-boundary grid."""
    histograms(forward, spec, theta, fh, buf, ibuf, bns, yb, X, Y, n, edges, act_h, pre_h)
    if G > 0:
        predict_grid(forward, spec, theta, fh, buf, ibuf, bns, yb, window, G, grid)
