"""L-BFGS: the two-loop recursion over the last m (s, y) pairs, and an Armijo line search.

State lives in the optimizer's arrays (see optimizers.state_shape): rows 0..m−1 of V hold s,
rows m..2m−1 hold y, then the previous θ, the previous g and three work rows; sv holds
[count, head, have_prev, unused, ρ_0..ρ_{m−1}, α_0..α_{m−1}]. Pairs failing the curvature
condition sᵀy > 1e-12‖s‖‖y‖ are skipped, so the implied inverse Hessian stays positive
definite; a skipped pair (negative curvature along the step: Armijo alone does not enforce
sᵀy > 0) also clears the memory, since without it the stale model stalls, e.g. on Rosenbrock
from (−1.2, 1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit_options import PER_STEP

from .surfaces import f_grad

ARMIJO_C1 = 1e-4
BACKTRACK = 0.5
MAX_BACKTRACKS = 50


@njit(**PER_STEP)
def lbfgs_update(m, line_search, code, sp, X, Y, V, sv, theta, g, lr):
    d = theta.shape[0]
    prev_x = V[2 * m]
    prev_g = V[2 * m + 1]
    p = V[2 * m + 2]
    trial = V[2 * m + 3]
    gtmp = V[2 * m + 4]
    count = int(sv[0])
    head = int(sv[1])  # slot of the next pair to write
    # 1. store the pair from the previous update
    if sv[2] > 0.0:
        sy = 0.0
        ss = 0.0
        yy = 0.0
        for i in range(d):
            s = theta[i] - prev_x[i]
            y = g[i] - prev_g[i]
            sy += s * y
            ss += s * s
            yy += y * y
        if sy > 1e-12 * np.sqrt(ss * yy) and sy > 0.0:
            for i in range(d):
                V[head, i] = theta[i] - prev_x[i]
                V[m + head, i] = g[i] - prev_g[i]
            sv[4 + head] = 1.0 / sy
            head = (head + 1) % m
            if count < m:
                count += 1
        elif ss > 0.0:
            # negative curvature along the last step: the stored model is stale there, so
            # start the memory afresh rather than keep stepping along it
            count = 0
            head = 0
    # 2. two-loop recursion: p = −H_k g
    for i in range(d):
        p[i] = g[i]
    for k in range(count):
        j = (head - 1 - k + m) % m
        a = 0.0
        for i in range(d):
            a += V[j, i] * p[i]
        a *= sv[4 + j]
        sv[4 + m + j] = a
        for i in range(d):
            p[i] -= a * V[m + j, i]
    if count > 0:
        j = (head - 1 + m) % m
        sy = 0.0
        yy = 0.0
        for i in range(d):
            sy += V[j, i] * V[m + j, i]
            yy += V[m + j, i] * V[m + j, i]
        gamma = sy / yy
        for i in range(d):
            p[i] *= gamma
    for k in range(count - 1, -1, -1):
        j = (head - 1 - k + m) % m
        b = 0.0
        for i in range(d):
            b += V[m + j, i] * p[i]
        b *= sv[4 + j]
        a = sv[4 + m + j]
        for i in range(d):
            p[i] += V[j, i] * (a - b)
    gp = 0.0
    for i in range(d):
        p[i] = -p[i]
        gp += g[i] * p[i]
    if not gp < 0.0:  # not a descent direction (or nan): restart from steepest descent
        count = 0
        head = 0
        gp = 0.0
        for i in range(d):
            p[i] = -g[i]
            gp -= g[i] * g[i]
    sv[0] = count
    sv[1] = head
    sv[2] = 1.0
    for i in range(d):
        prev_x[i] = theta[i]
        prev_g[i] = g[i]
    # 3. step along p
    step = lr
    if line_search == 1 and gp < 0.0:
        f0 = f_grad(code, sp, X, Y, theta, gtmp)
        if np.isfinite(f0):
            for _ in range(MAX_BACKTRACKS):
                for i in range(d):
                    trial[i] = theta[i] + step * p[i]
                ft = f_grad(code, sp, X, Y, trial, gtmp)
                if ft <= f0 + ARMIJO_C1 * step * gp:
                    break
                step *= BACKTRACK
    for i in range(d):
        theta[i] += step * p[i]
