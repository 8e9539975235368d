"""From a scenario's `[problem]` table to the arrays the kernels need, plus what the map marks.

Python-side, once per run: builds the surface parameters (`sp`), the data (X, Y), the start,
θ* and f* where they are known, the minima and saddles to mark, the window and the plane the
map shows (the coordinate plane for d = 2; for d > 2 the plane through θ* spanned by the top two
Hessian eigenvectors there).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import catalog, ordered
from . import surfaces as S
from .data_surfaces import make_data
from . import sparse_coding as SC
from .sparse_coding import make_sparse_data

_HIMMELBLAU_MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                      (3.584428, -1.848126)]
_HIMMELBLAU_SADDLES = [(-0.127961, -1.953715), (-3.073025, -0.081353), (3.385154, 0.073852),
                       (0.086677, 2.884255)]

# surfaces whose parameters are their float keys alone (no data, no matrix)
_ANALYTIC = tuple(e.code for e in catalog.SURFACES
                  if e.name not in ("quadratic", "least_squares", "logistic", "sparse_coding"))
# the map's default window per surface code (the catalog's; fitted where it has none)
_DEFAULT_WINDOW = {e.code: e.window for e in catalog.SURFACES if e.window is not None}
@dataclass
class SurfaceSpec:
    name: str
    code: int
    sp: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    start: np.ndarray
    theta_star: np.ndarray | None
    f_star: float | None
    minima: np.ndarray      # (k, 2) in map coordinates; 1-D: (x, f(x))
    saddles: np.ndarray     # (k, 2)
    window: np.ndarray      # x0, x1, y0, y1 (map coordinates)
    one_d: bool
    origin: np.ndarray      # plane of the map: origin + u e0 + v e1
    e0: np.ndarray
    e1: np.ndarray
    # f on the map's grid, computed on first use (surface_stepper._grid), once per surface
    grid: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def dim(self) -> int:
        return int(self.start.shape[0])

    def value(self, x) -> float:
        x = np.ascontiguousarray(x, np.float64)
        if self.code == S.SPARSE_CODING:
            return float(SC.sc_f_grad(self.sp, self.X, x, np.empty(x.shape[0]), 1.0))
        return float(S.f_grad(self.code, self.sp, self.X, self.Y, x, np.empty(x.shape[0])))

    def grad(self, x) -> np.ndarray:
        """∇f(x) (sparse coding: the minimum-norm subgradient of J)."""
        g = np.empty(self.dim)
        x = np.ascontiguousarray(x, np.float64)
        if self.code == S.SPARSE_CODING:
            SC.sc_f_grad(self.sp, self.X, x, g, 1.0)
        else:
            S.f_grad(self.code, self.sp, self.X, self.Y, x, g)
        return g

    def hessian(self, x) -> np.ndarray:
        """∇²f(x) (sparse coding: of the smooth part)."""
        H = np.empty((self.dim, self.dim))
        x = np.ascontiguousarray(x, np.float64)
        if self.code == S.SPARSE_CODING:
            SC.sc_hessian(self.sp, self.X, x, H)
        else:
            S.hessian(self.code, self.sp, self.X, self.Y, x, H)
        return H

    def to_map(self, x) -> np.ndarray:
        """Map coordinates (u, v) of a point (d = 2: the point itself)."""
        r = np.asarray(x, np.float64) - self.origin
        return np.array([ordered.dot(r, self.e0), ordered.dot(r, self.e1)])


def shared_surface(problem: Mapping, start=None, standardize: bool = False) -> SurfaceSpec:
    """build_surface, once for every run of a scenario that shares the problem and start.

    A sweep of 10,000 runs would otherwise rebuild the same map (and data) 10,000 times; a
    SurfaceSpec is never changed after it is built. Unhashable tables are built afresh.
    """
    key = (problem, None if start is None else tuple(np.asarray(start, np.float64).ravel()),
           bool(standardize))
    try:
        hash(key)
    except TypeError:
        return build_surface(problem, start, standardize)
    return _cached_surface(key)


@functools.lru_cache(maxsize=8)
def _cached_surface(key) -> SurfaceSpec:
    problem, start, standardize = key
    return build_surface(problem, start, standardize)


def build_surface(problem: Mapping, start=None, standardize: bool = False) -> SurfaceSpec:
    """A SurfaceSpec from the `[problem]` table and a run's `start` (its length fixes d).

    `standardize` (data surfaces, a run key): features scaled to zero mean, unit variance.
    """
    name = problem.get("surface")
    if name not in S.BY_NAME:
        raise ValueError(f"unknown surface {name!r}")
    entry = S.BY_NAME[name]
    code = entry.code
    problem = catalog.complete(entry, problem)      # every key of this surface, defaults filled
    start = None if start is None else np.asarray(start, dtype=np.float64).ravel()
    X = np.zeros((0, 0))
    Y = np.zeros(0)
    theta_star = None
    default_start = None
    minima: list = []
    saddles: list = []

    if code == S.QUADRATIC:
        A = _quadratic_matrix(problem)
        d = A.shape[0]
        b = _vec(problem["b"], d)
        c = float(problem["c"])
        sp = np.concatenate([[d, c], A.ravel(), b])
        ev = ordered.eigh(A)[0]
        if np.all(np.abs(ev) > 0):
            stat = ordered.solve(A, -b)
            if np.all(ev > 0):
                theta_star = stat
            elif d >= 2:
                saddles.append(stat)
        default_start = (theta_star if theta_star is not None else np.zeros(d)) + np.resize(
            [-4.0, 3.0] if d > 1 else [2.0], d)
    elif code in _ANALYTIC:
        # sp: the surface's float keys in catalog order (rosenbrock: a, b; cliff: height,
        # sharpness, position; …); the known stationary points where there are some
        sp = np.array([float(problem[p.name]) for p in entry.params if p.type == "float"])
        if code == S.ROSENBROCK:
            theta_star = np.array([sp[0], sp[0] * sp[0]])
        elif code == S.BEALE:
            theta_star = np.array([3.0, 0.5])
        elif code == S.HIMMELBLAU:
            minima = [np.array(p) for p in _HIMMELBLAU_MINIMA]
            saddles = [np.array(p) for p in _HIMMELBLAU_SADDLES]
        elif code == S.RASTRIGIN:
            d = len(start) if start is not None else int(problem["dim"])
            theta_star = np.zeros(d)
            default_start = np.resize([3.2, -2.7], d)
        elif code in (S.SADDLE, S.MONKEY_SADDLE):
            saddles = [np.zeros(2)]
        elif code == S.WIGGLY:
            theta_star = np.zeros(1)
    elif code == S.SPARSE_CODING:
        sp, X, default_start = make_sparse_data(
            int(problem["n_samples"]), int(problem["n_atoms"]), int(problem["n_features"]),
            float(problem["noise"]), int(problem["data_seed"]), float(problem["l1"]),
            float(problem["w_decay"]))
    else:  # data surfaces (separable and margin are logistic's own keys)
        logistic = code == S.LOGISTIC
        separable = logistic and bool(problem["separable"])
        X, Y, _ = make_data(name, int(problem["n_samples"]), int(problem["n_features"]),
                            problem["scales"], float(problem["noise"]),
                            int(problem["data_seed"]), separable,
                            float(problem["margin"]) if logistic else 0.0)
        if standardize:
            sd = X.std(axis=0)
            X = np.ascontiguousarray((X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0))
        sp = np.zeros(0)
        d = X.shape[1]
        if code == S.LEAST_SQUARES:
            theta_star = ordered.lstsq(X, Y)
        elif not separable:
            theta_star = None  # found by Newton below
        default_start = np.zeros(d)

    sp = np.ascontiguousarray(sp, dtype=np.float64)
    if start is None:
        start = np.asarray(default_start if default_start is not None else entry.start, np.float64)
    d = start.shape[0]
    spec = SurfaceSpec(name, code, sp, X, Y, start, None, None, np.zeros((0, 2)),
                       np.zeros((0, 2)), np.zeros(4), d == 1, np.zeros(d), np.zeros(d),
                       np.zeros(d))

    # numerically located stationary points (refined so markers and θ* are exact to 1e-12)
    if code == S.CLIFF:
        theta_star = _newton_refine(spec, np.zeros(2))
    elif code == S.LOGISTIC and not problem["separable"]:
        theta_star = _newton_refine(spec, np.zeros(d), iters=100)
    elif code == S.HIMMELBLAU:
        minima = [_newton_refine(spec, p) for p in minima]
        saddles = [_newton_refine(spec, p) for p in saddles]
    if code in (S.CLIFF, S.LOGISTIC) and theta_star is not None:
        if not (np.all(np.isfinite(theta_star)) and ordered.norm(spec.grad(theta_star)) < 1e-9):
            theta_star = None  # (nearly) separable by chance: no minimum to mark
    spec.theta_star = theta_star
    spec.f_star = None if theta_star is None else spec.value(theta_star)
    if theta_star is not None and not minima:
        minima = [theta_star]

    if spec.one_d:
        _finish_1d(spec, problem, code)
    else:
        _finish_map(spec, problem, code, minima, saddles)
    return spec


def _finish_1d(spec: SurfaceSpec, problem: Mapping, code: int) -> None:
    w = problem.get("window")
    if w is not None:
        window = np.zeros(4)
        given = np.asarray(w, np.float64).ravel()[:4]
        window[: given.shape[0]] = given  # [x0, x1] alone: the f range is fitted below
        if given.shape[0] < 4:
            w = None if given.shape[0] < 2 else w
            window[2] = window[3] = 0.0
    else:
        if code in _DEFAULT_WINDOW:
            x0, x1 = _DEFAULT_WINDOW[code][:2]
        else:
            c = spec.theta_star[0] if spec.theta_star is not None else 0.0
            r = 1.25 * max(abs(spec.start[0] - c), 1.0)
            x0, x1 = c - r, c + r
        lo, hi = min(x0, spec.start[0]), max(x1, spec.start[0])
        pad = 0.05 * (hi - lo) if (lo, hi) != (x0, x1) else 0.0
        window = np.array([lo - pad, hi + pad, 0.0, 0.0])
    xs = np.linspace(window[0], window[1], 2001)
    fs = np.array([spec.value([x]) for x in xs])
    if w is None or window[2] == window[3]:
        span = fs.max() - fs.min() or 1.0
        window[2], window[3] = fs.min() - 0.05 * span, fs.max() + 0.05 * span
    spec.window = window
    # local minima on the window: sign changes of f' from − to +, refined by Newton
    gs = np.array([spec.grad([x])[0] for x in xs])
    mins = []
    for i in np.nonzero((gs[:-1] < 0) & (gs[1:] >= 0))[0]:
        x = _newton_refine(spec, np.array([0.5 * (xs[i] + xs[i + 1])]))
        if np.isfinite(x[0]) and window[0] <= x[0] <= window[1]:
            mins.append(x[0])
    if spec.theta_star is None and mins:
        best = min(mins, key=lambda x: spec.value([x]))
        spec.theta_star = np.array([best])
        spec.f_star = spec.value([best])
    pts = problem.get("minima")
    xs_min = [float(p[0]) for p in pts] if pts is not None else mins
    spec.minima = np.array([[x, spec.value([x])] for x in xs_min]).reshape(-1, 2)
    pts = problem.get("saddles")
    spec.saddles = (np.array([[float(p[0]), spec.value([float(p[0])])] for p in pts]).reshape(-1, 2)
                    if pts is not None else np.zeros((0, 2)))
    spec.origin = np.zeros(1)
    spec.e0 = np.ones(1)
    spec.e1 = np.zeros(1)


def _finish_map(spec: SurfaceSpec, problem: Mapping, code: int, minima, saddles) -> None:
    d = spec.dim
    if d == 2:
        spec.origin = np.zeros(2)
        spec.e0 = np.array([1.0, 0.0])
        spec.e1 = np.array([0.0, 1.0])
    elif code == S.SPARSE_CODING:
        # no meaningful 2-D map (d is large): a slice through the start along W[0, 0] and H[0, 0]
        k, p = int(spec.sp[0]), int(spec.sp[1])
        spec.origin = spec.start.copy()
        spec.e0 = np.zeros(d)
        spec.e0[0] = 1.0
        spec.e1 = np.zeros(d)
        spec.e1[k * p] = 1.0
    else:
        ref = spec.theta_star if spec.theta_star is not None else np.zeros(d)
        ev, vecs = ordered.eigh(spec.hessian(ref))
        order = np.argsort(ev)[::-1]
        spec.origin = ref.copy()
        spec.e0 = np.ascontiguousarray(vecs[:, order[0]])
        spec.e1 = np.ascontiguousarray(vecs[:, order[1]])
    pts = problem.get("minima")
    mins = [np.asarray(p, np.float64) for p in pts] if pts is not None else minima
    pts = problem.get("saddles")
    sads = [np.asarray(p, np.float64) for p in pts] if pts is not None else saddles
    spec.minima = _map_points(spec, mins, given=problem.get("minima") is not None)
    spec.saddles = _map_points(spec, sads, given=problem.get("saddles") is not None)
    w = problem.get("window")
    if w is not None:
        spec.window = np.asarray(w, np.float64)
        return
    s = spec.to_map(spec.start)
    if code in _DEFAULT_WINDOW and d == 2:
        x0, x1, y0, y1 = _DEFAULT_WINDOW[code]
    else:
        c = (spec.to_map(spec.theta_star) if spec.theta_star is not None
             else spec.to_map(spec.origin))
        r = 1.25 * max(np.max(np.abs(s - c)), 1.0)
        x0, x1, y0, y1 = c[0] - r, c[0] + r, c[1] - r, c[1] + r
    # the start must be on the map
    if not (x0 <= s[0] <= x1):
        x0, x1 = min(x0, s[0] - 0.1 * (x1 - x0)), max(x1, s[0] + 0.1 * (x1 - x0))
    if not (y0 <= s[1] <= y1):
        y0, y1 = min(y0, s[1] - 0.1 * (y1 - y0)), max(y1, s[1] + 0.1 * (y1 - y0))
    spec.window = np.array([x0, x1, y0, y1], dtype=np.float64)


def _map_points(spec: SurfaceSpec, pts, given: bool) -> np.ndarray:
    if not pts:
        return np.zeros((0, 2))
    if given and spec.dim == 2:
        return np.array([np.asarray(p, np.float64)[:2] for p in pts]).reshape(-1, 2)
    out = []
    for p in pts:
        p = np.asarray(p, np.float64)
        out.append(spec.to_map(p) if p.shape[0] == spec.dim else p[:2])
    return np.array(out).reshape(-1, 2)


def _quadratic_matrix(problem: Mapping) -> np.ndarray:
    """A from a completed quadratic table: the symmetric part of `matrix`, or Q diag(λ) Qᵀ."""
    m = problem["matrix"]
    if m is not None:
        A = np.asarray(m, dtype=np.float64)
        return np.ascontiguousarray(0.5 * (A + A.T))
    if problem["eigenvalues"] is None:
        raise ValueError("a quadratic needs 'eigenvalues' (or a full 'matrix')")
    ev = np.asarray(problem["eigenvalues"], dtype=np.float64).ravel()
    d = ev.shape[0]
    if d == 2:
        a = np.deg2rad(float(problem["angle"]))
        Q = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    elif d > 2 and problem["rotation_seed"] is not None:
        rng = np.random.default_rng(int(problem["rotation_seed"]))
        Q = ordered.orthonormal(rng.standard_normal((d, d)))
    else:
        Q = np.eye(d)
    A = ordered.symmetric(Q, ev)
    return np.ascontiguousarray(0.5 * (A + A.T))


def _vec(v, d: int) -> np.ndarray:
    if v is None:
        return np.zeros(d)
    a = np.asarray(v, dtype=np.float64).ravel()
    return np.resize(a, d) if a.shape[0] != d else a


def _newton_refine(spec: SurfaceSpec, x0, iters: int = 50) -> np.ndarray:
    """A stationary point near x0 by Newton on ∇f = 0 (nan if it fails)."""
    x = np.array(x0, dtype=np.float64)
    for _ in range(iters):
        g = spec.grad(x)
        if ordered.norm(g) < 1e-14:
            break
        try:
            step = ordered.solve(spec.hessian(x), g)
        except np.linalg.LinAlgError:
            return np.full_like(x, np.nan)
        x = x - step
        if not np.all(np.isfinite(x)):
            break
        if ordered.norm(step) < 1e-15 * (1.0 + ordered.norm(x)):
            break
    return x
