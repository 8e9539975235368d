"""Keys of the `network` and `chain` problem types and their run keys.

Kept apart from keys.py so the network engine's owner can extend it without touching the rest.
`register` adds the run keys to keys.RUN_KEYS; the problem tables are read by the loader.
"""

from __future__ import annotations

from tui_optim.engine import catalog
from tui_optim.scenario.specs import (
    MAX_SIZE, MAX_STEPS, PROBLEM_TYPES, REQUIRED, Bool, Float, Int, Key, List, Range, Str,
)

DATASETS = ("spiral", "circles", "xor", "moons", "blobs", "linear", "polynomial", "gaussian", "csv")
REGRESSION_DATASETS = ("linear", "polynomial")
ACTIVATIONS = tuple(catalog.codes(catalog.ACTIVATIONS))
LOSSES = tuple(catalog.codes(catalog.LOSSES))
INITS = tuple(catalog.codes(catalog.INITS))


def _table(*ks: Key) -> dict[str, Key]:
    return {k.name: k for k in ks}


# Callable defaults of problem keys take the problem table as given.
NETWORK_PROBLEM_KEYS: dict[str, Key] = _table(
    Key("type", Str(PROBLEM_TYPES), REQUIRED),
    Key("dataset", Str(DATASETS), REQUIRED),
    Key("n_samples", Int(ge=1, le=MAX_SIZE), 900),
    Key("classes", Int(ge=2, le=100), lambda p: 3 if p.get("dataset") in ("spiral", "blobs") else 2),
    Key("noise", Float(ge=0), None),  # None: the data set's own noise level (engine.network)
    Key("dim", Int(ge=1, le=10**4), 2),
    Key("degree", Int(ge=1, le=10), 3),
    Key("path", Str(), None),  # csv (required there): made absolute against the scenario's folder
    Key("label", Str(), "label"),
    Key("val_fraction", Float(ge=0, lt=1), 0.2),
    Key("standardize", Bool(), False),
    Key("data_seed", Int(ge=0), 0),
)

# Curriculum 18. `diag`: h_i = diag(a, b) h_{i-1}, y = σ(aⁿx₁ + bⁿx₂) with n = the run's depth;
# `product`: ŷ = x w₁⋯w_n.
CHAIN_PROBLEM_KEYS: dict[str, Key] = _table(
    Key("type", Str(PROBLEM_TYPES), REQUIRED),
    Key("model", Str(("diag", "product")), "diag"),
    Key("a", Float(), 1.0),
    Key("b", Float(), 2.0),
    Key("x", List(Float(), length=2), (1.0, 1.0)),
    Key("target", Float(), 0.0),
    Key("w0", Float(), 1.0),        # product: every w_i starts here
)


def _default_loss(ctx) -> str:
    return "mse" if ctx.problem.get("dataset") in REGRESSION_DATASETS else "cross_entropy"


_NET = frozenset({"network"})
_CHAIN = frozenset({"chain"})

NETWORK_RUN_KEYS: dict[str, Key] = _table(
    Key("layers", List(Int(ge=1, le=4096), max_len=64), (32, 32), problems=_NET),
    Key("activation", Str(ACTIVATIONS), "relu", problems=_NET),
    Key("leaky_slope", Float(ge=0), 0.01, problems=_NET),
    Key("elu_alpha", Float(gt=0), 1.0, problems=_NET),
    Key("maxout_pieces", Int(ge=2, le=16), 2, problems=_NET),
    Key("loss", Str(LOSSES), _default_loss, problems=_NET),
    Key("init", Str(INITS), "he", problems=_NET),
    Key("init_std", Float(gt=0), 0.01, problems=_NET),
    Key("init_scale", Float(ge=0), 0.1, problems=_NET),
    Key("init_sparse_k", Int(ge=1, le=4096), 15, problems=_NET),
    Key("bias_init", Float(), 0.0, problems=_NET),
    Key("batch_norm", Bool(), False, problems=_NET),
    Key("bn_momentum", Float(ge=0, lt=1), 0.9, problems=_NET),
    Key("dropout", Float(ge=0, lt=1), 0.0, problems=_NET),
    Key("dropconnect", Float(ge=0, lt=1), 0.0, problems=_NET),
    Key("weight_decay", Float(ge=0), 0.0, problems=_NET),
    Key("skip", Bool(), False, problems=_NET),
    Key("eval_every", Int(ge=1, le=MAX_STEPS), 50, problems=_NET),
    Key("hist_bins", Int(ge=1, le=1000), 40, problems=_NET),
    Key("hist_range", Range(), (-3.0, 3.0), problems=_NET),
    Key("sharpness_every", Int(ge=0, le=MAX_STEPS), 0, problems=_NET),
    Key("gradcheck_every", Int(ge=0, le=MAX_STEPS), 0, problems=_NET),
    Key("subset", Int(ge=0, le=MAX_SIZE), 0, problems=_NET),
    # curriculum learning: the fraction of the run over which the training pool grows from the
    # easiest `curriculum_start` of the examples to all of them (0 = off; class data only)
    Key("curriculum", Float(ge=0, le=1), 0.0, problems=_NET),
    Key("curriculum_start", Float(gt=0, le=1), 0.25, problems=_NET),
    # greedy layer-wise supervised pretraining: records per pretrained hidden layer (0 = off).
    # Phase h < H−1 trains hidden layers 0..h under a temporary output layer; the rest of the
    # run trains the whole network. pretrain_freeze: earlier layers stay fixed while a new one
    # is pretrained (the whole-network phase trains every layer).
    Key("pretrain_steps", Int(ge=0, le=MAX_STEPS), 0, problems=_NET),
    Key("pretrain_freeze", Bool(), False, problems=_NET),
    Key("depth", Int(ge=1, le=10**5), 10, problems=_CHAIN),  # product: l, the number of factors w_i
    # diag: a run may set its own a and b (None: the problem's), so one scenario can put an
    # exploding and a vanishing chain side by side.
    Key("a", Float(), None, problems=_CHAIN),
    Key("b", Float(), None, problems=_CHAIN),
)


def register(run_keys: dict[str, Key]) -> None:
    """Add the network and chain run keys to the run key table."""
    run_keys.update(NETWORK_RUN_KEYS)
