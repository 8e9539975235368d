"""The product's vocabulary, once: every optimizer, schedule, surface, activation, loss, init and
pane kind, with its code, its keys (type, bounds, default, what it applies to) and its help.

Numba-free, so both sides of the scenario/engine wall read it: the scenario layer builds its
key tables from it (tui_optim/scenario/keys.py) and fills every default from it, the engine
takes its integer codes from it and completes a table's values from it in one call
(`complete`), the help screen and docs/scenario-format.md's tables are made from it.

Adding an optimizer is one `Optimizer` entry here plus its update branch in optimizers.py;
adding a 2-D surface one `Surface` entry plus its f, g and H in surfaces.py; adding a pane
kind one `PaneKind` entry plus its module in ui/panes/, registered in its KINDS, and its keys
in scenario/panes.py PANE_KEYS (a test pins the three).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()     # a key without a default: the scenario must give it
RUN_STEPS = "run steps"         # a default that is the run's own number of steps

MAX_STEPS = 10**10      # steps of one run, and every count measured in steps
MAX_SIZE = 10**6        # samples of a data set, the batch


@dataclass(frozen=True)
class Param:
    """One key: its type, its bounds, its default and a few words for the docs.

    type: "float", "int", "bool", "str", "floats" / "ints" (lists, `length` or at most
    `max_len` long, each element within the bounds), "matrix" (a list of lists), "range" (an
    increasing pair).
    default: a value, None (absent: the engine derives it), REQUIRED, RUN_STEPS, or a function
    of the context (the problem table, for a run key that depends on the data set).
    """

    name: str
    type: str
    default: Any = None
    help: str = ""
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    max_len: int | None = None

    def default_for(self, context: Mapping[str, Any], steps: int | None = None) -> Any:
        if callable(self.default):
            return self.default(context)
        if self.default == RUN_STEPS:
            return steps
        return self.default

    def shown_default(self) -> str:
        """The default as the docs write it."""
        d = self.default
        if d is REQUIRED:
            return "required"
        if d == RUN_STEPS:
            return "run steps"
        if callable(d) or d is None:
            return "derived"
        if isinstance(d, bool):
            return "true" if d else "false"
        if isinstance(d, str):
            return f'"{d}"'
        return f"{d:g}".replace("e-0", "e-") if isinstance(d, float) else str(d)


@dataclass(frozen=True)
class Entry:
    """A named thing with an integer code (kernels dispatch on codes) and its keys."""

    name: str
    code: int
    help: str = ""
    params: tuple[Param, ...] = ()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no key {name!r}")


@dataclass(frozen=True)
class Optimizer(Entry):
    formula: str = ""
    fast_path: bool = False         # a hand-specialised 2-D kernel exists (no schedule etc.)


@dataclass(frozen=True)
class Schedule(Entry):
    formula: str = ""


@dataclass(frozen=True)
class Surface(Entry):
    formula: str = ""
    dim: int | None = None          # None: from the keys (see surface_dim)
    start: tuple[float, ...] | None = None   # fixed default start; None: computed
    window: tuple[float, float, float, float] | None = None   # the map's; None: fitted
    closed_form_2d: bool = False    # f and ∇f on two scalars (surfaces.fg2d): the fast paths


@dataclass(frozen=True)
class PaneKind:
    kind: str
    problems: tuple[str, ...]       # problem types it can show
    help: str


def complete(entry: Entry | Iterable[Param], values: Mapping[str, Any] | None,
             steps: int | None = None, what: str = "",
             context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`values` with every key of `entry` (or of a key table) present: the given value, else the
    catalog's default (a function default sees `context`, else the values). A missing REQUIRED
    key is a ValueError naming it (the scenario layer reports it first)."""
    params = entry.params if isinstance(entry, Entry) else tuple(entry)
    values = dict(values or {})
    out = dict(values)
    for p in params:
        if values.get(p.name) is None:
            d = p.default_for(values if context is None else context, steps)
            if d is REQUIRED:
                raise ValueError(f"{what or getattr(entry, 'name', 'a table')} needs {p.name!r}")
            out[p.name] = d
    return out


def by_name(entries: Iterable[Entry]) -> dict[str, Entry]:
    return {e.name: e for e in entries}


def codes(entries: Iterable[Entry]) -> dict[str, int]:
    return {e.name: e.code for e in entries}


def _lr(default: float = 0.01) -> Param:
    return Param("lr", "float", default, "ε", gt=0)


def _unit(name: str, default: float, help: str) -> Param:
    return Param(name, "float", default, help, ge=0, lt=1)


# ---------------------------------------------------------------- optimizers (optimizers.py)

OPTIMIZERS: tuple[Optimizer, ...] = (
    Optimizer("sgd", 0, "plain gradient descent", (_lr(),), "θ ← θ − ε g", fast_path=True),
    Optimizer("momentum", 1, "heavy ball", (_lr(), _unit("momentum", 0.9, "α")),
              "v ← α v − ε g ; θ ← θ + v"),
    Optimizer("nesterov", 2, "momentum with the gradient at the look-ahead point",
              (_lr(), _unit("momentum", 0.9, "α")), "g at θ + α v ; v ← α v − ε g ; θ ← θ + v"),
    Optimizer("adagrad", 3, "per-coordinate rates from the sum of squared gradients",
              (_lr(), Param("delta", "float", 1e-7, "δ", gt=0)),
              "r ← r + g⊙g ; θ ← θ − ε g / (δ + √r)"),
    Optimizer("rmsprop", 4, "per-coordinate rates from a moving average of squared gradients",
              (_lr(), _unit("rho", 0.9, "ρ"), Param("delta", "float", 1e-6, "δ", gt=0)),
              "r ← ρ r + (1−ρ) g⊙g ; θ ← θ − ε g / √(δ + r)"),
    Optimizer("adam", 5, "momentum and RMSProp with bias correction",
              (_lr(), _unit("rho1", 0.9, "ρ1"), _unit("rho2", 0.999, "ρ2"),
               Param("delta", "float", 1e-8, "δ", gt=0),
               Param("bias_correction", "bool", True, "divide by 1 − ρ^t")),
              "s ← ρ1 s + (1−ρ1) g ; r ← ρ2 r + (1−ρ2) g⊙g ; θ ← θ − ε ŝ / (√r̂ + δ)"),
    Optimizer("newton", 6, "second order: the exact Hessian",
              (_lr(1.0), Param("damping", "float", 0.0, "H + damping·I", ge=0)),
              "θ ← θ − ε (H + damping·I)⁻¹ g"),
    Optimizer("lbfgs", 7, "quasi-Newton from the last m steps",
              (_lr(1.0), Param("history", "int", 10, "memory m", ge=1, le=1000),
               Param("line_search", "str", "armijo", "backtracking line search",
                     choices=("armijo", "none"))),
              "two-loop recursion over the last m (s, y) pairs"),
    Optimizer("coordinate", 8, "one block of coordinates per update, cyclically",
              (_lr(), Param("coordinate_mode", "str", "exact",
                            "exact line minimisation (quadratics), a gradient step, or exact "
                            "minimisation over the blocks W and H (sparse_coding)",
                            choices=("exact", "gradient", "block_exact")),
               Param("block", "int", 1, "coordinates per block", ge=1, le=1000)),
              "θ_B ← θ_B − H_BB⁻¹ g_B (exact) or θ_B ← θ_B − ε g_B"),
)



def stable_lr_limit(optimizer: str, momentum: float, curvature: float) -> float | None:
    """The largest ε at which `optimizer` converges on f = λ/2 x² (λ = `curvature`), from the
    roots of its linear recurrence: SGD ε < 2/λ; heavy ball ε < 2(1 + α)/λ (0 ≤ α < 1);
    Nesterov ε < 2(1 + α)/((1 + 2α) λ). None where no such closed form is known here."""
    if curvature <= 0:
        return None
    if optimizer == "sgd":
        return 2.0 / curvature
    if not 0.0 <= momentum < 1.0:
        return None
    if optimizer == "momentum":
        return 2.0 * (1.0 + momentum) / curvature
    if optimizer == "nesterov":
        return 2.0 * (1.0 + momentum) / ((1.0 + 2.0 * momentum) * curvature)
    return None


# ---------------------------------------------------------------- schedules (schedules.py)

WARMUP = Param("warmup", "int", 0, "updates over which ε grows linearly from 0", ge=0,
                le=MAX_STEPS)


def _steps(name: str, default: Any) -> Param:
    return Param(name, "int", default, ge=1, le=MAX_STEPS)


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("constant", 0, "", (WARMUP,), "ε"),
    Schedule("step", 1, "", (WARMUP, _steps("every", REQUIRED),
                             Param("factor", "float", 0.5, gt=0)), "ε · factor^⌊t/every⌋"),
    Schedule("exponential", 2, "", (WARMUP, Param("rate", "float", REQUIRED, gt=0)), "ε · rate^t"),
    Schedule("inverse_time", 3, "", (WARMUP, Param("k", "float", REQUIRED, ge=0)), "ε / (1 + k t)"),
    Schedule("cosine", 4, "", (WARMUP, Param("min_lr", "float", 0.0, ge=0),
                               _steps("period", RUN_STEPS)),
             "min + ½(ε − min)(1 + cos π t/period)"),
    Schedule("cyclic", 5, "", (WARMUP, _steps("cycles", REQUIRED),
                               Param("min_lr", "float", 0.0, ge=0)),
             "cosine restarted `cycles` times (snapshot ensembles)"),
    Schedule("linear", 6, "", (WARMUP, Param("final_lr", "float", REQUIRED, ge=0),
                               _steps("until", REQUIRED)),
             "linear from ε to final_lr at `until`, then constant"),
)

# ---------------------------------------------------------------- surfaces (surfaces.py)

_DATA = (
    Param("n_samples", "int", 200, ge=1, le=MAX_SIZE),
    Param("n_features", "int", 2, ge=1, le=1000),
    Param("scales", "floats", None, "feature scales (all 1)", gt=0),
    Param("noise", "float", 0.1, ge=0),
    Param("data_seed", "int", 0, ge=0),
)

SURFACES: tuple[Surface, ...] = (
    Surface("quadratic", 0, "", (
        Param("eigenvalues", "floats", None, "required unless `matrix`; all > 0 unless "
              "`allow_indefinite = true`"),
        Param("allow_indefinite", "bool", False),
        Param("angle", "float", 0.0, "degrees, 2-D rotation of the eigenbasis"),
        Param("rotation_seed", "int", None, "random orthogonal basis for d > 2", ge=0),
        Param("matrix", "matrix", None, "the full symmetric A instead of eigenvalues"),
        Param("b", "floats", None, "zeros by default"),
        Param("c", "float", 0.0)), "½ wᵀAw + bᵀw + c", closed_form_2d=True),
    Surface("rosenbrock", 1, "", (Param("a", "float", 1.0), Param("b", "float", 100.0)),
            "(a − x)² + b (y − x²)²", dim=2, start=(-1.2, 1.0),
            window=(-2.0, 2.0, -1.0, 3.0), closed_form_2d=True),
    Surface("beale", 2, "", (), "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            dim=2, start=(1.0, 1.5),
            window=(-4.5, 4.5, -4.5, 4.5), closed_form_2d=True),
    Surface("himmelblau", 3, "", (), "(x² + y − 11)² + (x + y² − 7)²", dim=2, start=(0.0, 0.0),
            window=(-5.0, 5.0, -5.0, 5.0), closed_form_2d=True),
    Surface("rastrigin", 4, "", (Param("A", "float", 10.0, ge=0),
                                 Param("dim", "int", 2, ge=1, le=1000)),
            "A d + Σ (xᵢ² − A cos 2πxᵢ)",
            window=(-5.12, 5.12, -5.12, 5.12)),
    Surface("saddle", 5, "", (), "x² − y²", dim=2, start=(1.5, 1e-3),
            window=(-2.0, 2.0, -2.0, 2.0), closed_form_2d=True),
    Surface("monkey_saddle", 6, "", (), "x³ − 3xy²", dim=2, start=(1.5, 1e-3),
            window=(-2.0, 2.0, -2.0, 2.0), closed_form_2d=True),
    Surface("double_well", 7, "", (Param("a", "float", 1.0, gt=0), Param("tilt", "float", 0.3)),
            "(x² − a)² + tilt·x (1-D)", dim=1, start=(1.5,),
            window=(-2.0, 2.0, 0.0, 0.0)),
    Surface("wiggly", 8, "", (Param("amplitude", "float", 1.0, ge=0),
                              Param("frequency", "float", 10.0, gt=0)),
            "x² + amplitude·(1 − cos(frequency·x)) (1-D; global minimum f(0) = 0, a local minimum "
            "in every ripple when frequency²·amplitude > 2)", dim=1, start=(2.5,),
            window=(-3.0, 3.0, 0.0, 0.0)),
    Surface("cliff", 9, "", (Param("height", "float", 100.0, gt=0),
                             Param("sharpness", "float", 50.0, gt=0),
                             Param("position", "float", 1.0)),
            "½(x² + y²) + height·σ(sharpness·(x − position)), σ(z) = 1/(1 + e^−z): a gentle bowl "
            "with a wall `height` high and ~1/sharpness wide at x = position, slope up to "
            "height·sharpness/4", dim=2, start=(3.0, 1.0),
            window=(-3.0, 4.0, -3.0, 3.0)),
    Surface("least_squares", 10, "", _DATA, "(1/2m) ‖Xw − y‖² on generated data"),
    Surface("logistic", 11, "", _DATA + (Param("separable", "bool", False),
                                         Param("margin", "float", 0.5, ge=0)),
            "mean logistic loss on generated labels"),
    Surface("sparse_coding", 12, "", (
        Param("n_samples", "int", 30, ge=1, le=10**4), Param("n_atoms", "int", 4, ge=1, le=100),
        Param("n_features", "int", 6, ge=1, le=100), Param("l1", "float", 0.5, ge=0),
        Param("w_decay", "float", 0.0, ge=0), Param("noise", "float", 0.05, ge=0),
        Param("data_seed", "int", 0, ge=0)), "J(W, H) = l1·Σ|H| + Σ(X − WᵀH)² + w_decay·ΣW²"),
)


def surface_dim(surface: Surface, problem: Mapping[str, Any]) -> int | None:
    """The dimension of θ the problem table fixes (None: the run's start decides)."""
    if surface.dim is not None:
        return surface.dim
    p = complete(surface, problem)
    if surface.name == "quadratic":
        given = p["matrix"] if p["matrix"] is not None else p["eigenvalues"]
        return len(given) if given is not None else None
    if surface.name == "rastrigin":
        return p["dim"]
    if surface.name == "sparse_coding":        # θ = (W, H) flattened
        return p["n_atoms"] * (p["n_features"] + p["n_samples"])
    return p["n_features"]                      # the data surfaces: one weight per feature


# ---------------------------------------------------------------- networks (network/codes.py)

ACTIVATIONS: tuple[Entry, ...] = (
    Entry("linear", 0, "identity"), Entry("sigmoid", 1, "1 / (1 + e^−z)"),
    Entry("tanh", 2, "tanh z"), Entry("relu", 3, "max(0, z)"),
    Entry("leaky_relu", 4, "max(slope·z, z)"), Entry("prelu", 5, "leaky ReLU with a learned slope"),
    Entry("elu", 6, "z, or α(e^z − 1) below 0"), Entry("maxout", 7, "max over k linear pieces"),
)
LOSSES: tuple[Entry, ...] = (
    Entry("cross_entropy", 0, "softmax cross-entropy (classes)"),
    Entry("bce", 1, "binary cross-entropy of a sigmoid output"),
    Entry("mse", 2, "mean squared error (regression)"),
)
INITS: tuple[Entry, ...] = (
    Entry("zeros", 0, "all weights 0 (symmetry never breaks)"),
    Entry("constant", 1, "all weights init_scale"), Entry("normal", 2, "N(0, init_std²)"),
    Entry("uniform", 3, "U(−init_scale, init_scale)"),
    Entry("xavier", 4, "U(±√(6/(fan_in + fan_out)))"), Entry("he", 5, "N(0, 2/fan_in)"),
    Entry("normalized", 6, "Glorot's normalized uniform"),
    Entry("sparse", 7, "init_sparse_k nonzero weights per unit"),
)

REGRESSION_DATASETS = ("linear", "polynomial")
DATASETS = ("spiral", "circles", "xor", "moons", "blobs") + REGRESSION_DATASETS + ("gaussian", "csv")


def _default_loss(problem: Mapping[str, Any]) -> str:
    """Regression data (a regression data set, or a CSV whose labels are not classes): mse."""
    regression = problem.get("dataset") in REGRESSION_DATASETS or (
        problem.get("dataset") == "csv" and problem.get("classes") == 0)
    return "mse" if regression else "cross_entropy"


# Minibatches: data surfaces (least squares, logistic) and networks.
BATCH_SIZE = Param("batch_size", "int", lambda p: 0 if p.get("surface") else 32,
                   "examples per minibatch (0: the full batch); 32 on a network, 0 on a surface",
                   ge=0, le=MAX_SIZE)


def _flag(name: str, help: str = "") -> Param:
    return Param(name, "bool", False, help)


def _every(name: str, default: int, help: str) -> Param:
    return Param(name, "int", default, help, ge=0 if default == 0 else 1, le=MAX_STEPS)


# The problem table of `type = "network"` and its run keys (network/stepper.py).
NETWORK_PROBLEM: tuple[Param, ...] = (
    Param("dataset", "str", REQUIRED, choices=DATASETS),
    Param("n_samples", "int", 900, ge=1, le=MAX_SIZE),
    Param("classes", "int", lambda p: 3 if p.get("dataset") in ("spiral", "blobs") else 2,
          "3 for spiral and blobs, else 2", ge=2, le=100),
    Param("noise", "float", None, "the data set's own noise level", ge=0),
    Param("dim", "int", 2, "input dimension (gaussian, blobs, linear, polynomial)", ge=1, le=10**4),
    Param("degree", "int", 3, "polynomial", ge=1, le=10),
    Param("path", "str", None, "csv: the file, relative to the scenario file"),
    Param("label", "str", "label", "csv: the label column"),
    Param("val_fraction", "float", 0.2, "validation split", ge=0, lt=1),
    _flag("standardize", "standardize features with training statistics"),
    Param("data_seed", "int", 0, ge=0),
)
NETWORK_RUN: tuple[Param, ...] = (
    Param("layers", "ints", (32, 32), "hidden widths", ge=1, le=4096, max_len=64),
    Param("activation", "str", "relu", choices=tuple(e.name for e in ACTIVATIONS)),
    Param("leaky_slope", "float", 0.01, ge=0),
    Param("elu_alpha", "float", 1.0, gt=0),
    Param("maxout_pieces", "int", 2, ge=2, le=16),
    Param("loss", "str", _default_loss, "mse for regression data, else cross_entropy",
          choices=tuple(e.name for e in LOSSES)),
    Param("init", "str", "he", choices=tuple(e.name for e in INITS)),
    Param("init_std", "float", 0.01, gt=0),
    Param("init_scale", "float", 0.1, ge=0),
    Param("init_sparse_k", "int", 15, ge=1, le=4096),
    Param("bias_init", "float", 0.0),
    _flag("batch_norm"),
    Param("bn_momentum", "float", 0.9, ge=0, lt=1),
    Param("dropout", "float", 0.0, ge=0, lt=1),
    Param("dropconnect", "float", 0.0, ge=0, lt=1),
    Param("weight_decay", "float", 0.0, ge=0),
    _flag("skip", "residual connections"),
    _every("eval_every", 50, "steps between validation evaluations"),
    Param("hist_bins", "int", 40, ge=1, le=1000),
    Param("hist_range", "range", (-3.0, 3.0), "the histograms' bin edges"),
    _every("sharpness_every", 0, "steps between sharpness measurements (0: off)"),
    _every("gradcheck_every", 0, "steps between gradient checks (0: off)"),
    Param("subset", "int", 0, "train on the first n examples (0: all)", ge=0, le=MAX_SIZE),
    Param("curriculum", "float", 0.0, "fraction of the run over which the pool grows from the "
          "easiest curriculum_start of the examples to all (0: off)", ge=0, le=1),
    Param("curriculum_start", "float", 0.25, gt=0, le=1),
    _every("pretrain_steps", 0, "records per greedily pretrained hidden layer (0: off)"),
    _flag("pretrain_freeze", "earlier layers stay fixed while a new one is pretrained"),
)

# `type = "chain"` (curriculum 18; network/chain.py). diag: h_i = diag(a, b) h_{i-1},
# y = σ(aⁿx₁ + bⁿx₂), n = the run's depth; product: ŷ = x w₁⋯w_n.
CHAIN_PROBLEM: tuple[Param, ...] = (
    Param("model", "str", "diag", choices=("diag", "product")),
    Param("a", "float", 1.0), Param("b", "float", 2.0),
    Param("x", "floats", (1.0, 1.0), "the input (product uses x₁)", length=2),
    Param("target", "float", 0.0, "the target of the loss ½(y − target)²"),
    Param("w0", "float", 1.0, "product: every w_i starts here"),
)
CHAIN_RUN: tuple[Param, ...] = (
    Param("depth", "int", 10, "diag: n; product: the number of factors w_i", ge=1, le=10**5),
    Param("a", "float", None, "diag: this run's own a (else the problem's)"),
    Param("b", "float", None, "diag: this run's own b (else the problem's)"),
)

# ---------------------------------------------------------------- panes (ui/panes/)

PANES: tuple[PaneKind, ...] = (
    PaneKind("surface", ("surface",),
             "the objective as shaded level bands (log f) and every run's path: ● current point, "
             "★ minima, ✕ saddles (1-D: the curve with the iterates)"),
    PaneKind("trace", ("surface", "network", "chain"),
             "a series over steps for every run, the run's number at the head of its line; log "
             "panes plot log10 of the value, guides are theory lines; a run that explodes or "
             "diverges leaves through the edge with a marker instead of taking the y-range"),
    PaneKind("layers", ("network", "chain"),
             "one line per layer `layer.i.<series>`: gradient norm, update/weight ratio "
             "(healthy ≈ 1e-3), activation std; or, with x = \"layer\", the profile over the layers"),
    PaneKind("heat", ("network", "chain"), "layer × step strip of a per-layer series on a log scale"),
    PaneKind("histograms", ("network",),
             "activation histograms per layer as small multiples (pre = before BN/nonlinearity, "
             "act = after), runs side by side; the share outside the bins shows as ◂12% / 3%▸"),
    PaneKind("boundary", ("network",), "predicted class regions of 2-D data with the training points"),
    PaneKind("gradcheck", ("network",),
             "relative error between analytic and finite-difference gradients per layer"),
    PaneKind("phase", ("surface", "network", "chain"),
             "a phase diagram of a two-key sweep of trials (keep = \"result\"): a cell per "
             "trial at (x, y), coloured by its steps to tol (or final/min series), red where "
             "the loss grew or diverged; the closed-form stability edge drawn where known; "
             "←→↑↓ move the cell cursor, enter opens that trial as a watched run"),
    PaneKind("sweep", ("surface", "network", "chain"),
             "a sweep's result against its hyperparameter: a point per run (and per trial) "
             "at its value of x and its final (or best) series, or a trial's steps to tol, a "
             "glyph and colour per group (`groups`: which), log x where the values span more "
             "than a decade, ✕ where a run diverged, ▲ where a trial never reached its tol"),
)


def _check_unique() -> None:
    """Names and codes are unique per table, and a key shared by optimizers is the same key."""
    for table in (OPTIMIZERS, SCHEDULES, SURFACES, ACTIVATIONS, LOSSES, INITS):
        assert len({e.name for e in table}) == len({e.code for e in table}) == len(table)
    seen: dict[str, Param] = {}
    for o in OPTIMIZERS:
        for p in o.params:
            q = seen.setdefault(p.name, p)
            assert (q.type, q.ge, q.gt, q.le, q.lt, q.choices) == (p.type, p.ge, p.gt, p.le, p.lt, p.choices), p.name


_check_unique()
