"""The training kernel: many minibatch steps per call, every metric of every record written
into a preallocated array, all state carried in plain arrays between calls.

Record k (absolute step t = k) is measured at θ_k on the minibatch that update k+1 uses:
loss, grad_norm (before clipping), lr (the rate of update k+1), param_norm, per-layer stats;
update_ratio is ‖Δθ_layer‖/‖θ_layer‖ of update k+1; val_loss/accuracy (evaluation mode, whole
validation set) and sharpness are measured at θ_k on every eval_every / sharpness_every-th
record and carried forward (NaN before the first). The optimizer, schedule and the optimizer
state are the surface engine's (engine.optimizers, engine.schedules) applied to the flat θ.
"""

import numpy as np
from numba import njit

from . import codes as C
from .instruments import (evaluate, gradcheck_layers, norms_and_copy, sharpness, snapshot_arrays,
                          sumsq_diff)
from .model import load_range, load_rows, loss_grad, sample_masks
from ..optimizers import (CLIP_NONE, CLIP_NORM, CLIP_VALUE, clip_gradient,  # noqa: F401 (CLIP_* re-exported)
                          grad_point)
from ..rng import normal, shuffle
from ..schedules import lr_at

# icfg: integer configuration. IC_FROZEN: the first IC_FROZEN layers are frozen (their gradient
# is recorded, then zeroed before the update: greedy layer-wise pretraining with freezing)
(IC_LOSS, IC_NCLS, IC_BATCH, IC_EVAL, IC_SHARP, IC_GC, IC_SHARP_ITERS, IC_NTRAIN, IC_NVAL,
 IC_OPT, IC_SCHED, IC_CLIP, IC_NPROBE, IC_CURRICULUM, IC_FROZEN) = range(15)
NIC = 15
# istate: t (records done), position in the epoch's permutation, epochs started, pool size
IS_T, IS_POS, IS_EPOCH, IS_POOL = range(4)
NIS = 4
# fstate: live lr scale, clip threshold, last validation loss, accuracy, sharpness, train loss,
# the curriculum's starting fraction
FS_SCALE, FS_CLIP, FS_VAL, FS_ACC, FS_SHARP, FS_TRAIN, FS_CURR0 = range(7)
NFS = 7


@njit(cache=True, nogil=True, error_model="numpy")
def train_steps(forward, backward, loss_and_grad, first_order_update, layer_stats, n, spec, fh,
                theta, grad, V, sv, op, sp, icfg, istate, fstate, gcres, Xtr, Ytr, Xva, Yva, perm,
                buf, ibuf, bns, yb, rng, work, out, edges, act_h, pre_h, window, grid, snap_rows,
                snap_grid):
    """Run n records; returns n, or −m when record m−1 is the first non-finite one (the run
    diverged; the caller stops advancing it). forward, backward, loss_and_grad: the model's
    kernels (model.forward, model.backward, losses.loss_and_grad); first_order_update, the
    optimizer's (engine.optimizers), and layer_stats, the per-layer measurements
    (instruments): all passed as pointers (jit_options.call_through_pointers), so this kernel
    compiles without them, beside them.

    With snap_rows > 0 it takes a snapshot instead (n must be 0): the histograms on training
    rows 0..snap_rows on `edges` into act_h, pre_h and, when snap_grid > 0, the snap_grid²
    decision-boundary grid over `window`. One compiled entry point for both: one kernel to
    compile, cache and load."""
    if snap_rows > 0:
        snapshot_arrays(forward, spec, theta, fh, buf, ibuf, bns, yb, Xtr, Ytr, snap_rows, edges,
                        act_h, pre_h, window, snap_grid, grid)
        return 0
    L = spec.shape[0]
    P = theta.shape[0]
    loss_code = icfg[IC_LOSS]
    ncls = icfg[IC_NCLS]
    bs = icfg[IC_BATCH]
    ntr = icfg[IC_NTRAIN]
    ocode = icfg[IC_OPT]
    thprev = work[5]
    look = work[6]
    lw2 = np.zeros(L)
    for k in range(n):
        t = istate[IS_T]
        # -- measurements at θ_t that use their own data ---------------------------------
        if icfg[IC_EVAL] > 0 and t % icfg[IC_EVAL] == 0:
            # validation set, then the training set, through one (inlined) call site
            for which in range(2):
                X, Y, nrows = (Xva, Yva, icfg[IC_NVAL]) if which == 0 else (Xtr, Ytr, ntr)
                if nrows == 0:
                    continue
                el, acc = evaluate(forward, loss_and_grad, spec, theta, fh, buf, ibuf, bns, yb,
                                   X, Y, nrows, loss_code, ncls)
                if which == 0:
                    fstate[FS_VAL] = el
                    fstate[FS_ACC] = acc
                else:
                    fstate[FS_TRAIN] = el
        if icfg[IC_SHARP] > 0 and t % icfg[IC_SHARP] == 0:
            if t == 0:
                for i in range(P):
                    work[0, i] = normal(rng)
            fstate[FS_SHARP] = sharpness(forward, backward, loss_and_grad, spec, theta, fh, buf,
                                         ibuf, bns, yb, Xtr, Ytr, icfg[IC_NPROBE], loss_code,
                                         ncls, icfg[IC_SHARP_ITERS], work)
        # -- the minibatch of update t+1 --------------------------------------------------
        if bs >= ntr:
            load_range(spec, buf, Xtr, Ytr, yb, np.int64(0), ntr)
            m = ntr
        else:
            if istate[IS_POS] + bs > istate[IS_POOL]:
                if icfg[IC_CURRICULUM] > 0:
                    # curriculum: rows are sorted easy to hard; each epoch draws from the
                    # easiest fraction, growing linearly to all of them
                    f0 = fstate[FS_CURR0]
                    frac = f0 + (1.0 - f0) * min(1.0, t / icfg[IC_CURRICULUM])
                    pool = max(bs, min(ntr, int(frac * ntr)))
                    for i in range(pool):
                        perm[i] = i
                    istate[IS_POOL] = pool
                shuffle(rng, perm[:istate[IS_POOL]])
                istate[IS_POS] = 0
                istate[IS_EPOCH] += 1
            load_rows(spec, buf, Xtr, Ytr, yb, perm, istate[IS_POS], bs)
            istate[IS_POS] += bs
            m = bs
        sample_masks(spec, fh, buf, rng, m)
        lr = lr_at(icfg[IC_SCHED], sp, op[0], t) * fstate[FS_SCALE]
        at = theta
        if grad_point(ocode, op, V, theta, look):
            at = look
        loss = loss_grad(forward, backward, loss_and_grad, spec, at, grad, fh, buf, ibuf, bns,
                         yb, m, np.int64(C.TRAIN), np.int64(1), loss_code, ncls, np.int64(1))
        layer_stats(spec, buf, m, out, k)
        if icfg[IC_GC] > 0 and t % icfg[IC_GC] == 0:
            gradcheck_layers(forward, backward, loss_and_grad, spec, at, grad, fh, buf, ibuf, bns,
                             yb, m, loss_code, ncls, np.int64(C.TRAIN), gcres)
        # -- record k --------------------------------------------------------------------
        gn2 = 0.0
        pn2 = 0.0
        for l in range(L):
            p0 = spec[l, C.P0]
            p1 = spec[l, C.P1]
            s, w2 = norms_and_copy(grad, theta, thprev, p0, p1)
            gn2 += s
            pn2 += w2
            lw2[l] = w2
            base = C.NGS + l * C.NLS
            out[base + 0, k] = np.sqrt(s)
            out[base + 6, k] = gcres[l]
        out[0, k] = loss
        out[1, k] = np.sqrt(gn2)
        out[2, k] = lr
        out[3, k] = np.sqrt(pn2)
        out[4, k] = fstate[FS_VAL]
        out[5, k] = fstate[FS_ACC]
        out[6, k] = fstate[FS_SHARP]
        out[7, k] = fstate[FS_TRAIN]
        out[8, k] = t / max(ntr // bs, 1)   # whole batches per epoch (the last partial one is dropped)
        if not (np.isfinite(loss) and np.isfinite(gn2) and np.isfinite(pn2)):
            for l in range(L):
                out[C.NGS + l * C.NLS + 1, k] = np.nan
            istate[IS_T] = t + 1
            return -(k + 1)
        # -- update t+1 ------------------------------------------------------------------
        if icfg[IC_FROZEN] > 0:
            for i in range(spec[icfg[IC_FROZEN] - 1, C.P1]):
                grad[i] = 0.0
        clip_gradient(icfg[IC_CLIP], fstate[FS_CLIP], grad)
        first_order_update(ocode, op, V, sv, theta, grad, lr)
        for l in range(L):
            d2 = sumsq_diff(theta, thprev, spec[l, C.P0], spec[l, C.P1])
            w2 = lw2[l]
            out[C.NGS + l * C.NLS + 1, k] = np.sqrt(d2) / np.sqrt(w2) if w2 > 0.0 else np.nan
        istate[IS_T] = t + 1
    return n
