"""Sparse coding (curriculum 12): J(W, H) = λ Σ|H| + Σ (X − WᵀH)² + μ Σ W².

Shapes: X is p×n (n_features × n_samples, one sample per column), W is k×p (one atom per row),
H is k×n (the codes). θ = (W row-major, H row-major), d = k·p + k·n. `sp` = [k, p, n, λ, μ].
μ (`w_decay`, default 0) is an optional ridge on W: without it, J can always be lowered by
scaling H down and W up together, so the codes shrink over a long run (Goodfellow et al. 8.7.2
note a norm constraint on W for this reason).

The smooth part S = Σ (X − WᵀH)² + μ Σ W² has, with R = WᵀH − X (p×n),
    ∂S/∂W = 2 H Rᵀ + 2μ W,        ∂S/∂H = 2 W R.
The gradient the kernels report (and that gradient-based optimizers follow) is the
*minimum-norm subgradient* of J: ∂S/∂W for W; for H, ∂S/∂H + λ sign(H) where H ≠ 0 and
sign(s)·max(|s| − λ, 0) (s = ∂S/∂H) where H = 0. It is 0 exactly at the stationary points of J,
so grad_norm → 0 means a stationary point; plain GD follows it as a subgradient method.

Block coordinate descent with blocks {W, H} (optimizer `coordinate`, coordinate_mode
"block_exact"), one block per update, W first:
    W-step  exact: W = (H Hᵀ + μ I)⁻¹ H Xᵀ, a least-squares (ridge) solve. With μ = 0 atoms whose
            code row is all zero do not enter the loss; their W rows are left as they are and the
            solve runs over the others.
    H-step  exact to a tolerance: the n lasso problems min_h λ‖h‖₁ + ‖x − Wᵀh‖² (one per column)
            by cyclic coordinate-wise soft-thresholding, h_j ← S(c_j − Σ_{i≠j} G_ji h_i, λ/2)/G_jj
            with G = W Wᵀ, c = W x, sweeping until no h_j moves by more than 1e-13·(1 + max|h|)
            (at most 2000 sweeps). Each coordinate move minimises J exactly, so J never rises.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import ordered
from .linalg import solve_inplace

H_TOL = 1e-13
H_MAX_SWEEPS = 2000


def make_sparse_data(n_samples: int, n_atoms: int, n_features: int, noise: float,
                     data_seed: int, l1: float, w_decay: float):
    """(sp, X, start): data X = W_trueᵀ H_true + noise with unit-norm atoms and codes that use
    two atoms per sample, and a seeded random start (W, H ~ N(0, 0.5²))."""
    rng = np.random.default_rng(int(data_seed))
    k, p, n = int(n_atoms), int(n_features), int(n_samples)
    Wt = rng.standard_normal((k, p))
    Wt /= ordered.norm(Wt, axis=1, keepdims=True)
    Ht = np.zeros((k, n))
    for s in range(n):
        idx = rng.choice(k, size=min(2, k), replace=False)
        Ht[idx, s] = rng.standard_normal(idx.shape[0]) * 2.0
    X = ordered.matmul(np.ascontiguousarray(Wt.T), Ht) + float(noise) * rng.standard_normal((p, n))
    init = np.random.default_rng([int(data_seed), 1])
    start = np.concatenate([0.5 * init.standard_normal(k * p), 0.5 * init.standard_normal(k * n)])
    sp = np.array([k, p, n, float(l1), float(w_decay)], dtype=np.float64)
    return sp, np.ascontiguousarray(X), start


def sparse_dim(n_samples: int, n_atoms: int, n_features: int) -> int:
    return int(n_atoms) * (int(n_features) + int(n_samples))


@njit(cache=True, nogil=True, error_model="numpy")
def sc_f_grad(sp, X, theta, g, minnorm):
    """J(θ); writes into g the minimum-norm subgradient of J (minnorm = 1.0) or ∇S, the gradient
    of the smooth part alone (minnorm = 0.0). A float flag: a bool literal would compile a
    second specialisation."""
    k = int(sp[0])
    p = int(sp[1])
    n = int(sp[2])
    lam = sp[3]
    mu = sp[4]
    oh = k * p
    R = np.empty((p, n))
    f = 0.0
    for a in range(p):
        for s in range(n):
            acc = -X[a, s]
            for j in range(k):
                acc += theta[j * p + a] * theta[oh + j * n + s]
            R[a, s] = acc
            f += acc * acc
    for j in range(k):
        for a in range(p):
            w = theta[j * p + a]
            acc = 0.0
            for s in range(n):
                acc += theta[oh + j * n + s] * R[a, s]
            g[j * p + a] = 2.0 * acc + 2.0 * mu * w
            f += mu * w * w
    for j in range(k):
        for s in range(n):
            h = theta[oh + j * n + s]
            acc = 0.0
            for a in range(p):
                acc += theta[j * p + a] * R[a, s]
            gs = 2.0 * acc
            f += lam * abs(h)
            if minnorm != 0.0:
                if h > 0.0:
                    gs += lam
                elif h < 0.0:
                    gs -= lam
                elif gs > lam:
                    gs -= lam
                elif gs < -lam:
                    gs += lam
                else:
                    gs = 0.0
            g[oh + j * n + s] = gs
    return f


@njit(cache=True, nogil=True, error_model="numpy")
def sc_hessian(sp, X, theta, Hm):
    """The Hessian of the smooth part S (the L1 term has none away from H = 0)."""
    k = int(sp[0])
    p = int(sp[1])
    n = int(sp[2])
    mu = sp[4]
    oh = k * p
    d = theta.shape[0]
    for i in range(d):
        for j in range(d):
            Hm[i, j] = 0.0
    # W-W: 2 (H Hᵀ)_ji δ_ab + 2μ δ
    for j in range(k):
        for i in range(k):
            acc = 0.0
            for s in range(n):
                acc += theta[oh + j * n + s] * theta[oh + i * n + s]
            for a in range(p):
                Hm[j * p + a, i * p + a] = 2.0 * acc
    for q in range(oh):
        Hm[q, q] += 2.0 * mu
    # H-H: 2 (W Wᵀ)_ji δ_st
    for j in range(k):
        for i in range(k):
            acc = 0.0
            for a in range(p):
                acc += theta[j * p + a] * theta[i * p + a]
            for s in range(n):
                Hm[oh + j * n + s, oh + i * n + s] = 2.0 * acc
    # W-H: ∂²S/∂W_ja ∂H_it = 2 H_jt W_ia + 2 R_at δ_ji
    for a in range(p):
        for t in range(n):
            r = -X[a, t]
            for j in range(k):
                r += theta[j * p + a] * theta[oh + j * n + t]
            for j in range(k):
                for i in range(k):
                    v = 2.0 * theta[oh + j * n + t] * theta[i * p + a]
                    if i == j:
                        v += 2.0 * r
                    Hm[j * p + a, oh + i * n + t] = v
                    Hm[oh + i * n + t, j * p + a] = v


@njit(cache=True, nogil=True, error_model="numpy")
def sc_w_step(sp, X, theta):
    """W ← argmin_W J(W, H): the least-squares (ridge) solve (H Hᵀ + μI) W = H Xᵀ."""
    k = int(sp[0])
    p = int(sp[1])
    n = int(sp[2])
    mu = sp[4]
    oh = k * p
    active = np.empty(k, np.int64)
    na = np.int64(0)  # not the literal 0: a literal would compile solve_inplace twice
    for j in range(k):
        ss = 0.0
        for s in range(n):
            h = theta[oh + j * n + s]
            ss += h * h
        if ss > 0.0 or mu > 0.0:
            active[na] = j
            na += 1
    if na == 0:
        return
    G = np.empty((na, na))
    A = np.empty((na, na))
    b = np.empty(na)
    for u in range(na):
        ju = active[u]
        for v in range(na):
            jv = active[v]
            acc = 0.0
            for s in range(n):
                acc += theta[oh + ju * n + s] * theta[oh + jv * n + s]
            G[u, v] = acc
        G[u, u] += mu
    for a in range(p):
        for u in range(na):
            ju = active[u]
            acc = 0.0
            for s in range(n):
                acc += theta[oh + ju * n + s] * X[a, s]
            b[u] = acc
            for v in range(na):
                A[u, v] = G[u, v]
        solve_inplace(A, b, na)
        for u in range(na):
            theta[active[u] * p + a] = b[u]


@njit(cache=True, nogil=True, error_model="numpy")
def sc_h_step(sp, X, theta):
    """H ← argmin_H J(W, H): per column a lasso, by cyclic coordinate-wise soft-thresholding.
    Returns the number of sweeps of the slowest column."""
    k = int(sp[0])
    p = int(sp[1])
    n = int(sp[2])
    half = 0.5 * sp[3]
    oh = k * p
    G = np.empty((k, k))
    for j in range(k):
        for i in range(k):
            acc = 0.0
            for a in range(p):
                acc += theta[j * p + a] * theta[i * p + a]
            G[j, i] = acc
    c = np.empty(k)
    worst = 0
    for s in range(n):
        for j in range(k):
            acc = 0.0
            for a in range(p):
                acc += theta[j * p + a] * X[a, s]
            c[j] = acc
        sweeps = 0
        while sweeps < H_MAX_SWEEPS:
            sweeps += 1
            moved = 0.0
            big = 0.0
            for j in range(k):
                q = oh + j * n + s
                old = theta[q]
                if G[j, j] <= 0.0:
                    new = 0.0
                else:
                    r = c[j]
                    for i in range(k):
                        if i != j:
                            r -= G[j, i] * theta[oh + i * n + s]
                    if r > half:
                        new = (r - half) / G[j, j]
                    elif r < -half:
                        new = (r + half) / G[j, j]
                    else:
                        new = 0.0
                theta[q] = new
                moved = max(moved, abs(new - old))
                big = max(big, abs(new))
            if moved <= H_TOL * (1.0 + big):
                break
        worst = max(worst, sweeps)
    return worst


@njit(cache=True, nogil=True, error_model="numpy")
def sc_block_step(sp, X, theta, block):
    """One block of block coordinate descent: block 0 is W, block 1 is H."""
    if block == 0:
        sc_w_step(sp, X, theta)
    else:
        sc_h_step(sp, X, theta)


@njit(cache=True, nogil=True, error_model="numpy")
def sc_sparsity(sp, theta):
    """Fraction of the entries of H that are exactly 0."""
    k = int(sp[0])
    p = int(sp[1])
    n = int(sp[2])
    oh = k * p
    z = 0
    for q in range(oh, oh + k * n):
        if theta[q] == 0.0:
            z += 1
    return z / (k * n)
