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
