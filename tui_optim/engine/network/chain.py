"""Gradient-flow demos (curriculum 18), problem type "chain".

model = "diag": h_0 = x, h_i = W h_{i−1} with the tied W = diag(a, b), s = 1ᵀh_n, y = σ(s).
  Record k is the chain of depth n = k + 1, built and backpropagated afresh, so a run's trace
  over records is the gradient against depth: backprop gives ∂y/∂(a, b), checked against the
  closed form σ'(s)·(n aⁿ⁻¹ x₁, n bⁿ⁻¹ x₂). grad_norm = ‖∂s/∂(a, b)‖ (the linear chain, before
  the sigmoid squashes it) grows like n·max(a, b)ⁿ⁻¹ and vanishes when both are below 1.
  layer.i.grad_norm = ‖∂s/∂h_{i+1}‖, the signal reaching layer i (0 nearest the input) of the
  current chain, = ‖(a^{n−1−i}, b^{n−1−i})‖; NaN while the chain is shorter than i + 1.

model = "product": ŷ = x w_1 ⋯ w_l (l = the run's `depth`), loss ½(ŷ − target)², trained by the
  run's optimizer and schedule. Record k is training step k: besides loss and gradients it
  holds the first-order prediction gᵀΔθ (= −ε gᵀg for SGD) of update k+1's effect on the loss
  and the real change, and their relative gap, which grows with depth because the update of
  each w_i multiplies with the others' (second and higher order terms ε² g_i g_j Π w).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .. import catalog, series
from ..optimizers import LBFGS, NEWTON, first_order_update, init_state, optimizer_params
from ..scalar import ipow, sigmoid
from .layers import dot
from ..schedules import lr_at, schedule_params

MAX_LAYER_SERIES = 64

DIAG_SERIES = series.CHAIN_DIAG
PRODUCT_SERIES = series.CHAIN_PRODUCT


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def diag_grads(a, b, x1, x2, n, h, delta_norm):
    """Backprop through the depth-n tied chain: returns (s, ∂s/∂a, ∂s/∂b) and fills
    delta_norm[i] = ‖∂s/∂h_{i+1}‖ for i < min(n, len(delta_norm)). h: scratch (n+1, 2)."""
    h[0, 0] = x1
    h[0, 1] = x2
    for i in range(1, n + 1):
        h[i, 0] = a * h[i - 1, 0]
        h[i, 1] = b * h[i - 1, 1]
    s = h[n, 0] + h[n, 1]
    d1 = 1.0
    d2 = 1.0
    ga = 0.0
    gb = 0.0
    for i in range(n, 0, -1):     # δ_i = ∂s/∂h_i; layer i−1 maps h_{i−1} to h_i
        if i - 1 < delta_norm.shape[0]:
            delta_norm[i - 1] = np.sqrt(d1 * d1 + d2 * d2)
        ga += d1 * h[i - 1, 0]
        gb += d2 * h[i - 1, 1]
        d1 *= a
        d2 *= b
    return s, ga, gb


@njit(cache=True, nogil=True, error_model="numpy")
def diag_records(n, k0, a, b, x1, x2, target, nl, out, h, dn):
    """Records k0 .. k0+n−1 (depths k0+1 ..); returns n, or −m at the first non-finite one."""
    for k in range(n):
        depth = k0 + k + 1
        for i in range(nl):
            dn[i] = np.nan
        s, ca, cb = diag_grads(a, b, x1, x2, depth, h, dn)
        y = sigmoid(s)
        sp = y * (1.0 - y)
        ga = sp * ca
        gb = sp * cb
        cla = sp * depth * ipow(a, depth - 1) * x1
        clb = sp * depth * ipow(b, depth - 1) * x2
        err = 0.0
        for g, c in ((ga, cla), (gb, clb)):
            den = max(abs(g), abs(c))
            if den > 0.0:
                err = max(err, abs(g - c) / den)
        r = y - target
        out[0, k] = 0.5 * (r * r)      # numba's `** 2` (libm's pow can differ)
        out[1, k] = y
        out[2, k] = s
        out[3, k] = ga
        out[4, k] = gb
        out[5, k] = cla
        out[6, k] = clb
        out[7, k] = err
        out[8, k] = np.sqrt(ca * ca + cb * cb)
        out[9, k] = sp
        out[10, k] = depth
        for i in range(nl):
            out[11 + i, k] = dn[i]
        if not (np.isfinite(s) and np.isfinite(out[8, k])):
            return -(k + 1)
    return n


@njit(inline="always", cache=True, nogil=True, error_model="numpy")
def product_loss_grad(x, target, w, g):
    """½(x Π w − target)² and its gradient g_i = (ŷ − t)·x·Π_{j≠i} w_j (prefix/suffix
    products, no division, so a zero weight is fine). Returns (loss, ŷ)."""
    l = w.shape[0]
    pre = 1.0
    for i in range(l):
        g[i] = pre
        pre *= w[i]
    yhat = x * pre
    r = yhat - target
    suf = 1.0
    for i in range(l - 1, -1, -1):
        g[i] *= suf * r * x
        suf *= w[i]
    return 0.5 * r * r, yhat


@njit(cache=True, nogil=True, error_model="numpy")
def product_steps(n, t0, x, target, w, V, sv, op, ocode, scode, sp, scale, nl, g, wprev, out):
    """Training steps t0 .. t0+n−1 of the product chain; returns n or −m on divergence."""
    l = w.shape[0]
    gnew = np.zeros(l)
    for k in range(n):
        t = t0 + k
        loss, yhat = product_loss_grad(x, target, w, g)
        lr = lr_at(scode, sp, op[0], t) * scale
        gn = np.sqrt(dot(g, g))
        out[0, k] = loss
        out[1, k] = gn
        out[2, k] = lr
        out[3, k] = np.sqrt(dot(w, w))
        out[4, k] = yhat
        for i in range(nl):
            out[8 + i, k] = abs(g[i])
        if not (np.isfinite(loss) and np.isfinite(gn)):
            for r in (5, 6, 7):
                out[r, k] = np.nan
            for i in range(nl):
                out[8 + nl + i, k] = np.nan
            return -(k + 1)
        for i in range(l):
            wprev[i] = w[i]
        first_order_update(ocode, op, V, sv, w, g, lr)
        pred = 0.0
        for i in range(l):
            pred += g[i] * (w[i] - wprev[i])
        new_loss, _ = product_loss_grad(x, target, w, gnew)
        actual = new_loss - loss
        out[5, k] = pred
        out[6, k] = actual
        out[7, k] = abs(actual - pred) / abs(pred) if pred != 0.0 else np.nan
        for i in range(nl):
            out[8 + nl + i, k] = (abs(w[i] - wprev[i]) / abs(wprev[i]) if wprev[i] != 0.0
                                  else np.nan)
    return n


def account_records(stepper, got: int) -> tuple[int, int | None]:
    """The kernels return how many records they wrote, negated when the last one went
    non-finite: count them on the stepper and note where it diverged. Returns (m, diverged_at)."""
    m = abs(int(got))
    div = None
    if got < 0:
        div = stepper.steps_done + m - 1
        stepper.diverged_at = div
    stepper.steps_done += m
    return m, div


class ChainStepper:
    """Stepper of problem type "chain" (see the module docstring for what a record is).

    diag series: loss, y, s, grad.a, grad.b, closed.a, closed.b, grad_err, grad_norm,
    sigma_prime, depth, layer.i.grad_norm (i < min(steps, 64)).
    product series: loss, grad_norm, lr, param_norm, output, predicted_change,
    actual_change, taylor_gap, layer.i.grad_norm, layer.i.update_ratio (i < min(depth, 64)).
    """

    def __init__(self, problem: Mapping, run: Mapping, steps: int, seed: int):
        problem = catalog.complete(catalog.CHAIN_PROBLEM, problem)
        run = catalog.complete(catalog.CHAIN_RUN, run)
        self.model = problem["model"]
        self.steps = int(steps)
        x = [float(v) for v in problem["x"]]
        self.x = x + [1.0] * (2 - len(x))
        self.target = float(problem["target"])
        self.steps_done = 0
        self.diverged_at: int | None = None
        self.scale = 1.0
        if self.model == "diag":
            self.a = float(problem["a"] if run["a"] is None else run["a"])
            self.b = float(problem["b"] if run["b"] is None else run["b"])
            self.nl = min(self.steps, MAX_LAYER_SERIES)
            self.h = np.zeros((self.steps + 1, 2))
            self.dn = np.zeros(self.nl)
            self.series_names = DIAG_SERIES + tuple(f"layer.{i}.grad_norm"
                                                    for i in range(self.nl))
        elif self.model == "product":
            depth = int(run["depth"])
            self.code, self.op = optimizer_params(run)
            if self.code in (NEWTON, LBFGS):
                raise ValueError("the product chain takes first-order optimizers only")
            self.V, self.sv = init_state(self.code, self.op, depth)
            self.scode, self.sp = schedule_params(run.get("schedule"), self.steps)
            self.w = np.full(depth, float(problem["w0"]))
            self.g = np.zeros(depth)
            self.wprev = np.zeros(depth)
            self.nl = min(depth, MAX_LAYER_SERIES)
            self.series_names = (PRODUCT_SERIES
                                 + tuple(f"layer.{i}.grad_norm" for i in range(self.nl))
                                 + tuple(f"layer.{i}.update_ratio" for i in range(self.nl)))
        else:
            raise ValueError(f"unknown chain model {self.model!r} (expected diag or product)")

    def advance(self, n: int) -> tuple[dict[str, np.ndarray], int | None]:
        if self.diverged_at is not None or n <= 0:
            return {name: np.empty(0) for name in self.series_names}, None
        out = np.empty((len(self.series_names), int(n)))
        if self.model == "diag":
            if self.steps_done + n + 1 > self.h.shape[0]:
                self.h = np.zeros((self.steps_done + n + 1, 2))
            got = diag_records(int(n), self.steps_done, self.a, self.b, self.x[0], self.x[1],
                               self.target, self.nl, out, self.h, self.dn)
        else:
            got = product_steps(int(n), self.steps_done, self.x[0], self.target, self.w, self.V,
                                self.sv, self.op, self.code, self.scode, self.sp, self.scale,
                                self.nl, self.g, self.wprev, out)
        m, div = account_records(self, got)
        return {name: out[i, :m].copy() for i, name in enumerate(self.series_names)}, div

    def snapshots(self) -> dict[str, np.ndarray]:
        return {}

    def set_lr_scale(self, scale: float) -> None:
        self.scale = float(scale)


def warm_up_chain() -> None:
    """Compile (or load) both chain kernels."""
    ChainStepper({"model": "diag"}, {}, 3, 0).advance(3)
    ChainStepper({"model": "product"}, {"depth": 3, "optimizer": "momentum", "lr": 0.1},
                 3, 0).advance(3)
