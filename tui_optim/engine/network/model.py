"""The whole MLP on a flat parameter vector: layout, forward, backward, objective.

Every layer's parameters (W, b, PReLU slopes, batch-norm γ and β) live in one float64 vector θ
so that any optimizer, schedule or clipping stage applies to the network as to a surface. Work
arrays live in one float buffer and one int buffer, addressed by the per-layer `spec` rows
(codes.py); nothing is allocated per step.

Layer l (0 .. L−2 hidden, L−1 output):
    z = x W + b                         (preact; maxout: k pieces per unit)
    u = BN(z) if batch norm else z
    a = f(u)                            (act)
    h = a · dropout mask + x (skip)     (the next layer's input)
The output layer is z = x W + b, fed to the loss.
"""

import numpy as np
from numba import njit

from . import codes as C
from .layers import (act_backward, act_forward, bn_backward, bn_forward_eval, bn_forward_train,
                     bn_update_running, dense_backward, dense_forward)
from .losses import loss_and_grad
from ..rng import uniform

_NB = dict(cache=True, nogil=True, error_model="numpy")
# Kernels pass constants to other njit functions as np.int64(C.TRAIN), never bare: a bare
# constant is typed as a Literal and compiles a separate specialization of the callee (and of
# all it calls). (An inline helper doing the same cost ~45 ms of compile per call site.)
# Which helpers are inlined: leaves (layers, losses, statistics, _mat) are compiled functions of
# their own, compiled once and linked wherever called; numba's IR inlining re-types and re-lowers
# a helper at every call site (inlining them cost 10 s of the network's cold compile, measured).
# forward, backward and losses.loss_and_grad are passed to train_steps as pointers (FORWARD):
# every compiled function that links them in optimizes them again, and train_steps waited on
# one core for that. The helpers that call them (loss_grad, the instruments) are inlined into
# train_steps: as compiled functions of their own they cost as much CPU in all (measured).


class Layout:
    """Sizes and offsets of one network; built once per run in Python."""

    def __init__(self, d_in, hidden, d_out, act, pieces=1, batch_norm=False, skip=False,
                 cap=32):
        hidden = [int(h) for h in hidden]
        widths = [int(d_in)] + hidden + [int(d_out)]
        L = len(widths) - 1
        spec = np.zeros((L, C.NCOL), dtype=np.int64)
        p = 0
        f = 0
        bns = 0
        ib = 0
        cap = int(cap)
        for l in range(L):
            n_in, n_out = widths[l], widths[l + 1]
            hid = l < L - 1
            k = int(pieces) if (hid and act == C.MAXOUT) else 1
            nk = n_out * k
            r = spec[l]
            r[C.N_IN], r[C.N_OUT], r[C.K] = n_in, n_out, k
            r[C.ACT] = act if hid else C.LINEAR
            r[C.BN] = 1 if (hid and batch_norm) else 0
            r[C.SKIP] = 1 if (hid and skip and n_in == n_out and l > 0) else 0
            r[C.P0] = p
            r[C.W] = p
            p += n_in * nk
            r[C.B] = p
            p += nk
            if hid and act == C.PRELU:
                r[C.SLOPE] = p
                p += n_out
            if r[C.BN]:
                r[C.GAMMA] = p
                p += nk
                r[C.BETA] = p
                p += nk
                r[C.BNS] = bns
                bns += 4 * nk
            r[C.P1] = p
            # float work buffer: input (layer 0 only; else previous H), Z, U, ZH, A, H, MASK,
            # DC mask, DropConnect weights, DZ, DU, DH, DIN.
            if l == 0:
                r[C.IN] = f
                f += cap * n_in
                r[C.DIN] = f
                f += cap * n_in
            else:
                r[C.IN] = spec[l - 1, C.H]
                r[C.DIN] = spec[l - 1, C.DH]
            r[C.Z] = f
            f += cap * nk
            r[C.DZ] = f
            f += cap * nk
            if r[C.BN]:
                r[C.U] = f
                f += cap * nk
                r[C.ZH] = f
                f += cap * nk
                r[C.DU] = f
                f += cap * nk
            else:
                r[C.U] = r[C.Z]
                r[C.ZH] = r[C.Z]
                r[C.DU] = r[C.DZ]
            for col in (C.A, C.H, C.MASK, C.DH):
                r[col] = f
                f += cap * n_out
            r[C.DC] = f
            f += n_in * nk
            r[C.DCW] = f
            f += n_in * nk
            r[C.ARG] = ib
            ib += cap * n_out
        self.spec = spec
        self.widths = widths
        self.n_layers = L
        self.n_params = p
        self.cap = cap
        self.buf_size = f
        self.ibuf_size = max(ib, 1)
        self.bn_size = max(bns, 1)

    def buffers(self):
        """Fresh (buf, ibuf, bn_state) arrays; running variances start at 1."""
        buf = np.zeros(self.buf_size)
        ibuf = np.zeros(self.ibuf_size, dtype=np.int64)
        bns = np.zeros(self.bn_size)
        for r in self.spec:
            if r[C.BN]:
                nk = r[C.N_OUT] * r[C.K]
                bns[r[C.BNS] + nk:r[C.BNS] + 2 * nk] = 1.0
        return buf, ibuf, bns


@njit(cache=True, nogil=True, error_model="numpy")
def _mat(a, off, m, n):
    return a[off:off + m * n].reshape((m, n))


@njit(cache=True, nogil=True, error_model="numpy")
def load_rows(spec, buf, X, Y, yb, idx, start, m):
    """Copy rows idx[start:start+m] of X into the input buffer and of Y into yb."""
    d = spec[0, C.N_IN]
    o = spec[0, C.IN]
    t = Y.shape[1]
    for i in range(m):
        r = idx[start + i]
        for j in range(d):
            buf[o + i * d + j] = X[r, j]
        for j in range(t):
            yb[i, j] = Y[r, j]


@njit(cache=True, nogil=True, error_model="numpy")
def load_range(spec, buf, X, Y, yb, start, m):
    """Copy rows start..start+m of X (and Y) into the input buffer."""
    d = spec[0, C.N_IN]
    o = spec[0, C.IN]
    t = Y.shape[1]
    for i in range(m):
        for j in range(d):
            buf[o + i * d + j] = X[start + i, j]
        for j in range(t):
            yb[i, j] = Y[start + i, j]


@njit(cache=True, nogil=True, error_model="numpy")
def sample_masks(spec, fh, buf, rng, m):
    """Draw inverted-dropout masks (keep/(1−p)) for m rows and DropConnect masks for the
    hidden layers' weights, from the run's generator."""
    L = spec.shape[0]
    p = fh[C.FH_DROPOUT]
    q = fh[C.FH_DROPCONNECT]
    for l in range(L - 1):
        n = spec[l, C.N_OUT]
        if p > 0.0:
            o = spec[l, C.MASK]
            keep = 1.0 / (1.0 - p)
            for i in range(m * n):
                buf[o + i] = keep if uniform(rng) >= p else 0.0
        if q > 0.0:
            o = spec[l, C.DC]
            keep = 1.0 / (1.0 - q)
            for i in range(spec[l, C.N_IN] * n * spec[l, C.K]):
                buf[o + i] = keep if uniform(rng) >= q else 0.0


@njit(**_NB)
def forward(spec, theta, fh, buf, ibuf, bns, m, mode, update_running):
    """Forward pass of the m rows in the input buffer; leaves the output z in layer L−1's Z."""
    L = spec.shape[0]
    train_masks = mode == C.TRAIN
    for l in range(L):
        r = spec[l]
        n_in = r[C.N_IN]
        n_out = r[C.N_OUT]
        k = r[C.K]
        nk = n_out * k
        x = _mat(buf, r[C.IN], m, n_in)
        w = _mat(theta, r[C.W], n_in, nk)
        b = theta[r[C.B]:r[C.B] + nk]
        z = _mat(buf, r[C.Z], m, nk)
        hid = l < L - 1
        if hid and train_masks and fh[C.FH_DROPCONNECT] > 0.0:
            weff = _mat(buf, r[C.DCW], n_in, nk)
            o = r[C.DC]
            ow = r[C.W]
            od = r[C.DCW]
            for q in range(n_in * nk):
                buf[od + q] = theta[ow + q] * buf[o + q]
            dense_forward(x, weff, b, z)
        else:
            dense_forward(x, w, b, z)
        if not hid:
            break
        u = _mat(buf, r[C.U], m, nk)
        if r[C.BN]:
            zh = _mat(buf, r[C.ZH], m, nk)
            gamma = theta[r[C.GAMMA]:r[C.GAMMA] + nk]
            beta = theta[r[C.BETA]:r[C.BETA] + nk]
            s = r[C.BNS]
            eps = fh[C.FH_BN_EPS]
            if mode == C.EVAL:
                bn_forward_eval(z, gamma, beta, eps, bns[s:s + nk], bns[s + nk:s + 2 * nk], zh, u)
            else:
                mu = bns[s + 2 * nk:s + 3 * nk]
                inv = bns[s + 3 * nk:s + 4 * nk]
                bn_forward_train(z, gamma, beta, eps, zh, u, mu, inv)
                if update_running:
                    bn_update_running(mu, inv, eps, bns[s:s + nk], bns[s + nk:s + 2 * nk],
                                      fh[C.FH_BN_MOM])
        a = _mat(buf, r[C.A], m, n_out)
        h = _mat(buf, r[C.H], m, n_out)
        mask = _mat(buf, r[C.MASK], m, n_out)
        arg = _mat(ibuf, r[C.ARG], m, n_out)
        so = r[C.SLOPE]
        slope = theta[so:so + n_out]
        act_forward(r[C.ACT], u, a, h, x, mask, arg, slope, k, fh[C.FH_LEAKY], fh[C.FH_ELU],
                    train_masks and fh[C.FH_DROPOUT] > 0.0, r[C.SKIP] == 1)


@njit(**_NB)
def backward(spec, theta, grad, fh, buf, ibuf, bns, m, mode):
    """Backprop from the output layer's DZ (filled by the loss) into grad (all of θ), adding
    the L2 term weight_decay·W. Assumes forward ran on the same rows in the same mode."""
    L = spec.shape[0]
    train_masks = mode == C.TRAIN
    wd = fh[C.FH_WD]
    for l in range(L - 1, -1, -1):
        r = spec[l]
        n_in = r[C.N_IN]
        n_out = r[C.N_OUT]
        k = r[C.K]
        nk = n_out * k
        hid = l < L - 1
        x = _mat(buf, r[C.IN], m, n_in)
        dz = _mat(buf, r[C.DZ], m, nk)
        if hid:
            dh = _mat(buf, r[C.DH], m, n_out)
            du = _mat(buf, r[C.DU], m, nk)
            so = r[C.SLOPE]
            act_backward(r[C.ACT], _mat(buf, r[C.U], m, nk), _mat(buf, r[C.A], m, n_out), dh,
                         du, _mat(buf, r[C.MASK], m, n_out), _mat(ibuf, r[C.ARG], m, n_out),
                         theta[so:so + n_out], grad[so:so + n_out], k, fh[C.FH_LEAKY],
                         fh[C.FH_ELU], train_masks and fh[C.FH_DROPOUT] > 0.0)
            if r[C.BN]:
                s = r[C.BNS]
                bn_backward(du, _mat(buf, r[C.ZH], m, nk), theta[r[C.GAMMA]:r[C.GAMMA] + nk],
                            bns[s + 3 * nk:s + 4 * nk], dz, grad[r[C.GAMMA]:r[C.GAMMA] + nk],
                            grad[r[C.BETA]:r[C.BETA] + nk])
        dx = _mat(buf, r[C.DIN], m, n_in)
        dw = _mat(grad, r[C.W], n_in, nk)
        db = grad[r[C.B]:r[C.B] + nk]
        dc = hid and train_masks and fh[C.FH_DROPCONNECT] > 0.0
        if dc:
            dense_backward(x, _mat(buf, r[C.DCW], n_in, nk), dz, dx, dw, db, l > 0)
            o = r[C.DC]
            ow = r[C.W]
            for q in range(n_in * nk):
                grad[ow + q] *= buf[o + q]
        else:
            dense_backward(x, _mat(theta, r[C.W], n_in, nk), dz, dx, dw, db, l > 0)
        if r[C.SKIP] and l > 0:
            dh = _mat(buf, r[C.DH], m, n_out)
            for i in range(m):
                for j in range(n_in):
                    dx[i, j] += dh[i, j]
        if wd != 0.0:
            ow = r[C.W]
            for q in range(n_in * nk):
                grad[ow + q] += wd * theta[ow + q]


@njit(cache=True, nogil=True, error_model="numpy")
def l2_penalty(spec, theta, wd):
    """½ wd Σ W² over every layer's weights (not biases, slopes or γ, β)."""
    if wd == 0.0:
        return 0.0
    s = 0.0
    for l in range(spec.shape[0]):
        o = spec[l, C.W]
        for q in range(spec[l, C.N_IN] * spec[l, C.N_OUT] * spec[l, C.K]):
            s += theta[o + q] * theta[o + q]
    return 0.5 * wd * s


# forward's and backward's signatures as train_steps passes them: as pointers (jit_options.
# call_through_pointers), so that they (and losses.loss_and_grad) compile beside train_steps,
# each once
FORWARD = ("none(int64[:, ::1], float64[::1], float64[::1], float64[::1], int64[::1], "
           "float64[::1], int64, int64, int64)")
BACKWARD = ("none(int64[:, ::1], float64[::1], float64[::1], float64[::1], float64[::1], "
            "int64[::1], float64[::1], int64, int64)")


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def loss_grad(forward, backward, loss_and_grad, spec, theta, grad, fh, buf, ibuf, bns, yb, m,
              mode, update_running, loss_code, n_classes, want_grad):
    """Data loss of the m loaded rows (mean) and, if want_grad, the gradient of
    data loss + ½ wd ‖W‖² into grad. forward, backward, loss_and_grad: the model's kernels
    (passed as pointers)."""
    forward(spec, theta, fh, buf, ibuf, bns, m, mode, update_running)
    r = spec[spec.shape[0] - 1]
    z = _mat(buf, r[C.Z], m, r[C.N_OUT])
    dz = _mat(buf, r[C.DZ], m, r[C.N_OUT])
    val = loss_and_grad(loss_code, z, yb[:m], dz, n_classes, want_grad)
    if want_grad:
        backward(spec, theta, grad, fh, buf, ibuf, bns, m, mode)
    return val


@njit(**_NB)
def loss_grad_linked(spec, theta, grad, fh, buf, ibuf, bns, yb, m, mode, update_running,
                     loss_code, n_classes, want_grad):
    """loss_grad with the model's kernels linked in: callable from Python (tests, tools)."""
    return loss_grad(forward, backward, loss_and_grad, spec, theta, grad, fh, buf, ibuf, bns, yb,
                     m, mode, update_running, loss_code, n_classes, want_grad)
