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


def eigh(A: np.ndarray, sweeps: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric A by
    cyclic Jacobi rotations, pairs (p, q) in a fixed order: LAPACK's eigh calls BLAS, whose
    kernels (and so the last bits, and even an eigenvector's sign) depend on the CPU. Each
    vector's largest component (the first, on a tie) is made positive, so a map's axes
    point the same way on every machine."""
    with np.errstate(over="ignore", invalid="ignore"):     # a hostile matrix: inf/nan out
        return _jacobi(np.array(A, dtype=np.float64), sweeps)


def _jacobi(A: np.ndarray, sweeps: int) -> tuple[np.ndarray, np.ndarray]:
    d = A.shape[0]
    V = np.eye(d)
    for _ in range(sweeps):
        off = sum(A[p, q] * A[p, q] for p in range(d) for q in range(p + 1, d))
        if off <= 1e-30 * max(1.0, sum(A[k, k] * A[k, k] for k in range(d))):
            break
        for p in range(d - 1):
            for q in range(p + 1, d):
                if A[p, q] == 0.0:
                    continue
                # the rotation that zeroes A[p, q] (Golub & Van Loan, Algorithm 8.4.1)
                theta = (A[q, q] - A[p, p]) / (2.0 * A[p, q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + np.sqrt(theta * theta + 1.0))
                c = 1.0 / np.sqrt(t * t + 1.0)
                s = t * c
                ap, aq = A[:, p].copy(), A[:, q].copy()
                A[:, p], A[:, q] = c * ap - s * aq, s * ap + c * aq
                ap, aq = A[p, :].copy(), A[q, :].copy()
                A[p, :], A[q, :] = c * ap - s * aq, s * ap + c * aq
                vp, vq = V[:, p].copy(), V[:, q].copy()
                V[:, p], V[:, q] = c * vp - s * vq, s * vp + c * vq
    ev = np.diag(A).copy()
    order = np.argsort(ev, kind="stable")
    ev, V = ev[order], V[:, order]
    for k in range(d):
        if V[int(np.argmax(np.abs(V[:, k]))), k] < 0:
            V[:, k] = -V[:, k]
    return ev, V


def orthonormal(M: np.ndarray) -> np.ndarray:
    """Q of M = QR with R's diagonal positive (LAPACK's qr, sign-fixed, gives the same Q in
    exact arithmetic), by modified Gram-Schmidt applied twice, every sum in index order."""
    Q = np.array(M, dtype=np.float64)
    for k in range(Q.shape[1]):
        for _ in range(2):                      # twice: orthogonal to machine precision
            for j in range(k):
                Q[:, k] -= dot(Q[:, j], Q[:, k]) * Q[:, j]
        Q[:, k] /= np.sqrt(dot(Q[:, k], Q[:, k]))
    return Q


def in_order(terms, lanes: int = 1):
    """Σ terms as the kernels add them: `lanes` running sums from 0.0 (term i into lane i mod
    lanes, in index order; the tail after the last whole group into lane 0), combined as
    ((l0 + l1) + (l2 + l3)) for four lanes. np.add.accumulate adds in order; np.sum does not
    (pairwise)."""
    terms = np.asarray(terms, dtype=np.float64)
    whole = terms.shape[0] // lanes * lanes
    body = np.vstack((np.zeros((1, lanes)), terms[:whole].reshape(-1, lanes)))
    acc = np.add.accumulate(body, axis=0)[-1]
    acc[0] = np.add.accumulate(np.concatenate((acc[:1], terms[whole:])))[-1]
    if lanes == 1:
        return acc[0]
    return (acc[0] + acc[1]) + (acc[2] + acc[3])


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a_k b_k, k = 0, 1, ... in order (BLAS ddot adds in a CPU-chosen order)."""
    return float(in_order(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)))
