"""NetworkStepper: the Stepper contract, determinism, chunking independence, divergence,
snapshots, instruments (gradient check, sharpness)."""

import math

import numpy as np
import pytest

from tui_optim.engine.network import codes as C
from tui_optim.engine.network.stepper import NetworkStepper

SPIRAL = {"type": "network", "dataset": "spiral", "n_samples": 300}
RUN = {"layers": [16, 16], "activation": "tanh", "init": "xavier", "optimizer": "momentum",
       "lr": 0.1, "batch_size": 32, "eval_every": 10}


def run_chunks(problem, run, sizes, seed=0):
    s = NetworkStepper(problem, run, sum(sizes), seed)
    parts = [s.advance(n)[0] for n in sizes]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}, s


def test_series_names_and_lengths():
    s = NetworkStepper(SPIRAL, RUN, 30, 0)
    series, div = s.advance(30)
    assert div is None and s.steps_done == 30
    assert set(series) == set(s.series_names)
    for name in ("loss", "grad_norm", "lr", "param_norm", "val_loss", "accuracy"):
        assert name in series
    for i in range(3):
        for f in ("grad_norm", "update_ratio", "act_mean", "act_std", "preact_std", "dead"):
            assert f"layer.{i}.{f}" in series
    assert "sharpness" not in series and "layer.0.gradcheck" not in series
    assert all(len(v) == 30 for v in series.values())
    assert np.all(series["lr"] == 0.1)
    # validation carried forward between evaluations (every 10 records)
    assert np.all(series["val_loss"][:10] == series["val_loss"][0])
    assert series["val_loss"][10] != series["val_loss"][0]


@pytest.mark.parametrize("run", [
    RUN,
    {**RUN, "batch_norm": True, "dropout": 0.2, "dropconnect": 0.1, "optimizer": "adam",
     "lr": 0.01, "activation": "prelu", "schedule": {"name": "cosine"}, "clip": {"norm": 1.0}},
    {**RUN, "activation": "maxout", "optimizer": "nesterov", "gradcheck_every": 7,
     "sharpness_every": 9, "batch_size": 0},
    {**RUN, "curriculum": 0.5, "curriculum_start": 0.3, "skip": True, "optimizer": "rmsprop",
     "lr": 0.01, "clip": {"value": 0.5}},
    {**RUN, "layers": [8, 8, 8], "pretrain_steps": 7, "pretrain_freeze": True,
     "batch_norm": True, "gradcheck_every": 5, "optimizer": "adam", "lr": 0.01},
])
def test_chunking_independent_and_reproducible(run):
    a, _ = run_chunks(SPIRAL, run, [40])
    b, _ = run_chunks(SPIRAL, run, [1, 3, 7, 13, 16])
    c, _ = run_chunks(SPIRAL, run, [40])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        np.testing.assert_array_equal(a[k], c[k], err_msg=k)
    d, _ = run_chunks(SPIRAL, run, [40], seed=1)
    assert not np.array_equal(a["loss"], d["loss"])


def test_training_learns_the_spiral():
    s = NetworkStepper(SPIRAL, {**RUN, "layers": [32, 32], "eval_every": 100}, 1500, 0)
    series, _ = s.advance(1500)
    assert series["loss"][0] > 1.0
    assert series["accuracy"][-1] > 0.9


def test_divergence_is_reported_not_raised():
    s = NetworkStepper({"type": "network", "dataset": "linear"},
                       {**RUN, "activation": "linear", "loss": "mse", "lr": 1.0,
                        "optimizer": "sgd"}, 2000, 0)
    series, div = s.advance(2000)
    assert div is not None and div == len(series["loss"]) - 1
    assert not math.isfinite(series["loss"][-1]) or not math.isfinite(series["grad_norm"][-1]) \
        or not math.isfinite(series["param_norm"][-1])
    assert np.all(np.isfinite(series["loss"][:-1]))
    more, div2 = s.advance(10)
    assert div2 is None and all(len(v) == 0 for v in more.values())
    assert s.snapshots()  # still answers


def test_initial_loss_is_ln_classes():
    s = NetworkStepper({**SPIRAL, "classes": 5, "n_samples": 500},
                       {**RUN, "init": "normal", "init_std": 0.01}, 1, 0)
    series, _ = s.advance(1)
    assert abs(series["loss"][0] - math.log(5)) < 0.01


def test_lr_scale_and_schedule():
    s = NetworkStepper(SPIRAL, {**RUN, "schedule": {"name": "step", "every": 5, "factor": 0.5}},
                       20, 0)
    a, _ = s.advance(10)
    s.set_lr_scale(2.0)
    b, _ = s.advance(10)
    np.testing.assert_allclose(a["lr"], [0.1] * 5 + [0.05] * 5)
    np.testing.assert_allclose(b["lr"], [0.05] * 5 + [0.025] * 5)


def test_snapshots():
    s = NetworkStepper(SPIRAL, {**RUN, "hist_bins": 20, "hist_range": [-2, 2]}, 10, 0)
    s.advance(10)
    first = s.snapshots()
    np.testing.assert_allclose(first["hist.edges"], np.linspace(-2, 2, 21))
    assert first["data.points"].shape == (300, 2) and first["data.labels"].shape == (300,)
    assert first["boundary.window"].shape == (4,)
    for i in range(3):
        for kind in ("act_hist", "preact_hist"):
            h = first[f"layer.{i}.{kind}"]
            assert h.shape == (22,) and abs(h.sum() - 1) < 1e-9     # 20 bins, under, over
    g = first["boundary"]
    assert g.ndim == 2 and g.shape[0] == g.shape[1] and set(np.unique(g)) <= {0, 1, 2}
    second = s.snapshots()
    assert "hist.edges" not in second and "data.points" not in second
    assert "boundary" in second


def test_batch_norm_histograms_before_and_after():
    run = {**RUN, "batch_norm": True, "init": "normal", "init_std": 3.0, "hist_range": [-6, 6]}
    s = NetworkStepper(SPIRAL, run, 1, 0)
    series, _ = s.advance(1)
    # pre-activation (before BN) is wide, the activation after BN + tanh is not saturated
    assert series["layer.1.preact_std"][0] > 3
    assert series["layer.1.act_std"][0] < 0.9


def test_gradcheck_series_is_small():
    run = {**RUN, "gradcheck_every": 5, "batch_norm": True, "dropout": 0.3}
    s = NetworkStepper(SPIRAL, run, 10, 0)
    series, _ = s.advance(10)
    for i in range(3):
        gc = series[f"layer.{i}.gradcheck"]
        assert np.all(gc < 1e-6)
    assert s.snapshots()["gradcheck"].shape == (3,)


def test_sharpness_matches_the_hessian_of_least_squares():
    """No hidden layer, MSE on linear data: the Hessian is XᵀX/m exactly."""
    problem = {"type": "network", "dataset": "linear", "dim": 3, "n_samples": 200,
               "val_fraction": 0.0}
    run = {"layers": [], "loss": "mse", "batch_size": 0, "sharpness_every": 1, "lr": 0.01,
           "optimizer": "sgd"}
    s = NetworkStepper(problem, run, 3, 0)
    series, _ = s.advance(3)
    X = np.c_[s.data.X_train, np.ones(len(s.data.X_train))]
    top = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    assert abs(series["sharpness"][-1] / top - 1) < 1e-3   # power iteration, 20 steps a call
    assert s.snapshots()["sharpness"].shape == (1,)


def test_regression_and_csv(tmp_path):
    f = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.4f},{b:.4f},{int(a + b > 0)}" for a, b in rng.standard_normal((100, 2)))
    f.write_text("x1,x2,cls\n" + rows + "\n")
    p = {"type": "network", "dataset": "csv", "path": str(f), "label": "cls"}
    s = NetworkStepper(p, {**RUN, "loss": "bce"}, 50, 0)
    series, div = s.advance(50)
    assert div is None and np.isfinite(series["loss"]).all()
    r = NetworkStepper({"type": "network", "dataset": "polynomial"}, {**RUN, "loss": "mse"}, 20, 0)
    series, _ = r.advance(20)
    assert np.isnan(series["accuracy"]).all() and np.isfinite(series["val_loss"]).all()
    assert "boundary" not in r.snapshots()


def test_unsupported_choices_are_clear_errors():
    with pytest.raises(ValueError, match="newton"):
        NetworkStepper(SPIRAL, {**RUN, "optimizer": "newton"}, 1, 0)
    with pytest.raises(ValueError, match="regression"):
        NetworkStepper({"type": "network", "dataset": "linear"}, {"loss": "cross_entropy"}, 1, 0)


def test_epoch_train_loss_and_spread():
    s = NetworkStepper(SPIRAL, {**RUN, "eval_every": 5}, 20, 0)   # 240 training rows, 7 batches
    series, _ = s.advance(20)
    np.testing.assert_allclose(series["epoch"], np.arange(20) / 7)
    assert np.all(np.isfinite(series["train_loss"]))
    assert series["train_loss"][5] == series["train_loss"][9] != series["train_loss"][10]
    clones = NetworkStepper(SPIRAL, {**RUN, "init": "constant", "init_scale": 0.2}, 5, 0)
    c, _ = clones.advance(5)
    assert np.all(c["layer.0.spread"] < 1e-12) and np.all(series["layer.0.spread"] > 0.05)


def test_curriculum_starts_on_the_easiest_rows():
    run = {**RUN, "curriculum": 0.5, "curriculum_start": 0.25}
    s = NetworkStepper(SPIRAL, run, 100, 0)
    s.advance(1)
    n = s.data.X_train.shape[0]
    assert s.istate[3] == n // 4                 # the pool of the first epoch
    assert set(s.perm[:n // 4]) == set(range(n // 4))


def test_one_compilation_serves_every_configuration():
    from tui_optim.engine.network import chain, train
    from tui_optim.engine.network.stepper import ChainStepper, warm_up
    warm_up()
    kernels = (train.train_steps, chain.diag_records, chain.product_steps)
    for p, r in [({"dataset": "polynomial"}, {"loss": "mse", "activation": "maxout",
                                              "optimizer": "nesterov",
                                              "schedule": {"name": "cosine"}}),
                 ({"dataset": "spiral"}, {"curriculum": 0.5, "skip": True, "layers": [8, 8, 8],
                                          "optimizer": "rmsprop", "clip": {"value": 1.0},
                                          "init": "sparse"}),
                 ({"dataset": "xor"}, {"loss": "bce", "activation": "elu",
                                       "optimizer": "adagrad", "init": "normalized"})]:
        s = NetworkStepper({"type": "network", **p}, r, 5, 0)
        s.advance(5)
        s.snapshots()
    ChainStepper({"model": "product"}, {"depth": 5, "optimizer": "adam"}, 5, 0).advance(5)
    assert [len(k.signatures) for k in kernels] == [1] * len(kernels)


# -- greedy layer-wise pretraining -------------------------------------------------------------
PRE = {**RUN, "layers": [8, 8, 8], "pretrain_steps": 5}


def test_pretraining_builds_the_net_one_hidden_layer_at_a_time():
    s = NetworkStepper(SPIRAL, PRE, 20, 0)
    series, div = s.advance(20)
    assert div is None and s.n_layers == 4 and s.n_cur == 4
    assert s.layout.widths == [2, 8, 8, 8, 3]
    g = {l: series[f"layer.{l}.grad_norm"] for l in range(4)}
    # records 0-4: hidden 0 under a temporary output; 5-9: hidden 0, 1; 10-19: the whole net
    assert np.all(np.isnan(g[1][:5])) and np.all(np.isfinite(g[1][5:]))
    assert np.all(np.isnan(g[2][:10])) and np.all(np.isfinite(g[2][10:]))
    assert np.all(np.isfinite(g[0])) and np.all(np.isfinite(g[3]))   # the (temporary) output
    assert np.all(np.isfinite(series["loss"]))


def test_pretrained_layers_are_kept_and_frozen_ones_do_not_move():
    s = NetworkStepper(SPIRAL, {**PRE, "pretrain_freeze": True}, 20, 0)
    s.advance(5)
    p1 = int(s.spec[0, C.P1])
    w0 = s.theta[:p1].copy()
    series, _ = s.advance(5)                  # phase 1: layer 0 frozen, layer 1 trains
    np.testing.assert_array_equal(s.theta[:p1], w0)
    assert np.all(series["layer.0.update_ratio"] == 0.0)
    assert np.all(series["layer.0.grad_norm"] > 0.0)   # measured, then not applied
    assert np.all(series["layer.1.update_ratio"] > 0.0)
    series, _ = s.advance(10)                 # the whole net: every layer trains again
    assert np.all(series["layer.0.update_ratio"] > 0.0)
    assert not np.array_equal(s.theta[:p1], w0)


def test_without_freezing_the_pretrained_first_layer_carries_over_and_keeps_training():
    s = NetworkStepper(SPIRAL, PRE, 20, 0)
    s.advance(5)
    p1 = int(s.spec[0, C.P1])
    w0 = s.theta[:p1].copy()
    s.advance(1)                              # the next phase starts from the trained layer 0
    assert s.n_cur == 3
    d = np.abs(s.theta[:p1] - w0).max()
    assert 0.0 < d < 0.1 * np.abs(w0).max()


def test_pretraining_snapshots_and_errors():
    s = NetworkStepper(SPIRAL, {**PRE, "gradcheck_every": 2}, 20, 0)
    s.advance(3)
    snap = s.snapshots()
    assert np.all(np.isnan(snap["layer.1.act_hist"]))
    assert np.all(np.isnan(snap["layer.2.act_hist"]))
    assert math.isclose(snap["layer.0.act_hist"].sum(), 1.0)
    assert math.isclose(snap["layer.3.preact_hist"].sum(), 1.0)
    assert snap["gradcheck"].shape == (4,) and np.isnan(snap["gradcheck"][1])
    assert snap["gradcheck"][0] < 1e-5 and snap["gradcheck"][3] < 1e-5
    with pytest.raises(ValueError, match="pretrain_steps"):
        NetworkStepper(SPIRAL, {**PRE, "pretrain_steps": 10}, 20, 0)
    # one hidden layer: nothing to pretrain, the run is the plain one
    a = NetworkStepper(SPIRAL, {**RUN, "layers": [8], "pretrain_steps": 5}, 10, 0).advance(10)[0]
    b = NetworkStepper(SPIRAL, {**RUN, "layers": [8]}, 10, 0).advance(10)[0]
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_pretraining_rescues_a_deep_sigmoid_net():
    problem = {"type": "network", "dataset": "spiral", "n_samples": 600}
    run = {"layers": [32] * 5, "activation": "sigmoid", "init": "xavier", "optimizer": "sgd",
           "lr": 0.5, "batch_size": 32, "eval_every": 25}
    scratch = NetworkStepper(problem, run, 2000, 0).advance(2000)[0]
    pre = NetworkStepper(problem, {**run, "pretrain_steps": 300}, 2000, 0).advance(2000)[0]
    assert scratch["train_loss"][-1] > 1.0                       # ln 3: chance
    assert pre["train_loss"][-1] < 0.7 * scratch["train_loss"][-1]
    assert pre["layer.0.grad_norm"][:300].mean() > 100 * scratch["layer.0.grad_norm"].mean()


def test_values_outside_the_edges_are_counted_apart_from_the_end_bins():
    """A ReLU layer's activations are ≥ 0: with edges from 0.5 the zeros fall below, never into
    the first bin; with edges up to 0.1 the large ones fall above."""
    run = {**RUN, "activation": "relu", "hist_bins": 10, "hist_range": [0.5, 1.0]}
    s = NetworkStepper(SPIRAL, run, 1, 0)
    s.advance(1)
    h = s.snapshots()["layer.0.act_hist"]
    assert h.shape == (12,) and h[0] > 0.4            # every zero (and more) is below 0.5
    assert abs(h.sum() - 1) < 1e-9
    run = {**run, "hist_range": [-1.0, 0.1]}
    s = NetworkStepper(SPIRAL, run, 1, 0)
    s.advance(1)
    h = s.snapshots()["layer.0.act_hist"]
    assert h[0] == 0 and h[-1] > 0                    # nothing below -1, some above 0.1
