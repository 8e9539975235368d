"""Setting up a problem with sums in a fixed order: element-wise products and adds only, so
the data and matrices a run starts from are the same on any CPU (`@`, `np.dot` and
`np.linalg.norm` go to BLAS, which picks its kernels, and so its summation order, per CPU)."""

from __future__ import annotations

import numpy as np


def matmul(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """X @ w for X (n, d) and w (d,) or (d, m), each sum taken over k = 0, 1, ... in order."""
    out = np.zeros((X.shape[0],) + w.shape[1:])
    for k in range(X.shape[1]):
        out += X[:, k].reshape((-1,) + (1,) * (w.ndim - 1)) * w[k]
    return out


def norm(x: np.ndarray, axis: int | None = None, keepdims: bool = False) -> np.ndarray | float:
    """The Euclidean norm by NumPy's own (fixed-order, pairwise) sum, not BLAS's."""
    s = np.sqrt(np.sum(np.asarray(x, dtype=np.float64) ** 2, axis=axis, keepdims=keepdims))
    return float(s) if axis is None else s


def symmetric(Q: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """Q diag(ev) Qᵀ as a sum of outer products, k = 0, 1, ... in order."""
    A = np.zeros((Q.shape[0], Q.shape[0]))
    for k in range(Q.shape[1]):
        A += ev[k] * np.outer(Q[:, k], Q[:, k])
    return A
