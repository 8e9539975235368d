"""Tiny dense solves inside njit (d is small), so Newton steps need no LAPACK call per step.

A singular or indefinite matrix is not an error here: a zero pivot yields inf/nan in the
solution, which the kernel then reports as a divergence.
"""

from __future__ import annotations

from numba import njit

from .jit_options import PER_STEP


@njit(**PER_STEP)
def solve_inplace(A, b, n):
    """Solve A[:n, :n] x = b[:n] by Gaussian elimination with partial pivoting.

    Overwrites A's leading block and b (x ends in b[:n]).
    """
    for k in range(n):
        p = k
        best = abs(A[k, k])
        for i in range(k + 1, n):
            v = abs(A[i, k])
            if v > best:
                best = v
                p = i
        if p != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
        piv = A[k, k]
        for i in range(k + 1, n):
            m = A[i, k] / piv
            if m != 0.0:
                for j in range(k, n):
                    A[i, j] -= m * A[k, j]
                b[i] -= m * b[k]
    for k in range(n - 1, -1, -1):
        acc = b[k]
        for j in range(k + 1, n):
            acc -= A[k, j] * b[j]
        b[k] = acc / A[k, k]
