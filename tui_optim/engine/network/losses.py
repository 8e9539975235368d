"""Losses on the output layer's z (rows = examples), each returning the mean loss and dz.

Targets are a float64 (m, t) array: class problems keep the class index in column 0
(n_classes > 0); regression keeps the target vector (n_classes = 0).
"""

import numpy as np
from numba import njit

from .codes import BCE, CROSS_ENTROPY

_NB = dict(cache=True, nogil=True, error_model="numpy")


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def _target(y, i, j, n_classes):
    """Target of output j for row i: one-hot for class data, the value for regression."""
    if n_classes > 0:
        return 1.0 if int(y[i, 0]) == j else 0.0
    return y[i, j]


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_cross_entropy(z, y, dz, want_grad):
    """Mean −log softmax(z)_y; dz = (softmax(z) − onehot)/m."""
    m, c = z.shape
    total = 0.0
    for i in range(m):
        mx = z[i, 0]
        for j in range(1, c):
            if z[i, j] > mx:
                mx = z[i, j]
        s = 0.0
        for j in range(c):
            s += np.exp(z[i, j] - mx)
        lse = mx + np.log(s)
        t = int(y[i, 0])
        total += lse - z[i, t]
        if want_grad:
            for j in range(c):
                p = np.exp(z[i, j] - lse)
                dz[i, j] = (p - (1.0 if j == t else 0.0)) / m
    return total / m


@njit(cache=True, nogil=True, error_model="numpy")
def binary_cross_entropy(z, y, dz, n_classes, want_grad):
    """Mean over rows of Σ_j softplus(z) − t z (sigmoid outputs); dz = (σ(z) − t)/m.
    With 2 classes and one output, t is the class index; with more, one-vs-rest."""
    m, c = z.shape
    total = 0.0
    for i in range(m):
        for j in range(c):
            x = z[i, j]
            if c == 1 and n_classes == 2:
                t = y[i, 0]
            else:
                t = _target(y, i, j, n_classes)
            total += max(x, 0.0) - x * t + np.log1p(np.exp(-abs(x)))
            if want_grad:
                if x >= 0.0:
                    p = 1.0 / (1.0 + np.exp(-x))
                else:
                    e = np.exp(x)
                    p = e / (1.0 + e)
                dz[i, j] = (p - t) / m
    return total / m


@njit(cache=True, nogil=True, error_model="numpy")
def mean_squared_error(z, y, dz, n_classes, want_grad):
    """(1/2m) Σ ‖z − t‖² (one-hot t for class data); dz = (z − t)/m."""
    m, c = z.shape
    total = 0.0
    for i in range(m):
        for j in range(c):
            d = z[i, j] - _target(y, i, j, n_classes)
            total += 0.5 * d * d
            if want_grad:
                dz[i, j] = d / m
    return total / m


# as train_steps passes it: as a pointer (model.FORWARD says why)
LOSS_AND_GRAD = ("float64(int64, float64[:, ::1], float64[:, ::1], float64[:, ::1], int64, "
                 "int64)")


@njit(**_NB)
def loss_and_grad(code, z, y, dz, n_classes, want_grad):
    if code == CROSS_ENTROPY:
        return softmax_cross_entropy(z, y, dz, want_grad)
    if code == BCE:
        return binary_cross_entropy(z, y, dz, n_classes, want_grad)
    return mean_squared_error(z, y, dz, n_classes, want_grad)


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def predicted_class(z, i):
    """The class row i of the outputs predicts: argmax, or z > 0 for one sigmoid output."""
    c = z.shape[1]
    if c == 1:
        return 1 if z[i, 0] > 0.0 else 0
    pred = 0
    for j in range(1, c):
        if z[i, j] > z[i, pred]:
            pred = j
    return pred


@njit(cache=True, nogil=True, error_model="numpy")
def count_correct(code, z, y, n_classes):
    """Correctly classified rows. 0 for regression."""
    if n_classes == 0:
        return 0
    hits = 0
    for i in range(z.shape[0]):
        if predicted_class(z, i) == int(y[i, 0]):
            hits += 1
    return hits
