"""The interpreted tier (engine/interpreted.py) gives the compiled tier's bits.

A run that starts interpreted and is handed to the compiled kernels mid-way must record exactly
what a run compiled from its first step records: every series, every snapshot, where it diverges.
Checked for every built-in scenario's runs, every optimizer on every surface with every schedule,
clip, averaging, noise, minibatch and continuation setting, every network activation, loss,
initialization and layer feature, and each numpy twin against its kernel on awkward values.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest

from tui_optim.engine import catalog
from tui_optim.engine import interpreted as I
from tui_optim.scenario.builtin import builtin_paths
from tui_optim.scenario.loader import load_scenario, load_scenario_text

_CLASSES = {"surface": ("surface_stepper", "SurfaceStepper"),
            "network": ("network.stepper", "NetworkStepper"),
            "chain": ("network.stepper", "ChainStepper")}


def _pair(problem, run):
    """(interpreted stepper, compiled stepper) of the same run."""
    module, cls = _CLASSES[problem.type]
    compiled = importlib.import_module(f"tui_optim.engine.{module}")
    with np.errstate(all="ignore"):
        a = getattr(I.module(module), cls)(problem.values, run.values, run.steps, run.seed)
    b = getattr(compiled, cls)(problem.values, run.values, run.steps, run.seed)
    return a, b


def assert_switch_is_seamless(problem, run, first: int, total: int) -> None:
    """`first` steps interpreted, then compiled, against `total` compiled steps."""
    a, b = _pair(problem, run)
    with np.errstate(all="ignore"):
        ra, da = a.advance(first)
        sa = a.snapshots()
    assert type(a).__module__.startswith(I.PACKAGE)
    a = I.to_compiled(a)
    assert type(a) is type(b)
    rb, db = b.advance(first)
    sb = b.snapshots()
    assert da == db
    _same(ra, rb, f"{run.label}: first {first} steps")
    ra, da = a.advance(total - first)
    rb, db = b.advance(total - first)
    assert da == db
    _same(ra, rb, f"{run.label}: steps after the switch")
    # (a static snapshot the interpreted tier leaves to the compiled one comes one call later)
    _same({**sa, **a.snapshots()}, {**sb, **b.snapshots()}, f"{run.label}: snapshots")


def _same(x: dict, y: dict, what: str) -> None:
    assert x.keys() == y.keys(), what
    for k in x:
        assert np.asarray(x[k]).tobytes() == np.asarray(y[k]).tobytes(), f"{what}: {k}"


# -- every built-in scenario --------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(builtin_paths()))
def test_every_builtin_switches_tier_without_a_seam(name):
    scenario = load_scenario(name)
    runs = list(scenario.runs) or list(scenario.trials[:2])
    for run in runs:
        if scenario.problem.type == "network":
            total = min(run.steps, 40)       # the interpreted network tier runs 15-300 steps/s
            first = min(3, total)
        else:
            total = min(run.steps, 2000)
            first = total // 3
        assert_switch_is_seamless(scenario.problem, run, first, total)


# -- surfaces: every optimizer and setting ------------------------------------------------------

def _scenario(problem: str, runs: list[str], steps: int) -> object:
    text = (f'title = "t"\nsteps = {steps}\n[problem]\n{problem}\n'
            + "".join(f'[[runs]]\nlabel = "r{i}"\n{r}\n' for i, r in enumerate(runs)))
    return load_scenario_text(text, "tiers.toml")


_SETTINGS = ['', 'noise = 0.3\nclip = { norm = 0.5 }', 'clip = { value = 0.1 }',
             'average = { kind = "polyak" }', 'average = { kind = "ema", decay = 0.9 }']
_SETTINGS += ['schedule = { name = "' + s for s in (
    'constant", warmup = 30 }', 'step", every = 20 }', 'exponential", rate = 0.99 }',
    'inverse_time", k = 0.1 }', 'cosine" }', 'cyclic", cycles = 3 }',
    'linear", final_lr = 0.001, until = 150 }')]


@pytest.mark.parametrize("surface", [s.name for s in catalog.SURFACES])
def test_every_optimizer_and_setting_on_every_surface(surface):
    extra = {"quadratic": "eigenvalues = [1.0, 10.0, 3.0]", "least_squares": "n_samples = 40",
             "logistic": "n_samples = 40",
             "sparse_coding": "n_samples = 4\nn_atoms = 3\nn_features = 3"}.get(surface, "")
    runs = []
    for opt in catalog.OPTIMIZERS:
        if surface == "sparse_coding" and opt.name == "lbfgs":
            continue
        for setting in _SETTINGS:
            runs.append(f'optimizer = "{opt.name}"\nlr = 0.01\n{setting}')
    if surface in ("least_squares", "logistic"):
        runs += ['optimizer = "momentum"\nbatch_size = 8', 'optimizer = "adam"\nbatch_size = 5']
    if surface not in ("sparse_coding",):
        runs.append('optimizer = "sgd"\ncontinuation = { sigmas = [0.5, 0.0], samples = 3 }')
    runs.append('optimizer = "sgd"\nlr = 50.0')         # diverges: inf and nan, same step
    scenario = _scenario(f'type = "surface"\nsurface = "{surface}"\n{extra}', runs, 300)
    for run in scenario.runs:
        assert_switch_is_seamless(scenario.problem, run, 100, 300)


# -- networks: every activation, loss, init and feature -------------------------------------------

_NET = 'type = "network"\ndataset = "spiral"\nn_samples = 120'


@pytest.mark.parametrize("run", [
    *[f'activation = "{a.name}"' for a in catalog.ACTIVATIONS],
    *[f'init = "{i.name}"' for i in catalog.INITS],
    *[f'optimizer = "{o.name}"' for o in catalog.OPTIMIZERS
      if o.name not in ("newton", "lbfgs", "coordinate")],
    'batch_norm = true', 'dropout = 0.3', 'dropconnect = 0.3', 'skip = true', 'weight_decay = 0.01',
    'activation = "elu"\nbatch_norm = true\ndropout = 0.2\ngradcheck_every = 3',
    'sharpness_every = 5', 'schedule = { name = "cosine" }\nclip = { norm = 1.0 }',
    'lr = 1e6',                                                    # diverges
])
def test_every_network_feature_switches_tier_without_a_seam(run):
    scenario = _scenario(_NET, [f'layers = [8, 8]\nbatch_size = 16\n{run}'], 30)
    assert_switch_is_seamless(scenario.problem, scenario.runs[0], 4, 30)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_every_loss_switches_tier_without_a_seam(loss):
    data = 'dataset = "moons"' if loss == "bce" else 'dataset = "polynomial"'
    scenario = _scenario(f'type = "network"\n{data}\nn_samples = 100',
                         [f'layers = [6]\nloss = "{loss}"\nbatch_size = 10'], 30)
    assert_switch_is_seamless(scenario.problem, scenario.runs[0], 4, 30)


# -- the numpy twins against their kernels ---------------------------------------------------------

def _awkward(shape, rng):
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
    flat = x.reshape(-1)
    special = [0.0, -0.0, 40.0, -25.0, 1e-300, 3.0][:flat.size]
    flat[:len(special)] = special
    return x


def test_layer_twins_match_their_kernels():
    compiled = importlib.import_module("tui_optim.engine.network.layers")
    twin = I.module("network.layers")
    rng = np.random.default_rng(7)
    for m, p, n in [(1, 1, 1), (5, 3, 7), (9, 13, 4), (64, 64, 64)]:
        a = _awkward((m, p), rng)
        for f, b, shape in [("matmul", _awkward((p, n), rng), (m, n)),      # a b
                            ("matmul_tn", _awkward((m, n), rng), (p, n)),   # aᵀ b
                            ("matmul_nt", _awkward((n, p), rng), (m, n))]:  # a bᵀ
            x, y = np.empty(shape), np.empty(shape)
            getattr(compiled, f)(a, b, x)
            getattr(twin, f)(a, b, y)
            assert x.tobytes() == y.tobytes(), (f, m, p, n)
        v, w = a.reshape(-1), _awkward(a.size, rng)
        assert compiled.dot(v, w) == twin.dot(v, w)
    u = np.concatenate([_awkward(4000, rng), [np.nan, np.inf, -np.inf, 19.99, 20.0, -0.0]])
    assert np.array([compiled.tanh(x) for x in u]).tobytes() == twin._tanh_array(u).tobytes()
    for m, n in [(1, 1), (2, 3), (32, 16), (7, 40)]:
        z = _awkward((m, n), rng)
        gamma, beta = _awkward(n, rng), _awkward(n, rng)
        outs = []
        for mod in (compiled, twin):
            arrays = (np.empty((m, n)), np.empty((m, n)), np.empty(n), np.empty(n))
            with np.errstate(all="ignore"):
                mod.bn_forward_train(z, gamma, beta, 1e-5, *arrays)
            outs.append(arrays)
        for x, y in zip(*outs):
            assert x.tobytes() == y.tobytes(), ("bn_forward_train", m, n)


def test_instrument_and_optimizer_twins_match_their_kernels():
    compiled = importlib.import_module("tui_optim.engine.network.instruments")
    twin = I.module("network.instruments")
    rng = np.random.default_rng(3)
    for size in (0, 1, 3, 4, 5, 17, 1001):
        x, y = _awkward(size + 2, rng), _awkward(size + 2, rng)
        xc1, xc2 = np.zeros_like(x), np.zeros_like(x)
        assert compiled.norms_and_copy(y, x, xc1, 1, size + 1) == \
            twin.norms_and_copy(y, x, xc2, 1, size + 1)
        assert xc1.tobytes() == xc2.tobytes()
        assert compiled.sumsq_diff(x, y, 1, size + 1) == twin.sumsq_diff(x, y, 1, size + 1)
    opt_c = importlib.import_module("tui_optim.engine.optimizers")
    opt_i = I.module("optimizers")
    for code in opt_c.FIRST_ORDER:
        op = np.array([0.1, 0.9, 0.9, 0.9, 0.999, 1e-8, 1.0] + [0.0] * (opt_c.N_OP - 7))
        state = (_awkward((2, 40), rng) ** 2, np.array([0.5, 0.25, 0.0, 0.0]), _awkward(40, rng))
        g = _awkward(40, rng)
        runs = []
        for mod in (opt_c, opt_i):
            V, sv, theta = (s.copy() for s in state)
            for _ in range(3):
                mod.first_order_update(code, op, V, sv, theta, g, 0.05)
            runs.append((V, sv, theta))
        for s1, s2 in zip(*runs):
            assert s1.tobytes() == s2.tobytes(), opt_c.BY_CODE[code].name


def test_the_interpreted_tier_needs_no_numba():
    """A warm start's first chunks come before numba is even imported."""
    code = """
import sys
from tui_optim.engine import interpreted as I
from tui_optim.scenario.loader import load_scenario
for name, module, cls in [("03_momentum_ravine", "surface_stepper", "SurfaceStepper"),
                          ("17_batch_norm", "network.stepper", "NetworkStepper")]:
    sc = load_scenario(name)
    run = sc.runs[-1]
    st = getattr(I.module(module), cls)(sc.problem.values, run.values, run.steps, run.seed)
    st.advance(3)
    st.snapshots()
print("numba" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_no_interpreted_module_holds_a_numba_function():
    """Were numba to compile an interpreted copy, its cache entries (keyed by source file) would
    name a module only this process has, and poison the compiled tier's cache for every other."""
    from numba.core.registry import CPUDispatcher

    I.module("surface_stepper")
    I.module("network.stepper")
    copies = [m for name, m in sys.modules.items() if I.is_interpreted(name)]
    assert len(copies) > 20
    for m in copies:
        assert not [k for k, v in vars(m).items() if isinstance(v, CPUDispatcher)], m.__name__


@pytest.mark.parametrize("name", ["03_momentum_ravine", "17_batch_norm",
                                  "24_hyperparameter_search"])
def test_a_tiered_session_streams_the_compiled_sessions_numbers(name, monkeypatch):
    """The dashboard's session: runs start interpreted and switch after a few rounds (held back
    here, so the switch falls mid-run); every chunk, snapshot and trial equals the headless one."""
    from tui_optim.runner import build, session as S

    scenario = load_scenario(name, steps=20000 if name.startswith("03") else 60)

    def stream(tiered: bool):
        s = S.Session(scenario, tiered=tiered)
        s.compile()
        runs: dict = {}
        outcomes = {}
        tiers = []
        for item in s.chunks():
            if isinstance(item, S.Outcome):
                outcomes[item.trial] = {**item.metrics, "steps": np.array([item.steps])}
                continue
            tiers.append(s.interpreted)
            got = runs.setdefault(item.run, {})
            for k, v in item.series.items():
                got[k] = np.concatenate([got.get(k, np.empty(0)), v])
            for k, v in item.snapshots.items():     # when taken depends on the clock; the
                got["snap." + k] = v                 # last, at the run's end, does not
            got["status"] = np.array([item.status.value, item.diverged_at or -1])
        return runs, outcomes, tiers

    ready = build.FastKernels.ready
    calls = [0]

    def held_back(self, wait=0.0):
        calls[0] += 1
        return calls[0] > 4 and ready(self, 5.0)

    monkeypatch.setattr(build.FastKernels, "ready", held_back)
    tiered_runs, tiered_outcomes, tiers = stream(True)
    plain_runs, plain_outcomes, _ = stream(False)
    assert tiers[0] and not tiers[-1]               # both tiers ran
    assert tiered_runs.keys() == plain_runs.keys()
    for run in plain_runs:
        _same(tiered_runs[run], plain_runs[run], f"run {run}")
    assert tiered_outcomes.keys() == plain_outcomes.keys()
    for t in plain_outcomes:
        _same(tiered_outcomes[t], plain_outcomes[t], f"trial {t}")


def test_a_chain_whose_loss_pow_would_round_differently_switches_without_a_seam():
    """½(y − t)²: numba squares; libm's pow(r, 2) differs from r·r in about 1 value in 1,300
    (found in review on this run, at record 34)."""
    scenario = _scenario('type = "chain"\nmodel = "diag"\nx = [0.2, 0.9]\ntarget = 1.0',
                         ['a = 1.01\nb = 0.99'], 300)
    assert_switch_is_seamless(scenario.problem, scenario.runs[0], 250, 300)


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "leaky_relu", "prelu", "elu"])
def test_activation_twins_keep_nan_and_signed_zeros(act):
    """max(u, 0) keeps NaN and −0.0 in the kernel; the twins must too (a NaN hidden on one
    tier would move where a run diverges), and give the kernel's bits on infinities and on
    values whose exp overflows or underflows."""
    from tui_optim.engine.network.codes import ACTIVATIONS

    compiled = importlib.import_module("tui_optim.engine.network.layers")
    twin = I.module("network.layers")
    rng = np.random.default_rng(5)
    u = np.concatenate([[np.nan, -0.0, 0.0, np.inf, -np.inf, 800.0, -800.0],
                        _awkward(93, rng)]).reshape(4, 25)
    slope = np.linspace(-0.5, 0.5, 25)          # PReLU's, one per unit
    code = ACTIVATIONS[act]
    outs = []
    for mod in (compiled, twin):
        a, h = np.empty_like(u), np.empty_like(u)
        du, dslope = np.empty_like(u), np.zeros(25)
        none = np.zeros((1, 1))
        with np.errstate(all="ignore"):
            mod.act_forward(code, u, a, h, none, none, np.zeros((1, 1), np.int64), slope,
                            1, 0.01, 1.0, False, False)
            mod.act_backward(code, u, a, u * 0.5, du, none, np.zeros((1, 1), np.int64),
                             slope, dslope, 1, 0.01, 1.0, False)
        outs.append((a, h, du, dslope))
    for x, y in zip(*outs):
        assert x.tobytes() == y.tobytes(), act


def test_a_stop_while_the_fast_kernels_wait_starts_no_compile(monkeypatch):
    """A restart within the loader's hold must not leave a compile running for the old session."""
    from tui_optim.runner import build

    asked = []

    def cache_miss(*a, **k):
        raise build._CompileNeeded("kernel")

    def prepare(problem, runs, report, stopped):
        asked.append(stopped())
        raise RuntimeError("preparing the kernels stopped")

    monkeypatch.setattr(build, "_warm_up_here", cache_miss)
    monkeypatch.setattr(build, "_prepare_in_child", prepare)
    scenario = load_scenario("03_momentum_ravine")
    fast = build.FastKernels(scenario.problem, scenario.runs, None)
    fast.start()
    build.stop_preparing()          # the dashboard restarts before the first round is out
    fast.go()
    with pytest.raises(RuntimeError, match="stopped"):
        fast.ready(10.0)
    assert asked == [True]


def test_runs_that_share_a_surface_still_share_it_after_the_switch():
    """The switch hands all runs over in one call: the surface (and its map) the runs of 03
    share on the interpreted tier stays one object, not a copy per run."""
    from tui_optim.runner import session as S

    s = S.Session(load_scenario("03_momentum_ravine"), tiered=True)
    s.compile()
    chunks = s.chunks()
    for _ in range(3):                  # the first round: every run's stepper is built
        next(chunks)
    specs = {id(st.spec) for st in s._steppers}
    assert len(specs) == 1
    assert s._fast.ready(120)
    s._to_compiled_tier()
    assert not s.interpreted and len({id(st.spec) for st in s._steppers}) == 1
    chunks.close()
