"""Batch-norm semantics, initial statistics, data sets and the CSV reader."""

import numpy as np
import pytest

from tui_optim.engine.network import codes as C
from tui_optim.engine.network.datasets import DataError, load, read_csv
from tui_optim.engine.network.init import init_params
from tui_optim.engine.network.layers import bn_forward_train, bn_update_running
from tui_optim.engine.network.model import Layout, forward, load_range
from tui_optim.engine.rng import seed_state


def _bn_net(cap):
    lay = Layout(3, [6], 2, C.TANH, batch_norm=True, cap=cap)
    buf, ibuf, bns = lay.buffers()
    theta = np.zeros(lay.n_params)
    init_params(lay.spec, theta, C.I_XAVIER, 0.0, 0.0, 1, 0.0, 0.0, seed_state(0))
    theta += 0.1 * np.random.default_rng(1).standard_normal(theta.size)
    fh = np.array([0.01, 1.0, 0.0, 0.0, 0.0, 0.9, 1e-5])
    return lay, buf, ibuf, bns, theta, fh


def _outputs(lay, buf, ibuf, bns, theta, fh, X, mode):
    m = X.shape[0]
    load_range(lay.spec, buf, X, np.zeros((m, 1)), np.zeros((m, 1)), 0, m)
    forward(lay.spec, theta, fh, buf, ibuf, bns, m, mode, False)
    r = lay.spec[-1]
    return buf[r[C.Z]:r[C.Z] + m * 2].reshape(m, 2).copy()


def test_bn_eval_output_does_not_depend_on_the_batch():
    lay, buf, ibuf, bns, theta, fh = _bn_net(8)
    rng = np.random.default_rng(2)
    s = lay.spec[0, C.BNS]
    bns[s:s + 6] = rng.standard_normal(6)          # some running statistics
    bns[s + 6:s + 12] = rng.uniform(0.5, 2.0, 6)
    x0 = rng.standard_normal((1, 3))
    alone = _outputs(lay, buf, ibuf, bns, theta, fh, x0, C.EVAL)[0]
    for _ in range(3):
        batch = np.vstack([x0, rng.standard_normal((7, 3)) * 5])
        # equal up to BLAS rounding (the matrix product blocks differently per batch size)
        np.testing.assert_allclose(_outputs(lay, buf, ibuf, bns, theta, fh, batch, C.EVAL)[0],
                                   alone, rtol=1e-13, atol=1e-15)
    # in training mode it does depend on the others
    b1 = np.vstack([x0, rng.standard_normal((7, 3))])
    b2 = np.vstack([x0, rng.standard_normal((7, 3)) * 5])
    assert not np.allclose(_outputs(lay, buf, ibuf, bns, theta, fh, b1, C.TRAIN)[0],
                           _outputs(lay, buf, ibuf, bns, theta, fh, b2, C.TRAIN)[0])


def test_bn_running_averages_move_with_the_momentum():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((50, 4)) * 2 + 3
    zh, u, mu, inv = np.zeros_like(z), np.zeros_like(z), np.zeros(4), np.zeros(4)
    bn_forward_train(z, np.ones(4), np.zeros(4), 1e-5, zh, u, mu, inv)
    np.testing.assert_allclose(u.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(u.std(axis=0), 1, rtol=1e-5)
    rm, rv = np.full(4, 0.5), np.full(4, 2.0)
    bn_update_running(mu, inv, 1e-5, rm, rv, 0.9)
    np.testing.assert_allclose(rm, 0.9 * 0.5 + 0.1 * z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.9 * 2.0 + 0.1 * z.var(axis=0), rtol=1e-9)


def test_bn_training_forward_updates_running_stats_only_when_asked():
    lay, buf, ibuf, bns, theta, fh = _bn_net(16)
    X = np.random.default_rng(4).standard_normal((16, 3))
    before = bns.copy()
    m = 16
    load_range(lay.spec, buf, X, np.zeros((m, 1)), np.zeros((m, 1)), 0, m)
    forward(lay.spec, theta, fh, buf, ibuf, bns, m, C.TRAIN, False)
    np.testing.assert_array_equal(bns[:12], before[:12])
    forward(lay.spec, theta, fh, buf, ibuf, bns, m, C.TRAIN, True)
    assert not np.array_equal(bns[:12], before[:12])


def _weights(init, m=400, n=300, **kw):
    lay = Layout(m, [n], 2, C.TANH, cap=1)
    theta = np.zeros(lay.n_params)
    init_params(lay.spec, theta, C.INITS[init], kw.get("std", 0.01), kw.get("scale", 0.1),
                kw.get("k", 15), kw.get("bias", 0.0), 0.25, seed_state(kw.get("seed", 0)))
    r = lay.spec[0]
    return theta[r[C.W]:r[C.W] + m * n].reshape(m, n), theta[r[C.B]:r[C.B] + n]


@pytest.mark.parametrize("init,mean,std", [
    ("normal", 0.0, 0.01), ("xavier", 0.0, np.sqrt(1 / 400)), ("he", 0.0, np.sqrt(2 / 400)),
    ("uniform", 0.0, 0.1 / np.sqrt(3)), ("normalized", 0.0, np.sqrt(6 / 700) / np.sqrt(3)),
])
def test_init_statistics(init, mean, std):
    W, _ = _weights(init)
    assert abs(W.mean() - mean) < 4 * std / np.sqrt(W.size)
    assert abs(W.std() / std - 1) < 0.01


def test_init_bounds_constant_zeros_bias():
    W, b = _weights("uniform", scale=0.3)
    assert W.max() <= 0.3 and W.min() >= -0.3
    W, b = _weights("normalized")
    assert np.abs(W).max() <= np.sqrt(6 / 700)
    W, b = _weights("constant", scale=0.7, bias=0.1)
    assert np.all(W == 0.7) and np.all(b == 0.1)
    W, b = _weights("zeros")
    assert np.all(W == 0) and np.all(b == 0)


def test_sparse_init_has_k_nonzero_per_unit():
    W, _ = _weights("sparse", k=15)
    assert np.all((W != 0).sum(axis=0) == 15)
    nz = W[W != 0]
    assert abs(nz.std() * np.sqrt(15) - 1) < 0.05


def test_init_is_seeded():
    a, _ = _weights("xavier", seed=1)
    b, _ = _weights("xavier", seed=1)
    c, _ = _weights("xavier", seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("name,dim,classes", [
    ("spiral", 2, 3), ("circles", 2, 2), ("xor", 2, 2), ("moons", 2, 2), ("blobs", 5, 4),
    ("gaussian", 20, 3), ("linear", 4, 0), ("polynomial", 1, 0),
])
def test_datasets_seeded_and_shaped(name, dim, classes):
    p = {"dataset": name, "n_samples": 300, "dim": dim, "val_fraction": 0.2}
    if classes:
        p["classes"] = classes
    d = load(p)
    assert d.X_train.shape == (240, dim) and d.X_val.shape == (60, dim)
    assert d.Y_train.shape == (240, 1) and d.n_classes == classes
    if classes:
        labels = np.concatenate([d.Y_train[:, 0], d.Y_val[:, 0]])
        assert set(np.unique(labels)) == set(range(classes))
    again = load(p)
    assert np.array_equal(d.X_train, again.X_train) and np.array_equal(d.Y_val, again.Y_val)
    other = load({**p, "data_seed": 1})
    assert not np.array_equal(d.X_train, other.X_train)


def test_standardize_uses_training_statistics():
    d = load({"dataset": "linear", "dim": 3, "standardize": True})
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, rtol=1e-12)


def test_csv_reads_classes_and_regression(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n\n7,8,dog\n")
    X, Y, ncls = read_csv(str(f), "label")
    assert X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and ncls == 2
    assert Y[:, 0].tolist() == [0, 1, 0, 1]
    f.write_text("x,y\n1,0.5\n2,1.5\n")
    X, Y, ncls = read_csv(str(f), "y")
    assert ncls == 0 and Y[:, 0].tolist() == [0.5, 1.5]
    d = load({"dataset": "csv", "path": "d.csv", "label": "y", "base_dir": str(tmp_path),
              "val_fraction": 0.0})
    assert d.X_train.shape == (2, 1)


@pytest.mark.parametrize("text,where,what", [
    ("a,b,label\n1,2,0\n3,x,1\n", ":3:", "'x' is not a number"),
    ("a,b,label\n1,2,0\n3,4\n", ":3:", "expected 3 fields, found 2"),
    ("a,b,label\n1,nan,0\n", ":2:", "not finite"),
    ("a,b\n1,2\n", ":1:", "no column named 'label'"),
    ("", ":1:", "empty CSV"),
])
def test_csv_errors_name_file_and_line(tmp_path, text, where, what):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(DataError) as e:
        read_csv(str(f), "label")
    msg = str(e.value)
    assert msg.startswith(str(f) + where) and what in msg


def test_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_csv(str(tmp_path / "nope.csv"), "label")


def test_fixed_order_products_equal_a_sequential_reference_bit_for_bit():
    """The network's matrix products sum in index order, whatever the CPU (BLAS does not):
    equal to a plain Python running sum, bit for bit, and to np.dot within rounding."""
    from tui_optim.engine.network.layers import dot, matmul, matmul_nt, matmul_tn

    rng = np.random.default_rng(7)
    for m, p, n in [(1, 1, 1), (3, 5, 2), (4, 7, 9), (9, 4, 6), (32, 64, 3)]:
        a, b = rng.standard_normal((m, p)), rng.standard_normal((p, n))
        ref = np.zeros((m, n))
        for i in range(m):
            for j in range(n):
                s = 0.0
                for k in range(p):
                    s += a[i, k] * b[k, j]
                ref[i, j] = s
        out = np.empty((m, n))
        matmul(a, b, out)
        assert np.array_equal(out, ref)
        np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
        out_tn = np.empty((m, n))
        matmul_tn(np.ascontiguousarray(a.T), b, out_tn)         # (aᵀ)ᵀ b = a b
        assert np.array_equal(out_tn, ref)
        out_nt = np.empty((m, n))
        matmul_nt(a, np.ascontiguousarray(b.T), out_nt)         # a (bᵀ)ᵀ = a b
        assert np.array_equal(out_nt, ref)
    v, w = rng.standard_normal(33), rng.standard_normal(33)
    s = 0.0
    for x, y in zip(v, w):
        s += x * y
    assert dot(v, w) == s
