"""Scalar functions every kernel shares, written once: numerically stable for any |z|."""

import numpy as np
from numba import njit


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def sigmoid(z):
    """1 / (1 + e^−z) without overflow for large |z|."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def softplus(z):
    """log(1 + e^z) without overflow."""
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def ipow(a, n):
    """a ** n for an integer n, by squaring, exactly as numba compiles `float ** int` (Python's
    `**` calls libm's pow, whose last bit can differ): the interpreted tier must give the same."""
    r = 1.0
    e = -n if n < 0 else n
    if e > 0x10000:
        return np.power(a, float(n))
    while e != 0:
        if e & 1:
            r *= a
        e >>= 1
        a *= a
    return 1.0 / r if n < 0 else r
