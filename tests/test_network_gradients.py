"""Backprop against central differences: every layer, activation, loss, batch norm in training
mode, dropout and DropConnect with a fixed mask, skip connections, and the whole network."""

import numpy as np
import pytest

from tui_optim.engine.network import codes as C
from tui_optim.engine.network.init import init_params
from tui_optim.engine.network.layers import (act_backward, act_forward, bn_backward,
                                             bn_forward_train, dense_backward, dense_forward,
                                             tanh)
from tui_optim.engine.network.losses import loss_and_grad
from tui_optim.engine.network.model import (Layout, l2_penalty, load_range, loss_grad_linked,
                                            sample_masks)
from tui_optim.engine.rng import seed_state

H = 1e-6
TOL = 1e-6


def rel_err(a, b):
    a, b = np.ravel(a), np.ravel(b)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else np.linalg.norm(a - b) / den


def numgrad(f, x):
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + H
        fp = f()
        flat[i] = old - H
        fm = f()
        flat[i] = old
        gf[i] = (fp - fm) / (2 * H)
    return g


def test_dense_layer():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    R = rng.standard_normal((5, 4))
    z = np.zeros((5, 4))

    def f():
        dense_forward(x, w, b, z)
        return np.sum(z * R)

    dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    f()
    dense_backward(x, w, R, dx, dw, db, True)
    for analytic, arr in ((dx, x), (dw, w), (db, b)):
        assert rel_err(analytic, numgrad(f, arr)) < TOL


def test_batch_norm_training_mode():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 4)) * 3 + 1
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    R = rng.standard_normal((6, 4))
    zh, u, mu, inv = np.zeros((6, 4)), np.zeros((6, 4)), np.zeros(4), np.zeros(4)

    def f():
        bn_forward_train(z, gamma, beta, 1e-5, zh, u, mu, inv)
        return np.sum(u * R)

    f()
    dz, dg, dbt = np.zeros_like(z), np.zeros(4), np.zeros(4)
    bn_backward(R, zh, gamma, inv, dz, dg, dbt)
    assert rel_err(dz, numgrad(f, z)) < TOL
    assert rel_err(dg, numgrad(f, gamma)) < TOL
    assert rel_err(dbt, numgrad(f, beta)) < TOL


@pytest.mark.parametrize("act", sorted(C.ACTIVATIONS))
@pytest.mark.parametrize("use_mask", [False, True])
def test_activation(act, use_mask):
    code = C.ACTIVATIONS[act]
    k = 3 if code == C.MAXOUT else 1
    rng = np.random.default_rng(2)
    m, n = 5, 4
    u = rng.standard_normal((m, n * k))
    u[np.abs(u) < 1e-3] += 0.01          # keep away from the kinks
    slope = rng.uniform(0.1, 0.3, n)
    mask = (rng.uniform(size=(m, n)) > 0.3) / 0.7
    R = rng.standard_normal((m, n))
    a, h = np.zeros((m, n)), np.zeros((m, n))
    arg = np.zeros((m, n), dtype=np.int64)
    xin = np.zeros((m, n))

    def f():
        act_forward(code, u, a, h, xin, mask, arg, slope, k, 0.05, 1.3, use_mask, False)
        return np.sum(h * R)

    f()
    du, dslope = np.zeros_like(u), np.zeros(n)
    act_backward(code, u, a, R, du, mask, arg, slope, dslope, k, 0.05, 1.3, use_mask)
    assert rel_err(du, numgrad(f, u)) < TOL
    if code == C.PRELU:
        assert rel_err(dslope, numgrad(f, slope)) < TOL


def test_tanh_matches_numpy_to_two_ulp():
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.standard_normal(5000) * 3, rng.standard_normal(1000) * 1e-4,
                         np.linspace(-25, 25, 2001), [0.0, 1e-300, 19.9, 20.1, 700.0, -700.0]])
    ours = np.array([tanh(x) for x in xs])
    ref = np.tanh(xs)
    assert np.all(np.abs(ours - ref) <= 2 * np.spacing(np.abs(ref)))


@pytest.mark.parametrize("loss", sorted(C.LOSSES))
def test_losses(loss):
    code = C.LOSSES[loss]
    rng = np.random.default_rng(4)
    for ncls, c in ((3, 3), (2, 1), (0, 2)):
        if code == C.CROSS_ENTROPY and c != ncls:
            continue
        if code != C.MSE and ncls == 0:
            continue
        z = rng.standard_normal((6, c)) * 2
        y = (rng.integers(0, max(ncls, 1), (6, 1)).astype(float) if ncls
             else rng.standard_normal((6, c)))
        dz = np.zeros_like(z)
        loss_and_grad(code, z, y, dz, ncls, True)
        f = lambda: loss_and_grad(code, z, y, np.zeros_like(z), ncls, False)
        assert rel_err(dz, numgrad(f, z)) < TOL


def _network_error(act=C.TANH, bn=False, skip=False, loss=C.CROSS_ENTROPY, dropout=0.0,
                   dropconnect=0.0, wd=0.0, pieces=2, hidden=(5, 5), mode=C.TRAIN):
    m, ncls = 7, (2 if loss == C.BCE else 3)
    d_out = 1 if loss == C.BCE else 3
    lay = Layout(3, list(hidden), d_out, act, pieces=pieces, batch_norm=bn, skip=skip, cap=m)
    buf, ibuf, bns = lay.buffers()
    theta = np.zeros(lay.n_params)
    rng = seed_state(5)
    init_params(lay.spec, theta, C.I_XAVIER, 0.0, 0.0, 3, 0.1, 0.2, rng)
    theta += 0.05 * np.random.default_rng(6).standard_normal(theta.size)
    fh = np.array([0.05, 1.0, dropout, dropconnect, wd, 0.9, 1e-5])
    X = np.random.default_rng(7).standard_normal((m, 3))
    Y = np.random.default_rng(8).integers(0, ncls, (m, 1)).astype(float)
    yb = np.zeros((m, 1))
    load_range(lay.spec, buf, X, Y, yb, 0, m)
    sample_masks(lay.spec, fh, buf, rng, m)     # one fixed mask for every evaluation

    def f():
        return (loss_grad_linked(lay.spec, theta, np.zeros_like(theta), fh, buf, ibuf, bns, yb, m,
                                 mode, False, loss, ncls, False) + l2_penalty(lay.spec, theta, wd))

    g = np.zeros_like(theta)
    loss_grad_linked(lay.spec, theta, g, fh, buf, ibuf, bns, yb, m, mode, False, loss, ncls, True)
    return rel_err(g, numgrad(f, theta))


@pytest.mark.parametrize("act", sorted(C.ACTIVATIONS))
def test_network_every_activation(act):
    assert _network_error(act=C.ACTIVATIONS[act]) < TOL


@pytest.mark.parametrize("loss", sorted(C.LOSSES))
def test_network_every_loss(loss):
    assert _network_error(loss=C.LOSSES[loss]) < TOL


@pytest.mark.parametrize("kw", [
    dict(bn=True), dict(bn=True, act=C.MAXOUT, pieces=3), dict(bn=True, mode=C.PROBE),
    dict(dropout=0.5), dict(dropconnect=0.3), dict(skip=True, hidden=(5, 5, 5)),
    dict(wd=0.1), dict(act=C.PRELU, bn=True, skip=True, dropout=0.3, dropconnect=0.2, wd=0.01),
])
def test_network_features(kw):
    assert _network_error(**kw) < TOL


def test_no_hidden_layer():
    assert _network_error(hidden=()) < TOL
