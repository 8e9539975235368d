"""Setting up a problem with sums in a fixed order: element-wise products and adds only, so
the data and matrices a run starts from are the same on any CPU (`@`, `np.dot` and
`np.linalg.norm` go to BLAS, which picks its kernels, and so its summation order, per CPU)."""

from __future__ import annotations

import numpy as np

from .linalg import solve_inplace


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


def solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b by the engine's own elimination with partial pivoting (linalg.py, the
    one the Newton steps use): the same bits on any CPU; LinAlgError when A is singular."""
    M = np.array(A, dtype=np.float64)
    x = np.array(b, dtype=np.float64)
    solve_inplace(M, x, M.shape[0])
    if not np.all(np.isfinite(x)):
        raise np.linalg.LinAlgError("singular matrix")
    return x


def lstsq(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The least-squares θ of X θ ≈ Y by the normal equations, refined once on the residual
    (which recovers the digits the normal equations lose on a badly scaled X)."""
    Xt = np.ascontiguousarray(X.T)
    G = matmul(Xt, X)
    theta = solve(G, matmul(Xt, Y))
    return theta + solve(G, matmul(Xt, Y - matmul(X, theta)))
