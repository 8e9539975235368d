"""Network training throughput (run by hand): numba kernel against NumPy (and PyTorch CPU).

    python bench/bench_network.py [--quick]

Cases (float64, exact tanh, momentum SGD, every sample of every epoch):
  small  2-64-64-3 tanh MLP on the spiral (900 points, minibatch 32, 100 epochs)
  bn     the same with batch norm after each hidden layer
  large  784-256-256-10 tanh MLP, minibatch 128, on random Gaussian data
The NumPy and PyTorch versions implement the same network and update, as a user would write
them (a Python loop over minibatches). The numba figure is NetworkStepper.advance, which also
records every per-step metric (per-layer gradient norms, update ratios, activation statistics).
BLAS runs on one thread for all of them (the machine this was written on has 2 shared cores).
Also: cold compile of every network kernel (a subprocess with a fresh NUMBA_CACHE_DIR) and the
load from the cache (a second subprocess).

Measured 2026-11-22 on 2 shared cores (load average 2-3 from other work; +-30 %):
  small  numba 361 k samples/s, NumPy 232 k (1.55x), PyTorch 2.13 CPU 52 k (6.9x)
  bn     numba 288 k, NumPy 100 k (2.9x), PyTorch 33 k (8.8x)
  large  numba 15.1 k, NumPy 14.6 k (1.04x), PyTorch 14.8 k
  compile: cold 76 s wall (~70 s CPU), from the cache 1.5 s including numba's own import
  (0.7 s for the kernels alone).
Measured 2026-11-22 01:43-01:47, load average 3 on the 2 cores (so wall >> CPU), warm_up():
  before (2080b4e): cold 86 s wall / 62 s CPU, cached 3.4 s wall / 2.2 s CPU
  after (init in NumPy, one snapshot kernel, evaluate inlined, no inline nl()): cold 75 s wall /
  58 s CPU, cached 2.9 to 3.1 s wall / 1.9 s CPU; warm_up("network") cold 52 s wall / 49.5 s
  CPU, cached 2.1 s wall; warm_up("chain") cold 7.7 s, cached 2.1 s.
  quick run then: small 299 k vs NumPy 164 k (1.83x), bn 211 k vs 75 k (2.8x), large 18.3 k vs
  16.0 k (1.14x).
  At 01:56-01:59 (load average 1, so wall ≈ CPU), after also running the snapshot inside
  train_steps and inlining loss_grad: warm_up() cold 51.1 s (2080b4e) -> 45.0 s wall (45.2 s
  CPU); warm_up("network") 45.5 s, warm_up("chain") 7.3 s; cached 1.97 s -> 1.84 s wall.
  The 15 s cold target is not met: see below for where the time goes.
  Where a cached load goes: ~1.0 s is numba's own first-use set-up (load_additional_registries;
  its BLAS check imports scipy.linalg, 0.6 s), ~0.6 s importing numba; the kernels load in ~0.3 s.
  Where a cold compile goes (cProfile): ~70 % in numba's Python front end (typing, lowering,
  SSA and reaching-definition passes that grow faster than linearly with a function's size,
  IR copies for every inline="always" call site: ~45 ms per site for a one-line helper) and
  ~30 % in LLVM, where each compiled function that calls forward/backward links their code in
  and optimizes and codegens it again (histograms and predict_grid as separate kernels cost
  3 to 4 s each mostly for that). Inlining forward and backward into loss_grad (one function)
  made it slower (35 s against 19 s), as did moving the occasional instruments (evaluate,
  sharpness, gradient check) into a kernel of their own: both were measured and not kept.
"""

from __future__ import annotations

import os

# One BLAS thread for every contestant (set before NumPy loads): on 2 shared cores a threaded
# BLAS spins against the other processes and the small products get no faster anyway.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_optim.engine.network.datasets import load  # noqa: E402
from tui_optim.engine.network.stepper import NetworkStepper, warm_up  # noqa: E402

LR, MOM = 0.1, 0.9


def numpy_train(X, y, widths, bs, steps, bn, seed=0):
    """The same MLP in NumPy: tanh hidden layers (optional batch norm), softmax CE, momentum."""
    rng = np.random.default_rng(seed)
    L = len(widths) - 1
    W = [rng.standard_normal((widths[i], widths[i + 1])) / np.sqrt(widths[i]) for i in range(L)]
    b = [np.zeros(widths[i + 1]) for i in range(L)]
    g = [np.ones(widths[i + 1]) for i in range(L - 1)]
    be = [np.zeros(widths[i + 1]) for i in range(L - 1)]
    params = W + b + (g + be if bn else [])
    vel = [np.zeros_like(p) for p in params]
    n = X.shape[0]
    perm = rng.permutation(n)
    pos = n
    yi = y.astype(int)
    for _ in range(steps):
        if pos + bs > n:
            perm = rng.permutation(n)
            pos = 0
        idx = perm[pos:pos + bs]
        pos += bs
        h = X[idx]
        t = yi[idx]
        cache = []
        for i in range(L - 1):
            z = h @ W[i] + b[i]
            if bn:
                mu = z.mean(axis=0)
                var = z.var(axis=0)
                inv = 1.0 / np.sqrt(var + 1e-5)
                zh = (z - mu) * inv
                u = g[i] * zh + be[i]
            else:
                zh, inv, u = None, None, z
            a = np.tanh(u)
            cache.append((h, zh, inv, a))
            h = a
        z = h @ W[L - 1] + b[L - 1]
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        dz = p
        dz[np.arange(bs), t] -= 1.0
        dz /= bs
        gW = [None] * L
        gb = [None] * L
        gg = [None] * (L - 1)
        gbe = [None] * (L - 1)
        gW[L - 1] = h.T @ dz
        gb[L - 1] = dz.sum(axis=0)
        dh = dz @ W[L - 1].T
        for i in range(L - 2, -1, -1):
            x_in, zh, inv, a = cache[i]
            du = dh * (1.0 - a * a)
            if bn:
                gg[i] = (du * zh).sum(axis=0)
                gbe[i] = du.sum(axis=0)
                dzh = du * g[i]
                dz = inv / bs * (bs * dzh - dzh.sum(axis=0) - zh * (dzh * zh).sum(axis=0))
            else:
                dz = du
            gW[i] = x_in.T @ dz
            gb[i] = dz.sum(axis=0)
            if i > 0:
                dh = dz @ W[i].T
        grads = gW + gb + (gg + gbe if bn else [])
        for p_, v_, gr in zip(params, vel, grads):
            v_ *= MOM
            v_ -= LR * gr
            p_ += v_


def torch_train(X, y, widths, bs, steps, bn, seed=0):
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    layers = []
    for i in range(len(widths) - 2):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if bn:
            layers.append(torch.nn.BatchNorm1d(widths[i + 1], momentum=0.1))
        layers.append(torch.nn.Tanh())
    layers.append(torch.nn.Linear(widths[-2], widths[-1]))
    net = torch.nn.Sequential(*layers).double()
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOM)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y.astype(np.int64))
    n = X.shape[0]
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    pos = n
    lossf = torch.nn.CrossEntropyLoss()
    for _ in range(steps):
        if pos + bs > n:
            perm = torch.randperm(n, generator=g)
            pos = 0
        idx = perm[pos:pos + bs]
        pos += bs
        opt.zero_grad()
        loss = lossf(net(Xt[idx]), yt[idx])
        loss.backward()
        opt.step()


def numba_train(problem, widths, bs, steps, bn):
    run = {"layers": widths[1:-1], "activation": "tanh", "init": "xavier",
           "optimizer": "momentum", "lr": LR, "momentum": MOM, "batch_size": bs,
           "batch_norm": bn, "eval_every": 10 ** 9}
    s = NetworkStepper(problem, run, steps, 0)
    s.advance(2)                                   # compiled already; touch the buffers
    t = time.perf_counter()
    s.advance(steps)
    return time.perf_counter() - t


def timed(f, *a):
    t = time.perf_counter()
    f(*a)
    return time.perf_counter() - t


def compile_times():
    code = ("import time; t = time.perf_counter(); "
            "from tui_optim.engine.network.stepper import warm_up; warm_up(); "
            "print(time.perf_counter() - t)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as d:
        env["NUMBA_CACHE_DIR"] = d
        out = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True)
            out.append(float(r.stdout.strip().splitlines()[-1]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer steps, no compile timing")
    ap.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    warm_up()
    spiral = {"type": "network", "dataset": "spiral", "n_samples": 900, "val_fraction": 0.0}
    large = {"type": "network", "dataset": "gaussian", "dim": 784, "classes": 10,
             "n_samples": 128 * 40, "val_fraction": 0.0}
    cases = [("small 2-64-64-3 tanh, batch 32", spiral, [2, 64, 64, 3], 32, False, 100),
             ("bn    2-64-64-3 tanh + BN, batch 32", spiral, [2, 64, 64, 3], 32, True, 100),
             ("large 784-256-256-10 tanh, batch 128", large, [784, 256, 256, 10], 128, False, 5)]
    print(f"{'case':40s} {'numba':>12s} {'numpy':>12s} {'torch':>12s}  numba/numpy  numba/torch")
    for name, problem, widths, bs, bn, epochs in cases:
        data = load(problem)
        X, y = data.X_train, data.Y_train[:, 0]
        steps = epochs * (X.shape[0] // bs)
        if args.quick:
            steps = max(steps // 10, 20)
        samples = steps * bs
        t_nb = min(numba_train(problem, widths, bs, steps, bn) for _ in range(args.repeat))
        t_np = min(timed(numpy_train, X, y, widths, bs, steps, bn) for _ in range(args.repeat))
        t_th = (min(timed(torch_train, X, y, widths, bs, steps, bn) for _ in range(args.repeat))
                if have_torch else float("nan"))
        r = [samples / t for t in (t_nb, t_np, t_th)]
        print(f"{name:40s} {r[0]:10.0f}/s {r[1]:10.0f}/s {r[2]:10.0f}/s  "
              f"{r[0] / r[1]:10.2f}x  {r[0] / r[2]:10.2f}x", flush=True)
    if not args.quick:
        cold, cached = compile_times()
        print(f"compile every network kernel: cold {cold:.1f} s (fresh NUMBA_CACHE_DIR), "
              f"from cache {cached:.2f} s")


if __name__ == "__main__":
    main()
