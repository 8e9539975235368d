"""ChainStepper (curriculum 18): the diagonal chain's gradient against its closed form, and the
first-order prediction of a step's effect drifting from the real change as depth grows."""

import numpy as np
import pytest

from tui_optim.engine.network.chain import ChainStepper, product_loss_grad


def sigma(s):
    return 1 / (1 + np.exp(-s))


@pytest.mark.parametrize("a,b,x", [(1.0, 2.0, (1.0, 1.0)), (0.5, 0.9, (0.3, -0.7)),
                                   (1.1, 0.95, (0.01, 0.02))])
def test_diag_gradient_equals_closed_form(a, b, x):
    s = ChainStepper({"model": "diag", "a": a, "b": b, "x": list(x)}, {}, 30, 0)
    series, div = s.advance(30)
    assert div is None
    n = np.arange(1, 31)
    pre = a ** n * x[0] + b ** n * x[1]
    sp = sigma(pre) * (1 - sigma(pre))
    np.testing.assert_allclose(series["s"], pre, rtol=1e-13)
    np.testing.assert_allclose(series["grad.a"], sp * n * a ** (n - 1) * x[0], rtol=1e-12,
                               atol=1e-300)
    np.testing.assert_allclose(series["grad.b"], sp * n * b ** (n - 1) * x[1], rtol=1e-12,
                               atol=1e-300)
    assert np.all(series["grad_err"] < 1e-12)
    lin = np.hypot(n * a ** (n - 1) * x[0], n * b ** (n - 1) * x[1])
    np.testing.assert_allclose(series["grad_norm"], lin, rtol=1e-12)


def test_diag_explodes_and_vanishes_per_layer():
    up, _ = ChainStepper({"model": "diag", "a": 1.0, "b": 2.0}, {}, 40, 0).advance(40)
    down, _ = ChainStepper({"model": "diag", "a": 0.5, "b": 0.9}, {}, 40, 0).advance(40)
    assert up["grad_norm"][39] / up["grad_norm"][9] > 1e8
    assert down["grad_norm"][39] / down["grad_norm"][9] < 0.2
    # record k (depth k+1): the signal reaching layer i is ‖(a^{k−i}, b^{k−i})‖
    k = 20
    for i in (0, 5, 20):
        assert up[f"layer.{i}.grad_norm"][k] == pytest.approx(np.hypot(1.0, 2.0 ** (k - i)))
    assert np.isnan(up["layer.21.grad_norm"][k])


def test_diag_overflow_is_divergence():
    s = ChainStepper({"model": "diag", "a": 1.0, "b": 2.0}, {}, 2000, 0)
    series, div = s.advance(2000)
    assert div is not None and div < 2000 and len(series["s"]) == div + 1


def test_product_gradient_against_differences():
    w = np.array([0.9, 1.2, -0.7, 1.1, 0.0])
    g = np.zeros(5)
    loss, _ = product_loss_grad(1.5, 0.3, w, g)
    num = np.zeros(5)
    for i in range(5):
        e = np.zeros(5)
        e[i] = 1e-6
        num[i] = (product_loss_grad(1.5, 0.3, w + e, np.zeros(5))[0]
                  - product_loss_grad(1.5, 0.3, w - e, np.zeros(5))[0]) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-7, atol=1e-10)


def test_product_first_order_prediction_drifts_with_depth():
    gaps = []
    for depth in (1, 2, 4, 8, 16):
        s = ChainStepper({"model": "product", "x": [1.0, 1.0], "target": 0.0},
                         {"depth": depth, "optimizer": "sgd", "lr": 0.1}, 20, 0)
        series, div = s.advance(20)
        assert div is None
        np.testing.assert_allclose(series["predicted_change"],
                                   -series["lr"] * series["grad_norm"] ** 2, rtol=1e-12)
        gaps.append(series["taylor_gap"][0])
    assert all(b > a for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] > 10 * gaps[0]


def test_product_chunking_and_lr_scale():
    mk = lambda: ChainStepper({"model": "product"}, {"depth": 6, "optimizer": "momentum",
                                                     "lr": 0.05}, 50, 0)
    a = mk().advance(50)[0]
    s = mk()
    parts = [s.advance(n)[0] for n in (3, 17, 30)]
    for k in a:
        np.testing.assert_array_equal(a[k], np.concatenate([p[k] for p in parts]))
    s = mk()
    s.set_lr_scale(0.5)
    assert s.advance(1)[0]["lr"][0] == pytest.approx(0.025)
