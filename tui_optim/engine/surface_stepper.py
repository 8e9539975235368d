"""SurfaceStepper: one run of an optimizer on an analytic surface, advanced in compiled chunks.

Series per record k (the state at θ_k before update k+1):
    loss, grad_norm        true full objective and gradient norm at θ_k
    lr                     ε for update k+1 (schedule × live scale)
    param_norm, step_size  ‖θ_k‖, ‖θ_k − θ_{k−1}‖ (0 at k = 0)
    x.i                    θ_k[i], when d ≤ 8
    dist                   ‖θ_k − θ*‖, when θ* is known
    avg.loss, avg.x.i      f and coordinates of the averaged iterate, when averaging is on
    proj.0, proj.1         coordinates in the map plane (top two Hessian eigenvectors through θ*),
                           when d > 2
    hess_min_eig           smallest eigenvalue of the Hessian ∇²f(θ_k), for Newton runs with
                           d ≤ 8 (exact Hessian; closed form for d ≤ 2, Jacobi rotations above)
    sparsity               sparse coding: fraction of the entries of H that are exactly 0
Snapshots (first call only): surface.grid, surface.window, surface.curve (1-D), surface.minima,
surface.saddles.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import optimizers as O
from . import series
from . import surface_kernel as K
from .jit_options import (INTERPRETED, call_through_pointers, compile_pointers,
                          compile_through_pointers)
from .rng import seed_state
from .schedules import schedule_params
from .surface_specs import SurfaceSpec, shared_surface
from .surfaces import DATA_CODES, SPARSE_CODING, grid_values

# The kernels the generic loop takes as pointers, with their signatures: the optimizers'
# update (Newton, L-BFGS and the rest: half of the generic loop's compile), compiled on its own
# (compile_parts)
GENERIC_POINTERS = ((O.update, O.UPDATE),)

GRID_ROWS = 80
GRID_COLS = 160
CURVE_POINTS = 400
MAX_X_SERIES = 8
MAX_HEIG_DIM = 8
_WARMING = False  # _warm_sparse is running (its own stepper must not call it again)


class SurfaceStepper:
    """The Stepper protocol (tui_optim.engine) for `type = "surface"` problems."""

    def __init__(self, problem: Mapping, run: Mapping, steps: int, seed: int):
        self.spec: SurfaceSpec = shared_surface(problem, run.get("start"),
                                               bool(run.get("standardize", False)))
        spec = self.spec
        d = spec.dim
        self.steps = int(steps)
        self.steps_done = 0
        self._snapshots_sent = False

        ocode, op = O.optimizer_params(run)
        if spec.code == SPARSE_CODING and (ocode == O.LBFGS or run.get("continuation")):
            raise ValueError("sparse_coding runs take neither lbfgs nor continuation")
        scode_sched, sched_p = schedule_params(run.get("schedule"), self.steps)
        clip = run.get("clip") or {}
        clip_kind, clip_c = K.CLIP_NONE, 0.0
        if clip.get("norm") is not None:
            clip_kind, clip_c = K.CLIP_NORM, float(clip["norm"])
        elif clip.get("value") is not None:
            clip_kind, clip_c = K.CLIP_VALUE, float(clip["value"])
        average = run.get("average") or {}
        avg_kind, decay = K.AVG_NONE, 0.0
        if average:
            kind = average.get("kind", "polyak")
            avg_kind = K.AVG_EMA if kind == "ema" else K.AVG_POLYAK
            decay = float(average.get("decay", 0.99))
        cont = run.get("continuation") or {}
        sigmas = np.asarray(cont.get("sigmas", []) if cont else [], dtype=np.float64).ravel()
        samples = int(cont.get("samples", 16)) if cont and sigmas.size else 0
        batch = int(run.get("batch_size", 0) or 0) if spec.code in DATA_CODES else 0

        names = list(series.SURFACE)
        row_x = row_dist = row_avg_loss = row_avg_x = row_proj = row_sparsity = row_heig = -1
        if d <= MAX_X_SERIES:
            row_x = len(names)
            names += [f"x.{i}" for i in range(d)]
        if spec.theta_star is not None:
            row_dist = len(names)
            names.append("dist")
        if avg_kind != K.AVG_NONE:
            row_avg_loss = len(names)
            names.append("avg.loss")
            if d <= MAX_X_SERIES:
                row_avg_x = len(names)
                names += [f"avg.x.{i}" for i in range(d)]
        if d > 2:
            row_proj = len(names)
            names += ["proj.0", "proj.1"]
        if spec.code == SPARSE_CODING:
            row_sparsity = len(names)
            names.append("sparsity")
        if ocode == O.NEWTON and d <= MAX_HEIG_DIM:
            row_heig = len(names)
            names.append("hess_min_eig")
        self.series_names: tuple[str, ...] = tuple(names)

        cfg_i = np.zeros(K.N_CFG_I, dtype=np.int64)
        cfg_i[K.I_SCODE] = spec.code
        cfg_i[K.I_OCODE] = ocode
        cfg_i[K.I_SCHED] = scode_sched
        cfg_i[K.I_CLIP] = clip_kind
        cfg_i[K.I_AVG] = avg_kind
        cfg_i[K.I_BATCH] = batch
        cfg_i[K.I_SAMPLES] = samples
        cfg_i[K.I_TOTAL] = self.steps
        cfg_i[K.I_ROW_X] = row_x
        cfg_i[K.I_ROW_DIST] = row_dist
        cfg_i[K.I_ROW_AVG_LOSS] = row_avg_loss
        cfg_i[K.I_ROW_AVG_X] = row_avg_x
        cfg_i[K.I_ROW_PROJ] = row_proj
        cfg_i[K.I_ROW_SPARSITY] = row_sparsity
        cfg_i[K.I_ROW_HEIG] = row_heig
        cfg_f = np.zeros(K.N_CFG_F)
        cfg_f[K.F_CLIP] = clip_c
        cfg_f[K.F_DECAY] = decay
        cfg_f[K.F_NOISE] = float(run.get("noise", 0.0) or 0.0)
        cfg_f[K.F_SCALE] = 1.0
        V, sv = O.init_state(ocode, op, d)
        self._cfg_i, self._cfg_f = cfg_i, cfg_f
        self._op, self._V, self._sv = op, V, sv
        self._sched_p = sched_p
        self._sigmas = sigmas
        self._rng = seed_state(seed)
        self._theta = spec.start.copy()
        self._prev = spec.start.copy()
        self._avg = spec.start.copy()
        self._work = np.empty((5, d))      # the generic loop's scratch (it allocates nothing)
        self._Hw = np.empty((d, d))
        self._theta_star = (spec.theta_star.copy() if spec.theta_star is not None
                            else np.zeros(d))
        self._last_x = spec.start.copy()
        self._perm = np.arange(spec.X.shape[0], dtype=np.int64)
        self._istate = np.array([0, -1, 0, 0], dtype=np.int64)  # t, batch pos, dead, plain
        self._path = K.kernel_path(cfg_i, cfg_f, sched_p, ocode, d)
        if (self._path == K.PATH_SPARSE and not getattr(K.sparse_kernel, "signatures", True)
                and not _WARMING):      # (the interpreted tier's kernels have no signatures)
            _warm_sparse()  # compile (or load) now, while the session builds its steppers

    # -- the Stepper protocol -------------------------------------------------------------

    def advance(self, n: int) -> tuple[dict[str, np.ndarray], int | None]:
        n = int(n)
        if self._istate[K.S_DEAD] or n <= 0:
            return {name: np.empty(0) for name in self.series_names}, None
        out = self._out(n)
        m = self._kernel(n, out)
        self._derive(out, m)
        series = {name: out[i, :m] for i, name in enumerate(self.series_names)}
        diverged_at = None
        if self._istate[K.S_DEAD]:
            diverged_at = self.steps_done + m - 1
        self.steps_done += m
        return series, diverged_at

    def _out(self, n: int) -> np.ndarray:
        """The kernels' record rows for n records: at least 8 rows (the 2-D fast paths always
        write row 7: dist, or scratch)."""
        return np.empty((max(len(self.series_names), 8), n))

    def _kernel(self, n: int, out: np.ndarray) -> int:
        """Run the path's kernel for n records into out (rows × n); the records made."""
        spec = self.spec
        if self._path == K.PATH_SPARSE:
            return K.sparse_kernel(n, self._cfg_i, self._cfg_f, spec.sp, spec.X, self._op,
                                   self._V, self._sv, self._sched_p, self._rng, self._theta,
                                   self._prev, self._avg, spec.origin, spec.e0, spec.e1,
                                   self._istate, out)
        if self._path == K.PATH_PLAIN_SGD:
            return K._plain_sgd_2d(n, self._cfg_i, self._cfg_f, spec.sp, self._op, self._theta,
                                   self._theta_star, self._istate, out)
        if self._path == K.PATH_FIRST_ORDER_2D:
            return K._first_order_2d(n, self._cfg_i, self._cfg_f, spec.sp, self._op, self._V,
                                     self._sv, self._sched_p, self._rng, self._theta,
                                     self._avg, self._istate, out)
        m = self._generic(n, out)
        self._hessian_rows(out, m)
        return m

    def _generic(self, n: int, out: np.ndarray) -> int:
        """The generic loop (any optimizer, dimension, surface and setting) for n records."""
        return call_through_pointers(K.generic_kernel, GENERIC_POINTERS, self._generic_args(n, out))

    def _generic_args(self, n: int, out: np.ndarray) -> tuple:
        """generic_kernel's arguments after its GENERIC_POINTERS."""
        spec = self.spec
        return (n, self._cfg_i, self._cfg_f, spec.sp, spec.X, spec.Y, self._perm, self._op,
                self._V, self._sv, self._sched_p, self._sigmas, self._rng, self._theta,
                self._prev, self._avg, self._theta_star, spec.origin, spec.e0, spec.e1,
                self._istate, out, self._work, self._Hw)

    def _hessian_rows(self, out: np.ndarray, m: int) -> None:
        """λ_min of the Hessian at each of the m records, into its row of out (when the run
        records it: the generic loop leaves it to this kernel)."""
        if self._cfg_i[K.I_ROW_HEIG] >= 0:
            spec = self.spec
            K.fill_hess_min_eig(spec.code, spec.sp, spec.X, spec.Y, out, m,
                                self._cfg_i[K.I_ROW_X], self._cfg_i[K.I_ROW_HEIG], spec.dim)

    def _derive(self, out: np.ndarray, m: int) -> None:
        """The rows the 2-D fast paths leave to fill_plain_rows: ε (unless the kernel recorded
        it, as the register loop does for its schedules), ‖θ‖, step size, distance."""
        if not self._istate[K.S_PLAIN]:
            return
        lr = (-1.0 if self._path == K.PATH_FIRST_ORDER_2D
              else self._op[O.LR] * self._cfg_f[K.F_SCALE])
        K.fill_plain_rows(out, m, lr, self.steps_done > 0, self._last_x, self._theta_star)
        if m:
            self._last_x = out[5:7, m - 1].copy()

    def snapshots(self) -> dict[str, np.ndarray]:
        if self._snapshots_sent:
            return {}
        if INTERPRETED and _costly_map(self.spec) and not self.diverged \
                and self.steps_done < self.steps:
            return {}   # the compiled tier sends it (or this one, at the run's end)
        self._snapshots_sent = True
        spec = self.spec
        snaps = {
            "surface.window": spec.window.copy(),
            "surface.minima": spec.minima.reshape(-1, 2).copy(),
            "surface.saddles": spec.saddles.reshape(-1, 2).copy(),
        }
        if spec.one_d:
            xs = np.linspace(spec.window[0], spec.window[1], CURVE_POINTS)
            curve = np.empty((2, CURVE_POINTS))
            curve[0] = xs
            curve[1] = [spec.value([x]) for x in xs]
            snaps["surface.curve"] = curve
        else:
            snaps["surface.grid"] = _grid(spec).copy()
        return snaps

    def set_lr_scale(self, scale: float) -> None:
        self._cfg_f[K.F_SCALE] = float(scale)

    # -- extras for tests and the runner ------------------------------------------------

    @property
    def theta(self) -> np.ndarray:
        """θ after the updates done so far (a copy)."""
        return self._theta.copy()

    @property
    def diverged(self) -> bool:
        return bool(self._istate[K.S_DEAD])


def _costly_map(spec: SurfaceSpec) -> bool:
    """Whether the map's 12,800 evaluations of f take seconds in Python (a pass over the data,
    sparse coding's J, d > 2): the interpreted tier leaves it to the compiled one."""
    return spec.code in DATA_CODES or spec.code == SPARSE_CODING or spec.dim > 2


def _grid(spec: SurfaceSpec) -> np.ndarray:
    """f on the map's grid, computed once per surface (a sweep's runs share theirs: a sparse-
    coding grid is 12,800 evaluations, 0.7 s on the interpreted tier)."""
    grid = spec.grid
    if grid is None:
        grid = np.empty((GRID_ROWS, GRID_COLS))
        if spec.code == SPARSE_CODING:  # a slice through the start (sparse_coding's own f)
            w = spec.window
            for r, v in enumerate(np.linspace(w[3], w[2], GRID_ROWS)):
                for c, u in enumerate(np.linspace(w[0], w[1], GRID_COLS)):
                    grid[r, c] = spec.value(spec.origin + u * spec.e0 + v * spec.e1)
        else:
            grid_values(spec.code, spec.sp, spec.X, spec.Y, spec.origin, spec.e0, spec.e1,
                        spec.window, GRID_ROWS, GRID_COLS, grid)
        spec.grid = grid
    return grid


def _warm_sparse() -> None:
    """Compile or load the sparse-coding kernel with a throwaway 2-step run: a sparse-coding
    stepper calls this when built (warm_up for other scenarios' runs leaves it out)."""
    global _WARMING
    _WARMING = True
    try:
        st = SurfaceStepper({"surface": "sparse_coding", "n_samples": 3, "n_atoms": 2,
                             "n_features": 2}, {"optimizer": "sgd"}, 4, 0)
        st.advance(2)
    finally:
        _WARMING = False


def warm_up(progress=None, include_batch: bool = False, problem: Mapping | None = None,
            runs=None, *, parts: bool = True) -> None:
    """Compile (or load from numba's cache) the surface kernels by running tiny problems.

    Without `problem`: every kernel a scenario can call (plain SGD, plain Adam, the generic
    loop, the Hessian eigenvalue row, the map grid, sparse coding). With `problem` (a [problem]
    table) and `runs` (run tables): only the kernels those runs use, each run's own stepper
    advanced 2 steps; a scenario of plain 2-D SGD runs then never compiles the generic loop.
    progress(i, total, what) is called before each step, for a "loading kernels…" status.
    The multi-path batch kernels (engine.batch) are not used by the stepper; include_batch
    compiles them too. parts=False: the runs on the generic loop are built, their loop compiled
    and their snapshots taken, but not advanced: the update the loop calls and the Hessian rows
    are compile_parts' (a process compiling beside this one).
    """
    if problem is not None:
        cases = [(f"run {i + 1}", problem, run) for i, run in enumerate(runs or [{}])]
    else:
        cases = [
            ("plain sgd", {"surface": "rosenbrock"}, {"optimizer": "sgd", "lr": 1e-3}),
            ("plain adam", {"surface": "rosenbrock"}, {"optimizer": "adam", "lr": 1e-2}),
            ("generic", {"surface": "quadratic", "eigenvalues": [1.0, 2.0, 3.0]},
             {"optimizer": "momentum", "noise": 0.1, "clip": {"norm": 1.0},
              "average": {"kind": "polyak"}, "schedule": {"name": "cosine"},
              "continuation": {"sigmas": [0.5, 0.0], "samples": 2}}),
            ("data", {"surface": "logistic", "n_samples": 20},
             {"optimizer": "lbfgs", "batch_size": 5}),
            ("newton", {"surface": "himmelblau"}, {"optimizer": "newton"}),
            ("sparse coding", {"surface": "sparse_coding", "n_samples": 3, "n_atoms": 2,
                               "n_features": 2}, {"optimizer": "sgd"}),
        ]
    total = len(cases) + (1 if include_batch else 0)
    for i, (what, problem, run) in enumerate(cases):
        if progress is not None:
            progress(i, total, what)
        st = SurfaceStepper(problem, run, 4, 0)
        if parts or st._path != K.PATH_GENERIC:
            st.advance(2)
        else:
            compile_through_pointers(K.generic_kernel, GENERIC_POINTERS,
                                     st._generic_args(0, st._out(1)))
        st.snapshots()
    if include_batch:
        if progress is not None:
            progress(total - 1, total, "batch")
        from .batch import warm_up_batch

        warm_up_batch()


def compile_parts(problem_type: str, problem: Mapping | None = None, runs=None) -> None:
    """Compile the GENERIC_POINTERS and the Hessian rows for those of `runs` that take the
    generic loop, in a process beside the one compiling the rest (warm_up(parts=False)), which
    compiles the loop itself without them: the loop and its update were most of a surface
    compile (10 of 16 s of CPU for 05_saddle_points, whose Newton run takes it). A scenario
    without a generic run compiles nothing here."""
    if problem is None or problem.get("surface") == "sparse_coding":    # its own kernel
        return
    generic = [st for st in (SurfaceStepper(problem, run, 4, 0) for run in runs or [])
               if st._path == K.PATH_GENERIC]
    if generic:
        compile_pointers(GENERIC_POINTERS)
    for st in generic:
        st._hessian_rows(st._out(1), 0)
