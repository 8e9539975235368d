"""Steppers of the network problem types: `NetworkStepper` (an MLP trained on a data set) and
`ChainStepper` (the gradient-flow demos of curriculum 18), plus `warm_up()`.

They hold plain arrays only and call one njit kernel per `advance`, so the runner can drive
them from a worker thread (nogil) and a run's numbers do not depend on how it is chunked.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import catalog, ordered
from . import codes as C
from .chain import ChainStepper, account_records, warm_up_chain
from .datasets import load as load_dataset
from .init import init_params, warm_up_init
from .instruments import LAYER_STATS, layer_stats
from .losses import LOSS_AND_GRAD, loss_and_grad
from .model import BACKWARD, FORWARD, Layout, backward, forward
from .train import (CLIP_NONE, CLIP_NORM, CLIP_VALUE, FS_ACC, FS_CLIP, FS_SCALE, FS_SHARP,
                    FS_CURR0, FS_TRAIN, FS_VAL, IC_BATCH, IC_CLIP, IC_CURRICULUM, IC_EVAL,
                    IC_FROZEN, IC_GC, IC_LOSS, IC_NCLS, IC_NPROBE, IC_NTRAIN, IC_NVAL, IC_OPT,
                    IC_SCHED, IC_SHARP, IC_SHARP_ITERS, IS_POOL, IS_POS, NFS, NIC, NIS,
                    train_steps)
from ..jit_options import call_through_pointers, compile_pointers, compile_through_pointers
from ..optimizers import (CODES as OPT_CODES, FIRST_ORDER_UPDATE, LBFGS, NEWTON,
                          first_order_update, init_state, optimizer_params)
from ..rng import seed_state
from ..schedules import schedule_params

__all__ = ["NetworkStepper", "ChainStepper", "warm_up"]

GRID = 48            # decision-boundary grid side
# train_steps' first arguments, passed as pointers, with their signatures: the model's kernels,
# the optimizer's update and the per-layer measurements (compiled on their own: PARTS)
POINTERS = ((forward, FORWARD), (backward, BACKWARD), (loss_and_grad, LOSS_AND_GRAD),
            (first_order_update, FIRST_ORDER_UPDATE), (layer_stats, LAYER_STATS))
HIST_ROWS = 256      # training rows the histograms are taken on
SHARP_ITERS = 20     # power-iteration steps per sharpness measurement (warm-started)


class NetworkStepper:
    """An MLP trained by minibatch backprop with any of the surface engine's optimizers.

    Series per record: loss, grad_norm, lr, param_norm, val_loss, accuracy, train_loss,
    epoch (sharpness when sharpness_every > 0), and per layer i (0 = first hidden, L−1 =
    output) layer.i.grad_norm, update_ratio, act_mean, act_std, preact_std, dead, spread
    (layer.i.gradcheck when gradcheck_every > 0). Snapshots: hist.edges, layer.i.act_hist,
    layer.i.preact_hist (fractions per bin, with the share below and above the edges first
    and last), boundary, boundary.window, data.points, data.labels (2-D class data;
    static ones on the first call), sharpness, gradcheck.

    Greedy layer-wise pretraining (pretrain_steps = p > 0, H ≥ 2 hidden layers): phase h < H−1
    (records h·p .. (h+1)·p − 1) trains hidden layers 0..h under a temporary output layer, a
    network of its own (Layout, θ, optimizer state) into which the trained hidden layers are
    copied; the last phase trains the whole network. Layer series of layers not built yet are
    NaN; the temporary output layer's go to the output layer's (layer.L−1). The generator,
    epoch position, schedule time and live lr scale run on across phases.
    """

    def __init__(self, problem: Mapping, run: Mapping, steps: int, seed: int):
        self.steps = int(steps)
        data = load_dataset(problem)
        self.data = data
        ncls = data.n_classes
        run = catalog.complete((*catalog.NETWORK_RUN, catalog.BATCH_SIZE), run, context=problem)
        act_name = run["activation"]
        if act_name not in C.ACTIVATIONS:
            raise ValueError(f"unknown activation {act_name!r}")
        act = C.ACTIVATIONS[act_name]
        loss_name = run["loss"]
        if loss_name not in C.LOSSES:
            raise ValueError(f"unknown loss {loss_name!r}")
        loss = C.LOSSES[loss_name]
        if ncls == 0 and loss != C.MSE:
            raise ValueError(f"loss {loss_name!r} needs class labels; dataset "
                             f"{data.name!r} is a regression problem (use loss = \"mse\")")
        if loss == C.BCE and ncls == 2:
            d_out = 1
        else:
            d_out = ncls if ncls > 0 else data.target_dim
        opt_code, op = optimizer_params(run)
        if opt_code in (NEWTON, LBFGS):
            name = [k for k, v in OPT_CODES.items() if v == opt_code][0]
            raise ValueError(f"optimizer {name!r} is not available for networks")
        hidden = [int(h) for h in run["layers"]]
        subset = int(run["subset"])
        ntr = data.X_train.shape[0] if subset <= 0 else min(subset, data.X_train.shape[0])
        bs = int(run["batch_size"])
        bs = ntr if bs <= 0 else min(bs, ntr)
        nval = data.X_val.shape[0]
        sharp_every = int(run["sharpness_every"])
        gc_every = int(run["gradcheck_every"])
        self.n_probe = min(ntr, max(bs, 512)) if sharp_every > 0 else 0
        self.n_hist = min(ntr, HIST_ROWS)
        cap = max(bs, self.n_probe, self.n_hist, min(nval, 256), 64)
        self.yb = np.zeros((cap, data.target_dim))
        self.fh = np.zeros(C.NFH)
        self.fh[C.FH_LEAKY] = float(run["leaky_slope"])
        self.fh[C.FH_ELU] = float(run["elu_alpha"])
        self.fh[C.FH_DROPOUT] = float(run["dropout"])
        self.fh[C.FH_DROPCONNECT] = float(run["dropconnect"])
        self.fh[C.FH_WD] = float(run["weight_decay"])
        self.fh[C.FH_BN_MOM] = float(run["bn_momentum"])
        self.fh[C.FH_BN_EPS] = 1e-5

        self.rng = seed_state(int(seed))
        init_name = run["init"]
        if init_name not in C.INITS:
            raise ValueError(f"unknown init {init_name!r}")
        self._net_args = (data.dim, d_out, act, int(run["maxout_pieces"]),
                          bool(run["batch_norm"]), bool(run["skip"]),
                          cap)
        self._init_args = (C.INITS[init_name], float(run["init_std"]),
                           float(run["init_scale"]),
                           int(run["init_sparse_k"]), float(run["bias_init"]),
                           float(run["leaky_slope"]))
        self.opt_code = opt_code
        self.op = op
        self.hidden = hidden
        # greedy layer-wise pretraining: phase h < H−1 trains hidden layers 0..h under a
        # temporary output layer for `pretrain_steps` records; the last phase the whole net
        pre = int(run["pretrain_steps"])
        self.pretrain_freeze = bool(run["pretrain_freeze"])
        H = len(hidden)
        if pre > 0 and H >= 2:
            if (H - 1) * pre >= self.steps:
                raise ValueError(f"pretrain_steps = {pre} for {H - 1} pretrained layers leaves "
                                 f"no steps of the {self.steps} for the whole network")
            self.phase_ends = [pre * (h + 1) for h in range(H - 1)]
        else:
            self.phase_ends = []
        self.phase = 0
        L = H + 1
        self.n_layers = L
        self._build_net(hidden[:1] if self.phase_ends else hidden, None)
        sched_code, self.sp = schedule_params(run.get("schedule"), self.steps)

        self.icfg = np.zeros(NIC, dtype=np.int64)
        self.icfg[IC_LOSS] = loss
        self.icfg[IC_NCLS] = ncls
        self.icfg[IC_BATCH] = bs
        self.icfg[IC_EVAL] = int(run["eval_every"])
        self.icfg[IC_SHARP] = sharp_every
        self.icfg[IC_GC] = gc_every
        self.icfg[IC_SHARP_ITERS] = SHARP_ITERS
        self.icfg[IC_NTRAIN] = ntr
        self.icfg[IC_NVAL] = nval
        self.icfg[IC_OPT] = opt_code
        self.icfg[IC_SCHED] = sched_code
        self.icfg[IC_NPROBE] = self.n_probe
        self.fstate = np.zeros(NFS)
        self.fstate[FS_SCALE] = 1.0
        self.fstate[FS_VAL] = np.nan
        self.fstate[FS_ACC] = np.nan
        self.fstate[FS_SHARP] = np.nan
        self.fstate[FS_TRAIN] = np.nan
        clip = run.get("clip") or {}
        if clip.get("norm") is not None:
            self.icfg[IC_CLIP] = CLIP_NORM
            self.fstate[FS_CLIP] = float(clip["norm"])
        elif clip.get("value") is not None:
            self.icfg[IC_CLIP] = CLIP_VALUE
            self.fstate[FS_CLIP] = float(clip["value"])
        else:
            self.icfg[IC_CLIP] = CLIP_NONE
        self.istate = np.zeros(NIS, dtype=np.int64)
        self.istate[IS_POS] = ntr          # the first step starts an epoch (shuffles)
        self.istate[IS_POOL] = ntr
        curriculum = float(run["curriculum"])
        if curriculum > 0 and ncls > 0:
            self.icfg[IC_CURRICULUM] = max(1, int(round(curriculum * self.steps)))
            self.fstate[FS_CURR0] = float(run["curriculum_start"])
            self.data = data = _easy_first(data, ntr)
        self.perm = np.arange(ntr, dtype=np.int64)

        lo, hi = (float(v) for v in run["hist_range"])
        self.edges = np.linspace(lo, hi, int(run["hist_bins"]) + 1)
        self.two_d = data.dim == 2 and ncls > 0
        self.window = np.zeros(4)
        if self.two_d:
            X = np.vstack([data.X_train, data.X_val])
            lo2, hi2 = X.min(axis=0), X.max(axis=0)
            pad = 0.1 * (hi2 - lo2)
            self.window = np.array([lo2[0] - pad[0], hi2[0] + pad[0],
                                    lo2[1] - pad[1], hi2[1] + pad[1]])

        names = [(n, i) for i, n in enumerate(C.GLOBAL_SERIES)
                 if n != "sharpness" or sharp_every > 0]
        for l in range(L):
            for j, s in enumerate(C.LAYER_SERIES):
                if s != "gradcheck" or gc_every > 0:
                    names.append((f"layer.{l}.{s}", C.NGS + l * C.NLS + j))
        self._rows = names
        self.series_names = tuple(n for n, _ in names)
        self.steps_done = 0
        self.diverged_at: int | None = None
        self._first_snapshot = True

    # -- the network of the current phase ----------------------------------------------------
    def _build_net(self, hidden, prev_theta) -> None:
        """Layout, buffers, θ (freshly initialised from the run's generator, then the trained
        hidden layers of the previous phase copied in: the layouts agree on their offsets),
        optimizer state (fresh: new parameters appear) and the map from the kernel's rows to
        the whole network's series."""
        d_in, d_out, act, pieces, bn, skip, cap = self._net_args
        lay = Layout(d_in, hidden, d_out, act, pieces, bn, skip, cap)
        self.layout = lay
        self.spec = lay.spec
        self.buf, self.ibuf, self.bns = lay.buffers()
        Lc = lay.n_layers
        P = lay.n_params
        self.theta = np.zeros(P)
        init_params(self.spec, self.theta, *self._init_args, self.rng)
        if prev_theta is not None:
            keep = int(self.spec[Lc - 2, C.P0])      # every hidden layer but the newest
            self.theta[:keep] = prev_theta[:keep]
        self.grad = np.zeros(P)
        self.V, self.sv = init_state(self.opt_code, self.op, P)
        self.work = np.zeros((7, P))
        self.gcres = np.full(Lc, np.nan)
        self.n_cur = Lc
        # current layer j → layer of the whole net: hidden j → j, the output → L−1
        self.layer_of = [j for j in range(Lc - 1)] + [self.n_layers - 1]

    def _next_phase(self) -> None:
        old_bns = self.bns
        old_spec = self.spec
        self.phase += 1
        h = min(self.phase + 1, len(self.hidden))
        self._build_net(self.hidden[:h], self.theta)
        for j in range(old_spec.shape[0] - 1):   # batch-norm running statistics of kept layers
            if old_spec[j, C.BN]:
                nk = old_spec[j, C.N_OUT] * old_spec[j, C.K]
                a, b = old_spec[j, C.BNS], self.spec[j, C.BNS]
                self.bns[b:b + 4 * nk] = old_bns[a:a + 4 * nk]
        # pretrain_freeze: while a new hidden layer is pretrained the earlier ones stay fixed;
        # the last phase (the whole network) trains every layer (fine-tuning)
        last = self.phase >= len(self.phase_ends)
        self.icfg[IC_FROZEN] = self.n_cur - 2 if (self.pretrain_freeze and not last) else 0

    # -- the Stepper protocol -----------------------------------------------------------------
    def advance(self, n: int) -> tuple[dict[str, np.ndarray], int | None]:
        if self.diverged_at is not None or n <= 0:
            return {name: np.empty(0) for name in self.series_names}, None
        parts = []
        div = None
        left = int(n)
        while left > 0 and div is None:
            ends = self.phase_ends
            if self.phase < len(ends) and self.steps_done >= ends[self.phase]:
                self._next_phase()
            k = left
            if self.phase < len(self.phase_ends):
                k = min(k, self.phase_ends[self.phase] - self.steps_done)
            series, div = self._advance_net(k)
            parts.append(series)
            left -= k
        if len(parts) == 1:
            return parts[0], div
        return {name: np.concatenate([p[name] for p in parts]) for name in self.series_names}, div

    def _advance_net(self, n: int) -> tuple[dict[str, np.ndarray], int | None]:
        Lc = self.n_cur
        out = np.empty((C.NGS + Lc * C.NLS, int(n)))
        got = self._train(int(n), out)
        m, div = account_records(self, got)
        rowmap = {}
        for j in range(Lc):
            for q in range(C.NLS):
                rowmap[C.NGS + self.layer_of[j] * C.NLS + q] = C.NGS + j * C.NLS + q
        series = {}
        for name, row in self._rows:
            if row < C.NGS:
                series[name] = out[row, :m].copy()
            elif row in rowmap:
                series[name] = out[rowmap[row], :m].copy()
            else:
                series[name] = np.full(m, np.nan)    # a layer not built yet (pretraining)
        return series, div

    def _train_args(self, n, out, snapshot=None):
        """train_steps' arguments after its POINTERS.
        snapshot: (edges, act_h, pre_h, window, grid, rows, grid side); none by default
        (placeholders of the same types: one compiled kernel serves both)."""
        d = self.data
        if snapshot is None:
            snapshot = (self.fh, self.work, self.work, self.fh, self.work, 0, 0)
        return (n, self.spec, self.fh, self.theta, self.grad, self.V, self.sv, self.op, self.sp,
                self.icfg, self.istate, self.fstate, self.gcres, d.X_train, d.Y_train, d.X_val,
                d.Y_val, self.perm, self.buf, self.ibuf, self.bns, self.yb, self.rng, self.work,
                out, *snapshot)

    def _train(self, n, out, snapshot=None):
        return call_through_pointers(train_steps, POINTERS, self._train_args(n, out, snapshot))

    def snapshots(self) -> dict[str, np.ndarray]:
        snap: dict[str, np.ndarray] = {}
        d = self.data
        if self._first_snapshot:
            self._first_snapshot = False
            snap["hist.edges"] = self.edges.copy()
            if self.two_d:
                snap["data.points"] = np.vstack([d.X_train, d.X_val])
                snap["data.labels"] = np.concatenate([d.Y_train[:, 0], d.Y_val[:, 0]])
                snap["boundary.window"] = self.window.copy()
        finite = bool(np.all(np.isfinite(self.theta)))
        B = self.edges.size - 1 + 2          # the bins, and the values below and above them
        act_h = np.zeros((self.n_cur, B))
        pre_h = np.zeros((self.n_cur, B))
        grid = np.zeros((GRID, GRID))
        if finite:
            self._train(0, self.work, (self.edges, act_h, pre_h, self.window, grid, self.n_hist,
                                       GRID if self.two_d else 0))
        else:
            act_h[:] = np.nan
            pre_h[:] = np.nan
        cur = {self.layer_of[j]: j for j in range(self.n_cur)}
        for l in range(self.n_layers):
            j = cur.get(l)
            snap[f"layer.{l}.act_hist"] = act_h[j].copy() if j is not None else np.full(B, np.nan)
            snap[f"layer.{l}.preact_hist"] = (pre_h[j].copy() if j is not None
                                              else np.full(B, np.nan))
        if self.two_d:
            snap["boundary"] = grid
        if self.icfg[IC_SHARP] > 0:
            snap["sharpness"] = np.array([self.fstate[FS_SHARP]])
        if self.icfg[IC_GC] > 0:
            gc = np.full(self.n_layers, np.nan)
            for j in range(self.n_cur):
                gc[self.layer_of[j]] = self.gcres[j]
            snap["gradcheck"] = gc
        return snap

    def set_lr_scale(self, scale: float) -> None:
        self.fstate[FS_SCALE] = float(scale)

    # -- for tests and tools --------------------------------------------------------------
    @property
    def val_loss(self) -> float:
        return float(self.fstate[FS_VAL])

    @property
    def accuracy(self) -> float:
        return float(self.fstate[FS_ACC])


def _easy_first(data, ntr):
    """The data set with its first ntr training rows sorted easy to hard. Difficulty of an
    example: distance to its own class mean minus distance to the nearest other class mean
    (negative: well inside its class)."""
    from dataclasses import replace
    X, y = data.X_train[:ntr], data.Y_train[:ntr, 0].astype(int)
    means = np.array([X[y == c].mean(axis=0) if np.any(y == c) else np.full(X.shape[1], np.inf)
                      for c in range(data.n_classes)])
    d = ordered.norm(X[:, None, :] - means[None, :, :], axis=2)
    own = d[np.arange(len(y)), y]
    d[np.arange(len(y)), y] = np.inf
    order = np.argsort(own - d.min(axis=1), kind="stable")
    Xs = np.concatenate([X[order], data.X_train[ntr:]])
    Ys = np.concatenate([data.Y_train[:ntr][order], data.Y_train[ntr:]])
    return replace(data, X_train=np.ascontiguousarray(Xs), Y_train=np.ascontiguousarray(Ys))


def warm_up(problem: Mapping | None = None, runs=None, progress=None, *,
            parts: bool = True) -> None:
    """Compile (or load from the cache) the kernels a problem needs, on tiny problems: for a
    `type = "network"` problem the MLP kernels, for `"chain"` the chain kernels, without a
    problem both. (`runs` is accepted for the engine's common warm-up signature.) parts=False:
    compile train_steps without running anything, the rest being
    compile_parts' (a process compiling the PARTS beside this one)."""
    problem_type = None if problem is None else problem.get("type")
    if progress:
        progress(0, 1, problem_type or "network and chain")
    if problem_type in (None, "network"):
        problem = {"type": "network", "dataset": "spiral", "n_samples": 60, "classes": 3}
        run = {"layers": [4, 4], "activation": "prelu", "batch_norm": True, "dropout": 0.1,
               "dropconnect": 0.1, "optimizer": "adam", "batch_size": 8, "eval_every": 2,
               "sharpness_every": 2, "gradcheck_every": 2, "clip": {"norm": 1.0}}
        if parts:
            s = NetworkStepper(problem, run, 3, 0)
            s.advance(3)
            s.snapshots()
            warm_up_init(s.rng)
        else:       # the arguments' types from a stepper built without compiling its init
            from ..interpreted import module

            s = module("network.stepper").NetworkStepper(problem, run, 3, 0)
            compile_through_pointers(train_steps, POINTERS, s._train_args(0, s.work))
    if problem_type in (None, "chain"):
        warm_up_chain()


# The kernels that compile in a process of their own, beside the one compiling the rest
# (runner/build.py runs both), with the signatures the rest calls them with. train_steps calls
# them through pointers, so neither process waits for the other, nor optimizes the other's code
# again. Per problem type: a chain's kernels are small.
PARTS = {"network": POINTERS}


def compile_parts(problem_type: str, problem=None, runs=None) -> None:
    """Compile the PARTS of a problem type into numba's cache (whatever the problem and runs:
    train_steps takes them for every run); for a network also the init
    kernels (only building a stepper calls them, and warm_up(parts=False) builds its own on
    the interpreted tier): 0.8 s less for the process compiling train_steps, the longer one."""
    compile_pointers(PARTS.get(problem_type, ()))
    if problem_type == "network":
        warm_up_init(seed_state(0))
