"""Data sets for the network problems: seeded generators, a CSV reader, the train/validation
split and optional standardization.

Everything is drawn from numpy's Generator seeded by `data_seed`, so a data set is a function of
its keys (independent of the run seed: runs of one scenario share their data).
Targets are float64 (n, t): the class index in column 0 for classification (n_classes > 0),
the target vector for regression (n_classes = 0).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from collections.abc import Mapping

import numpy as np

from .. import ordered
from ..csv_data import DataError, read_csv

CLASSIFICATION = ("spiral", "circles", "xor", "moons", "blobs", "gaussian")
REGRESSION = ("linear", "polynomial")
NAMES = CLASSIFICATION + REGRESSION + ("csv",)

_NOISE = {"spiral": 0.2, "circles": 0.08, "xor": 0.05, "moons": 0.1, "blobs": 1.0,
          "linear": 0.1, "polynomial": 0.1, "gaussian": 0.0}




@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    n_classes: int          # 0 for regression

    @property
    def dim(self) -> int:
        return self.X_train.shape[1]

    @property
    def target_dim(self) -> int:
        return self.Y_train.shape[1]


def generate(name: str, n: int, classes: int, noise: float, dim: int, degree: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, Y, n_classes) of a synthetic data set."""
    if name == "spiral":  # CS231n: `classes` interleaved arms
        per = max(1, n // classes)
        X = np.zeros((per * classes, 2))
        y = np.zeros(per * classes)
        for c in range(classes):
            r = np.linspace(0.0, 1.0, per)
            t = np.linspace(c * 4.0, (c + 1) * 4.0, per) + rng.standard_normal(per) * noise
            X[c * per:(c + 1) * per] = np.c_[r * np.sin(t), r * np.cos(t)]
            y[c * per:(c + 1) * per] = c
        return X, y[:, None], classes
    if name == "circles":
        y = (np.arange(n) % 2).astype(float)
        a = rng.uniform(0.0, 2 * math.pi, n)
        r = np.where(y == 0, 1.0, 0.5)
        X = np.c_[r * np.cos(a), r * np.sin(a)] + rng.standard_normal((n, 2)) * noise
        return X, y[:, None], 2
    if name == "xor":
        P = rng.uniform(-1.0, 1.0, (n, 2))
        y = ((P[:, 0] > 0) ^ (P[:, 1] > 0)).astype(float)
        return P + rng.standard_normal((n, 2)) * noise, y[:, None], 2
    if name == "moons":
        y = (np.arange(n) % 2).astype(float)
        a = rng.uniform(0.0, math.pi, n)
        X = np.where(y[:, None] == 0, np.c_[np.cos(a), np.sin(a)],
                     np.c_[1.0 - np.cos(a), 0.5 - np.sin(a)])
        return X + rng.standard_normal((n, 2)) * noise, y[:, None], 2
    if name == "blobs":
        centers = rng.standard_normal((classes, dim)) * 4.0
        y = (np.arange(n) % classes).astype(float)
        X = centers[y.astype(int)] + rng.standard_normal((n, dim)) * noise
        return X, y[:, None], classes
    if name == "gaussian":  # high-dimensional inputs, labels from a random linear teacher
        X = rng.standard_normal((n, dim))
        teacher = rng.standard_normal((dim, classes))
        logits = ordered.matmul(X, teacher) + rng.standard_normal((n, classes)) * noise
        return X, np.argmax(logits, axis=1).astype(float)[:, None], classes
    if name == "linear":
        X = rng.standard_normal((n, dim))
        w = rng.standard_normal(dim)
        return X, (ordered.matmul(X, w) + rng.standard_normal(n) * noise)[:, None], 0
    if name == "polynomial":
        X = rng.uniform(-1.0, 1.0, (n, dim))
        c = rng.standard_normal((degree, dim))
        y = sum(ordered.matmul(X ** (p + 1), c[p]) for p in range(degree))
        return X, (y + rng.standard_normal(n) * noise)[:, None], 0
    raise DataError(f"unknown dataset {name!r} (expected one of {', '.join(NAMES)})")


def load(problem: Mapping) -> Dataset:
    """The data set of a validated `[problem]` table (type = "network")."""
    name = problem.get("dataset", "spiral")
    seed = int(problem.get("data_seed", 0) or 0)
    rng = np.random.default_rng(seed)
    if name == "csv":
        path = str(problem.get("path", ""))
        base = problem.get("base_dir") or problem.get("_base_dir")
        if base and not os.path.isabs(path):
            path = os.path.join(str(base), path)
        X, Y, ncls = read_csv(path, str(problem.get("label", "label")))
    else:
        default_classes = 3 if name in ("spiral", "blobs") else 2
        classes = int(problem.get("classes", default_classes) or default_classes)
        noise = problem.get("noise")
        noise = _NOISE.get(name, 0.1) if noise is None else float(noise)
        X, Y, ncls = generate(name, int(problem.get("n_samples", 900)), classes, noise,
                              int(problem.get("dim", 2) or 2), int(problem.get("degree", 3) or 3),
                              rng)
    order = rng.permutation(X.shape[0])
    X, Y = X[order], Y[order]
    vf = float(problem.get("val_fraction", 0.2) or 0.0)
    n_val = int(round(vf * X.shape[0]))
    n_val = min(n_val, X.shape[0] - 1)
    Xtr, Ytr = X[:X.shape[0] - n_val], Y[:X.shape[0] - n_val]
    Xva, Yva = X[X.shape[0] - n_val:], Y[X.shape[0] - n_val:]
    if problem.get("standardize", False):
        mu = Xtr.mean(axis=0)
        sd = Xtr.std(axis=0)
        sd[sd == 0] = 1.0
        Xtr, Xva = (Xtr - mu) / sd, (Xva - mu) / sd
    return Dataset(name, np.ascontiguousarray(Xtr), np.ascontiguousarray(Ytr),
                   np.ascontiguousarray(Xva), np.ascontiguousarray(Yva), ncls)
