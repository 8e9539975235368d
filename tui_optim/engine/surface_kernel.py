"""The surface kernels: n records and n updates in one njit call, writing into `out`.

Four kernels, each its own dispatcher so a scenario compiles only those its runs use (the
stepper picks one per run with kernel_path): _plain_sgd_2d and _first_order_2d (below),
generic_kernel (everything else but sparse coding) and sparse_kernel (sparse coding). Newton runs
with d ≤ 8 get the hess_min_eig row from fill_hess_min_eig, after the kernel.

Record k (row layout in `ROW_*` and the cfg arrays) is the state at θ_k before update k+1. Then
the update: the gradient at the optimizer's point (θ, or θ + αv for Nesterov), on a minibatch or
a blurred objective when asked, plus Gaussian noise, clipped, then the optimizer's rule with
ε(t)·scale. The kernel returns the number of records written; it stops early at the first record
whose loss or θ is non-finite (that record is written, and istate[DEAD] is set).

First-order runs on a polynomial 2-D surface take a loop with θ and the optimizer state in
registers that records only loss, ‖g‖, ε and θ (plain SGD, at constant ε without noise, clip or
averaging, a loop of its own without ε); fill_plain_rows then derives ‖θ‖, step size and
distance with the generic loop's formulas (same bits). The generic loop calls a function per
stage, each taking arrays: 10 to 20 times slower (see bench/bench_surfaces.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit_options import PER_STEP

from . import optimizers as O
from .rng import normal, shuffle
from .schedules import CONSTANT, lr_at
from .sparse_coding import sc_block_step, sc_f_grad, sc_hessian, sc_sparsity
from .surfaces import (BEALE, HIMMELBLAU, LEAST_SQUARES, MONKEY_SADDLE, QUADRATIC, ROSENBROCK,
                       SADDLE, SPARSE_CODING, TWO_D_CODES, batch_f_grad, f_grad, fg2d, hessian)

# fixed rows of out
ROW_LOSS, ROW_GRAD_NORM, ROW_LR, ROW_PARAM_NORM, ROW_STEP_SIZE = range(5)

# cfg_i indices
(I_SCODE, I_OCODE, I_SCHED, I_CLIP, I_AVG, I_BATCH, I_SAMPLES, I_TOTAL, I_ROW_X, I_ROW_DIST,
 I_ROW_AVG_LOSS, I_ROW_AVG_X, I_ROW_PROJ, I_ROW_SPARSITY, I_ROW_HEIG) = range(15)
N_CFG_I = 15
# cfg_f indices
F_CLIP, F_DECAY, F_NOISE, F_SCALE = range(4)
N_CFG_F = 4
# istate indices
S_T, S_POS, S_DEAD, S_PLAIN = range(4)

CLIP_NONE, CLIP_NORM, CLIP_VALUE = O.CLIP_NONE, O.CLIP_NORM, O.CLIP_VALUE
AVG_NONE, AVG_POLYAK, AVG_EMA = 0, 1, 2


@njit(**PER_STEP)
def _grad_at(scode, sp, X, Y, x, g, perm, istate, batch):
    """Gradient at x: full, or on the next minibatch (reshuffling at each epoch's start)."""
    if batch > 0 and scode >= LEAST_SQUARES:
        m = X.shape[0]
        pos = istate[S_POS]
        if pos >= m:
            return -1.0  # caller draws the batch first (see _next_batch)
        cnt = min(batch, m - pos)
        return batch_f_grad(scode, sp, X, Y, x, g, perm, pos, cnt)
    return f_grad(scode, sp, X, Y, x, g)


@njit(**PER_STEP)
def _next_batch(X, perm, istate, batch, rng):
    """Move the minibatch window; at the end of an epoch reshuffle and start over."""
    m = X.shape[0]
    pos = istate[S_POS] + min(batch, m)
    if istate[S_POS] < 0 or pos >= m:
        shuffle(rng, perm)
        pos = 0
    istate[S_POS] = pos


@njit(**PER_STEP)
def _norm(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * a[i]
    return np.sqrt(s)


@njit(cache=True, nogil=True, error_model="numpy")
def min_eig_sym(A, d):
    """Smallest eigenvalue of the symmetric A[:d, :d] (A is overwritten): closed form for
    d ≤ 2, else cyclic Jacobi rotations until the off-diagonal is negligible (d is small)."""
    if d == 1:
        return A[0, 0]
    if d == 2:
        m = 0.5 * (A[0, 0] + A[1, 1])
        h = 0.5 * (A[0, 0] - A[1, 1])
        return m - np.sqrt(h * h + A[0, 1] * A[0, 1])
    for _ in range(100):
        off = 0.0
        tot = 0.0
        for i in range(d):
            for j in range(d):
                v = A[i, j] * A[i, j]
                tot += v
                if i != j:
                    off += v
        if off <= 1e-30 * tot or off == 0.0:
            break
        for p in range(d - 1):
            for q in range(p + 1, d):
                apq = A[p, q]
                if apq == 0.0:
                    continue
                theta = (A[q, q] - A[p, p]) / (2.0 * apq)
                t = (1.0 if theta >= 0.0 else -1.0) / (abs(theta) + np.sqrt(theta * theta + 1.0))
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                for k in range(d):
                    akp = A[k, p]
                    akq = A[k, q]
                    A[k, p] = c * akp - s * akq
                    A[k, q] = s * akp + c * akq
                for k in range(d):
                    apk = A[p, k]
                    aqk = A[q, k]
                    A[p, k] = c * apk - s * aqk
                    A[q, k] = s * apk + c * aqk
    m = A[0, 0]
    for i in range(1, d):
        m = min(m, A[i, i])
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def fill_hess_min_eig(scode, sp, X, Y, out, m, row_x, row_heig, d):
    """Row row_heig of records 0..m−1: the smallest Hessian eigenvalue at θ_k, θ_k read from the
    x.i rows (d ≤ 8). Kept out of the generic loop: its own small kernel, compiled only for a
    run that records it."""
    x = np.empty(d)
    Hw = np.empty((d, d))
    for k in range(m):
        for i in range(d):
            x[i] = out[row_x + i, k]
        hessian(scode, sp, X, Y, x, Hw)
        out[row_heig, k] = min_eig_sym(Hw, d)


@njit(inline="always")
def _is_2d(c):
    """c in TWO_D_CODES, as comparisons numba folds (a test pins it to the catalog)."""
    return (c == QUADRATIC or c == ROSENBROCK or c == BEALE or c == HIMMELBLAU or c == SADDLE
            or c == MONKEY_SADDLE)


PATH_GENERIC, PATH_PLAIN_SGD, PATH_SPARSE, PATH_FIRST_ORDER_2D = 0, 1, 3, 4
FAST_PATHS = {O.SGD: PATH_PLAIN_SGD}   # optimizer code -> its own 2-D kernel


def kernel_path(cfg_i, cfg_f, sched_p, ocode, d) -> int:
    """Which kernel serves a run (decided once, in Python, when the stepper is built): plain SGD's
    own 2-D loop, the 2-D register loop for every first-order rule and setting (averaging where
    θ* is known: row 7 is its distance), else the generic loop.
    Each is its own dispatcher, so a scenario compiles only the kernels its runs use."""
    # a 2-D polynomial surface, θ in rows 5 and 6, no minibatches, projections or Hessian row
    two_d = (int(cfg_i[I_SCODE]) in TWO_D_CODES and d == 2 and cfg_i[I_SAMPLES] == 0
             and cfg_i[I_ROW_X] == 5 and cfg_i[I_ROW_PROJ] < 0 and cfg_i[I_ROW_HEIG] < 0)
    plain = (two_d and cfg_i[I_SCHED] == 0 and sched_p[0] <= 0.0
             and cfg_i[I_CLIP] == CLIP_NONE and cfg_i[I_AVG] == AVG_NONE
             and cfg_f[F_NOISE] == 0.0)
    if int(cfg_i[I_SCODE]) == SPARSE_CODING:
        return PATH_SPARSE
    if plain and O.BY_CODE[ocode].fast_path:       # eligible in the catalog: sgd
        return FAST_PATHS[ocode]
    if (two_d and ocode in O.FIRST_ORDER and cfg_i[I_ROW_DIST] in (7, -1)
            and (cfg_i[I_AVG] == AVG_NONE or cfg_i[I_ROW_AVG_LOSS] == 8)):
        return PATH_FIRST_ORDER_2D
    return PATH_GENERIC


# -- pieces both loops share (each compiled into its caller) ---------------------------------
@njit(**PER_STEP)
def _record_base(out, k, f, gtrue, lr, theta, prev, t):
    """Record k's loss, ‖g‖, lr, ‖θ‖ and step size; returns whether f and θ are finite."""
    out[ROW_LOSS, k] = f
    out[ROW_GRAD_NORM, k] = _norm(gtrue)
    out[ROW_LR, k] = lr
    out[ROW_PARAM_NORM, k] = _norm(theta)
    finite = np.isfinite(f)
    ss = 0.0
    for i in range(theta.shape[0]):
        if not np.isfinite(theta[i]):
            finite = False
        if t > 0:
            r = theta[i] - prev[i]
            ss += r * r
    out[ROW_STEP_SIZE, k] = np.sqrt(ss)
    return finite


@njit(**PER_STEP)
def _record_projection(out, row, k, theta, origin, e0, e1):
    """θ − origin projected on the two drawn directions (d > 2)."""
    u = 0.0
    v = 0.0
    for i in range(theta.shape[0]):
        r = theta[i] - origin[i]
        u += r * e0[i]
        v += r * e1[i]
    out[row, k] = u
    out[row + 1, k] = v


@njit(**PER_STEP)
def _average(kind, decay, t, theta, avg):
    """Polyak's running mean of the iterates, or their exponential average."""
    if t == 0:
        for i in range(theta.shape[0]):
            avg[i] = theta[i]
    elif kind == AVG_POLYAK:
        w = 1.0 / (t + 1.0)
        for i in range(theta.shape[0]):
            avg[i] += (theta[i] - avg[i]) * w
    else:
        for i in range(theta.shape[0]):
            avg[i] = decay * avg[i] + (1.0 - decay) * theta[i]


@njit(**PER_STEP)
def _noise_and_clip(g, noise, rng, clip, clip_c):
    """Additive Gaussian gradient noise, then clipping by norm or by value."""
    if noise > 0.0:
        for i in range(g.shape[0]):
            g[i] += noise * normal(rng)
    O.clip_gradient(clip, clip_c, g)


@njit(**PER_STEP)
def generic_kernel(update, n, cfg_i, cfg_f, sp, X, Y, perm, op, V, sv, sched_p, sigmas, rng,
                   theta, prev, avg, theta_star, origin, e0, e1, istate, out, work, Hw):
    """The generic loop: every surface, optimizer, schedule, noise, clipping, averaging,
    minibatch and continuation. Returns the number of records written (< n on divergence).
    update: optimizers.update, passed as a pointer (jit_options.call_through_pointers), so this
    loop compiles beside it, in another process (surface_stepper.compile_parts).
    work (5 × d) and Hw (d × d) are scratch the caller owns (this loop allocates nothing, see
    jit_options.PER_STEP)."""
    if istate[S_DEAD] != 0:
        return 0
    scode = cfg_i[I_SCODE]
    ocode = cfg_i[I_OCODE]
    d = theta.shape[0]
    sched = cfg_i[I_SCHED]
    clip = cfg_i[I_CLIP]
    avg_kind = cfg_i[I_AVG]
    batch = cfg_i[I_BATCH]
    samples = cfg_i[I_SAMPLES]
    total = cfg_i[I_TOTAL]
    row_x = cfg_i[I_ROW_X]
    row_dist = cfg_i[I_ROW_DIST]
    row_avg_loss = cfg_i[I_ROW_AVG_LOSS]
    row_avg_x = cfg_i[I_ROW_AVG_X]
    row_proj = cfg_i[I_ROW_PROJ]
    clip_c = cfg_f[F_CLIP]
    decay = cfg_f[F_DECAY]
    noise = cfg_f[F_NOISE]
    scale = cfg_f[F_SCALE]
    base_lr = op[O.LR]
    d = theta.shape[0]
    nsig = sigmas.shape[0]
    stochastic = (batch > 0 and scode >= LEAST_SQUARES) or samples > 0
    gtrue = work[0]
    g = work[1]
    gs = work[2]
    pt = work[3]
    xs = work[4]
    for k in range(n):
        t = istate[S_T]
        # ---- record k: the state at θ_k
        f = f_grad(scode, sp, X, Y, theta, gtrue)
        lr = lr_at(sched, sched_p, base_lr, t) * scale
        finite = _record_base(out, k, f, gtrue, lr, theta, prev, t)
        if row_x >= 0:
            for i in range(d):
                out[row_x + i, k] = theta[i]
        if row_dist >= 0:
            ss = 0.0
            for i in range(d):
                r = theta[i] - theta_star[i]
                ss += r * r
            out[row_dist, k] = np.sqrt(ss)
        if row_proj >= 0:
            _record_projection(out, row_proj, k, theta, origin, e0, e1)
        if avg_kind != AVG_NONE:
            _average(avg_kind, decay, t, theta, avg)
            out[row_avg_loss, k] = f_grad(scode, sp, X, Y, avg, gs)
            if row_avg_x >= 0:
                for i in range(d):
                    out[row_avg_x + i, k] = avg[i]
        if not finite:
            istate[S_DEAD] = 1
            return k + 1
        # ---- update k+1
        away = O.grad_point(ocode, op, V, theta, pt)
        if not away:
            for i in range(d):
                pt[i] = theta[i]
        if stochastic:
            if batch > 0 and scode >= LEAST_SQUARES:
                _next_batch(X, perm, istate, batch, rng)
            if samples > 0:
                sigma = sigmas[min(nsig - 1, (t * nsig) // max(total, 1))]
                if sigma == 0.0:
                    _grad_at(scode, sp, X, Y, pt, g, perm, istate, batch)
                else:
                    for i in range(d):
                        g[i] = 0.0
                    for _ in range(samples):
                        for i in range(d):
                            xs[i] = pt[i] + sigma * normal(rng)
                        _grad_at(scode, sp, X, Y, xs, gs, perm, istate, batch)
                        for i in range(d):
                            g[i] += gs[i]
                    for i in range(d):
                        g[i] /= samples
            else:
                _grad_at(scode, sp, X, Y, pt, g, perm, istate, batch)
        elif away:
            f_grad(scode, sp, X, Y, pt, g)
        else:
            for i in range(d):
                g[i] = gtrue[i]
        _noise_and_clip(g, noise, rng, clip, clip_c)
        for i in range(d):
            prev[i] = theta[i]
        update(ocode, op, V, sv, theta, g, lr, scode, sp, X, Y, Hw)
        istate[S_T] = t + 1
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def sparse_kernel(n, cfg_i, cfg_f, sp, X, op, V, sv, sched_p, rng, theta, prev, avg, origin, e0,
                  e1, istate, out):
    """The loop for sparse coding (its own kernel, so the generic loop does not carry the
    sparse-coding code, nor this one the other surfaces'): the same records and update order as
    generic_kernel, with J and its minimum-norm subgradient from sparse_coding, `sparsity`, and
    the updates: block_exact (W / H alternately), Newton on the smooth part's Hessian, and the
    first-order rules (Nesterov's gradient at θ + αv), with noise, clipping, schedule, averaging.
    No minibatches, continuation or L-BFGS (the stepper refuses those)."""
    if istate[S_DEAD] != 0:
        return 0
    ocode = cfg_i[I_OCODE]
    sched = cfg_i[I_SCHED]
    clip = cfg_i[I_CLIP]
    avg_kind = cfg_i[I_AVG]
    row_avg_loss = cfg_i[I_ROW_AVG_LOSS]
    row_proj = cfg_i[I_ROW_PROJ]
    row_sparsity = cfg_i[I_ROW_SPARSITY]
    clip_c = cfg_f[F_CLIP]
    decay = cfg_f[F_DECAY]
    noise = cfg_f[F_NOISE]
    scale = cfg_f[F_SCALE]
    base_lr = op[O.LR]
    block_exact = ocode == O.COORDINATE and op[O.CMODE] == O.CMODE_BLOCK_EXACT
    d = theta.shape[0]
    gtrue = np.empty(d)
    g = np.empty(d)
    gs = np.empty(d)
    pt = np.empty(d)
    Hw = np.empty((d, d)) if ocode == O.NEWTON else np.empty((1, 1))
    for k in range(n):
        t = istate[S_T]
        # ---- record k: the state at θ_k
        f = sc_f_grad(sp, X, theta, gtrue, 1.0)
        lr = lr_at(sched, sched_p, base_lr, t) * scale
        finite = _record_base(out, k, f, gtrue, lr, theta, prev, t)
        if row_proj >= 0:
            _record_projection(out, row_proj, k, theta, origin, e0, e1)
        if row_sparsity >= 0:
            out[row_sparsity, k] = sc_sparsity(sp, theta)
        if avg_kind != AVG_NONE:
            _average(avg_kind, decay, t, theta, avg)
            out[row_avg_loss, k] = sc_f_grad(sp, X, avg, gs, 1.0)
        if not finite:
            istate[S_DEAD] = 1
            return k + 1
        # ---- update k+1
        for i in range(d):
            prev[i] = theta[i]
        if block_exact:
            blk = int(sv[0])
            sc_block_step(sp, X, theta, blk)
            sv[0] = 1 - blk
            istate[S_T] = t + 1
            continue
        if O.grad_point(ocode, op, V, theta, pt):
            sc_f_grad(sp, X, pt, g, 1.0)
        else:
            for i in range(d):
                g[i] = gtrue[i]
        _noise_and_clip(g, noise, rng, clip, clip_c)
        if ocode == O.NEWTON:
            sc_hessian(sp, X, theta, Hw)
            O.damped_newton_step(Hw, g, V[0], op[O.DAMPING], lr, theta)
        else:
            O.first_order_update(ocode, op, V, sv, theta, g, lr)
        istate[S_T] = t + 1
    return n


@njit(inline="always")
def _record_2d(out, k, f, g0, g1, x0, x1):
    # Only what needs the loop: loss, ‖g‖ and θ. The stepper derives lr, ‖θ‖, step size and
    # distance from these rows afterwards, vectorized (same formulas, same bits): three square
    # roots fewer per step on the serial path. Literal row numbers: a runtime row index or flag
    # in this loop cost 2.5 to 3x (measured).
    out[ROW_LOSS, k] = f
    out[ROW_GRAD_NORM, k] = np.sqrt(g0 * g0 + g1 * g1)
    out[5, k] = x0
    out[6, k] = x1
    return np.isfinite(f) and np.isfinite(x0) and np.isfinite(x1)


@njit(cache=True, nogil=True, error_model="numpy")
def _plain_sgd_2d(n, cfg_i, cfg_f, sp, op, theta, theta_star, istate, out):
    """SGD on a 2-D analytic surface with θ in registers; rows 2, 3, 4, 7 are left to the caller."""
    scode = cfg_i[I_SCODE]
    lr = op[O.LR] * cfg_f[F_SCALE]
    t0 = istate[S_T]
    x0 = theta[0]
    x1 = theta[1]
    istate[S_PLAIN] = 1
    for k in range(n):
        f, g0, g1 = fg2d(scode, sp, x0, x1)
        if not _record_2d(out, k, f, g0, g1, x0, x1):
            istate[S_DEAD] = 1
            istate[S_T] = t0 + k
            theta[0] = x0
            theta[1] = x1
            return k + 1
        x0 -= lr * g0
        x1 -= lr * g1
    theta[0] = x0
    theta[1] = x1
    istate[S_T] = t0 + n
    return n


@njit(cache=True, nogil=True, error_model="numpy")
def _first_order_2d(n, cfg_i, cfg_f, sp, op, V, sv, sched_p, rng, theta, avg, istate, out):
    """Any first-order rule (SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam) on a 2-D polynomial
    surface, with any schedule, noise, clipping and averaging: θ, the rule's state and the
    averaged iterate in registers, the generic loop's arithmetic in its order (same bits).
    Writes rows 0, 1 (loss, ‖g‖), 2 (ε), 5, 6 (θ) and, when averaging, 8-10 (avg.loss, avg.x);
    fill_plain_rows derives the rest. The generic loop calls a function per stage, each taking
    arrays: 20 times slower."""
    scode = cfg_i[I_SCODE]
    ocode = cfg_i[I_OCODE]
    sched = cfg_i[I_SCHED]
    clip = cfg_i[I_CLIP]
    avg_kind = cfg_i[I_AVG]
    c = cfg_f[F_CLIP]
    decay = cfg_f[F_DECAY]
    noise = cfg_f[F_NOISE]
    scale = cfg_f[F_SCALE]
    base_lr = op[O.LR]
    alpha = op[O.ALPHA]
    rho = op[O.RHO]
    r1 = op[O.RHO1]
    r2 = op[O.RHO2]
    delta = op[O.DELTA]
    # without bias correction the running products are driven to 0, so 1/(1 − 0) = 1 exactly:
    # no flag in the loop (a runtime flag there cost Adam a fifth of its speed, measured)
    rq1 = r1 if op[O.BIAS] > 0.0 else 0.0
    rq2 = r2 if op[O.BIAS] > 0.0 else 0.0
    fixed = sched == CONSTANT and sched_p[0] <= 0.0   # no schedule: lr_at would give base_lr
    fixed_lr = base_lr * scale
    x0 = theta[0]
    x1 = theta[1]
    m0 = V[0, 0]
    m1 = V[0, 1]
    v0 = V[1, 0]
    v1 = V[1, 1]
    q1 = sv[0]
    q2 = sv[1]
    c1 = c2 = 1.0                           # Adam's bias corrections, set each step
    a0 = avg[0]
    a1 = avg[1]
    t0 = istate[S_T]
    istate[S_PLAIN] = 1
    done = n
    for k in range(n):
        t = t0 + k
        f, g0, g1 = fg2d(scode, sp, x0, x1)
        lr = fixed_lr if fixed else lr_at(sched, sched_p, base_lr, t) * scale
        out[ROW_LOSS, k] = f
        out[ROW_GRAD_NORM, k] = np.sqrt(g0 * g0 + g1 * g1)
        out[ROW_LR, k] = lr
        out[5, k] = x0
        out[6, k] = x1
        if avg_kind != AVG_NONE:
            if t == 0:
                a0 = x0
                a1 = x1
            elif avg_kind == AVG_POLYAK:
                w = 1.0 / (t + 1.0)
                a0 += (x0 - a0) * w
                a1 += (x1 - a1) * w
            else:
                a0 = decay * a0 + (1.0 - decay) * x0
                a1 = decay * a1 + (1.0 - decay) * x1
            out[8, k] = fg2d(scode, sp, a0, a1)[0]
            out[9, k] = a0
            out[10, k] = a1
        if not (np.isfinite(f) and np.isfinite(x0) and np.isfinite(x1)):
            istate[S_DEAD] = 1
            done = k + 1
            break
        if ocode == O.NESTEROV:                    # the gradient at θ + αv
            _, g0, g1 = fg2d(scode, sp, x0 + alpha * m0, x1 + alpha * m1)
        if noise > 0.0:
            g0 += noise * normal(rng)
            g1 += noise * normal(rng)
        if clip == CLIP_NORM:
            gn = np.sqrt(g0 * g0 + g1 * g1)
            if gn > c:
                fc = c / gn
                g0 *= fc
                g1 *= fc
        elif clip == CLIP_VALUE:
            g0 = c if g0 > c else (-c if g0 < -c else g0)
            g1 = c if g1 > c else (-c if g1 < -c else g1)
        if ocode == O.ADAM:
            q1 *= rq1
            q2 *= rq2
            c1 = 1.0 / (1.0 - q1)
            c2 = 1.0 / (1.0 - q2)
        x0, m0, v0 = O.coord_step(ocode, x0, m0, v0, g0, lr, alpha, rho, r1, r2, c1, c2, delta)
        x1, m1, v1 = O.coord_step(ocode, x1, m1, v1, g1, lr, alpha, rho, r1, r2, c1, c2, delta)
    theta[0] = x0
    theta[1] = x1
    V[0, 0] = m0
    V[0, 1] = m1
    V[1, 0] = v0
    V[1, 1] = v1
    sv[0] = q1
    sv[1] = q2
    avg[0] = a0
    avg[1] = a1
    istate[S_T] = t0 + (done - 1 if istate[S_DEAD] != 0 else n)
    return done


@njit(cache=True, nogil=True, error_model="numpy")
def fill_plain_rows(out, m, lr, has_prev, prev_x, theta_star):
    """Rows the 2-D fast paths leave out, from θ (rows 5, 6), with the generic loop's formulas
    and operation order (so the numbers are the same bits): lr, ‖θ‖, step size (from prev_x,
    the θ of the record before this chunk, unless has_prev is false: record 0) and distance to
    θ* (row 7: scratch when θ* is unknown). lr < 0: the kernel recorded ε itself (a schedule).
    No loop-carried dependency: this vectorizes."""
    s0 = theta_star[0]
    s1 = theta_star[1]
    if lr >= 0.0:
        for k in range(m):
            out[ROW_LR, k] = lr
    for k in range(m):
        x0 = out[5, k]
        x1 = out[6, k]
        out[ROW_PARAM_NORM, k] = np.sqrt(x0 * x0 + x1 * x1)
        a = x0 - s0
        b = x1 - s1
        out[7, k] = np.sqrt(a * a + b * b)
    for k in range(1, m):
        a = out[5, k] - out[5, k - 1]
        b = out[6, k] - out[6, k - 1]
        out[ROW_STEP_SIZE, k] = np.sqrt(a * a + b * b)
    if m > 0:
        if has_prev:
            a = out[5, 0] - prev_x[0]
            b = out[6, 0] - prev_x[1]
            out[ROW_STEP_SIZE, 0] = np.sqrt(a * a + b * b)
        else:
            out[ROW_STEP_SIZE, 0] = 0.0


def _guard_cache() -> None:
    import sys

    from . import (data_surfaces, lbfgs, linalg, optimizers, rng, schedules, sparse_coding,
                   surfaces)
    from .cache_guard import flush_stale

    flush_stale([rng, surfaces, data_surfaces, sparse_coding, schedules, optimizers, lbfgs, linalg,
                 sys.modules[__name__]])


_guard_cache()
