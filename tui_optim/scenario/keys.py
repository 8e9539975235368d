"""The tables of valid keys: type, range, default, and which optimizer and problem each applies to.

Every default of the scenario format is defined here, once. Network and chain keys live in
network_keys.py (owned with the network engine) and are merged in at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from tui_optim.scenario.errors import Problems
from tui_optim.scenario import network_keys
from tui_optim.scenario.specs import (
    INVALID, MAX_SIZE, MAX_STEPS, PROBLEM_TYPES, REQUIRED, Any_, Bool, Float, Int, Key, List, RunContext, Spec, Str,
    Table, Window, check_keys, join,
)


# ---------------------------------------------------------------- top level

TOP_KEYS: dict[str, Key] = {k.name: k for k in [
    Key("title", Str(), REQUIRED),
    Key("topic", Str(), "misc"),
    Key("order", Int(), 999),
    Key("explanation", Str(), ""),
    Key("steps", Int(ge=1, le=MAX_STEPS), 200),
    Key("seed", Int(ge=0), 0),
    Key("speed", Float(gt=0), None),  # None: the dashboard picks a speed so a run takes ~5 s
    Key("problem", Any_(), REQUIRED),
    Key("defaults", Any_(), None),
    Key("runs", Any_(), None),
    Key("panes", Any_(), None),
    Key("expect", Any_(), None),
]}

# ---------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class SurfaceInfo:
    """A surface's own problem keys, its dimension, and its default start.

    The map window is left to the engine when not given: it fits the start and the minima, which
    takes the surface's numerics.
    """

    keys: dict[str, Key]
    dim: Callable[[Mapping[str, Any]], int | None]
    start: Callable[[Mapping[str, Any], int], tuple[float, ...]]


def _keys(*ks: Key) -> dict[str, Key]:
    return {k.name: k for k in ks}


def _quadratic_dim(p: Mapping[str, Any]) -> int | None:
    if p.get("matrix") is not None:
        return len(p["matrix"])
    if p.get("eigenvalues") is not None:
        return len(p["eigenvalues"])
    return None


def _quadratic_start(p: Mapping[str, Any], d: int) -> tuple[float, ...]:
    """θ* + (-4, 3, -4, ...) (θ* + 2 in 1-D), θ* = -A⁻¹b when A is positive definite, else 0.

    A is built as the engine builds it (eigenbasis rotated by `angle` in 2-D, a seeded random
    orthogonal basis for d > 2), so the default start matches the engine's own.
    """
    if p.get("matrix") is not None:
        A = np.asarray(p["matrix"], dtype=float)
        A = 0.5 * (A + A.T)
    else:
        ev = np.asarray(p["eigenvalues"], dtype=float)
        if d == 2:
            a = np.deg2rad(float(p.get("angle") or 0.0))
            Q = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        elif d > 2 and p.get("rotation_seed") is not None:
            Q, R = np.linalg.qr(np.random.default_rng(int(p["rotation_seed"])).standard_normal((d, d)))
            Q = Q * np.sign(np.diag(R))
        else:
            Q = np.eye(d)
        A = (Q * ev) @ Q.T
    b = np.asarray(p.get("b") if p.get("b") is not None else np.zeros(d), dtype=float)
    star = np.zeros(d)
    try:
        if np.all(np.linalg.eigvalsh(A) > 0):
            star = np.linalg.solve(A, -b)
    except np.linalg.LinAlgError:
        pass
    offset = np.resize([-4.0, 3.0] if d > 1 else [2.0], d)
    return tuple(float(x) for x in star + offset)


def _fixed(*start: float) -> Callable[[Mapping[str, Any], int], tuple[float, ...]]:
    return lambda p, d: tuple(start)


_DATA_KEYS = (
    Key("n_samples", Int(ge=1, le=MAX_SIZE), 200),
    Key("n_features", Int(ge=1, le=1000), 2),
    Key("scales", List(Float(gt=0), min_len=1), None),  # None: all 1 (one per feature)
    Key("noise", Float(ge=0), 0.1),
    Key("data_seed", Int(ge=0), 0),
)

SURFACES: dict[str, SurfaceInfo] = {
    "quadratic": SurfaceInfo(
        _keys(
            Key("eigenvalues", List(Float(), min_len=1), None),
            Key("allow_indefinite", Bool(), False),
            Key("angle", Float(), 0.0),
            Key("rotation_seed", Int(ge=0), None),
            Key("matrix", List(List(Float(), min_len=1), min_len=1), None),
            Key("b", List(Float(), min_len=1), None),  # None: zeros
            Key("c", Float(), 0.0),
        ),
        _quadratic_dim, _quadratic_start),
    "rosenbrock": SurfaceInfo(
        _keys(Key("a", Float(), 1.0), Key("b", Float(), 100.0)),
        lambda p: 2, _fixed(-1.2, 1.0)),
    "beale": SurfaceInfo({}, lambda p: 2, _fixed(1.0, 1.5)),
    "himmelblau": SurfaceInfo({}, lambda p: 2, _fixed(0.0, 0.0)),
    "rastrigin": SurfaceInfo(
        _keys(Key("A", Float(ge=0), 10.0), Key("dim", Int(ge=1, le=1000), 2)),
        lambda p: p.get("dim", 2), lambda p, d: tuple(float(x) for x in np.resize([3.2, -2.7], d))),
    "saddle": SurfaceInfo({}, lambda p: 2, _fixed(1.5, 1e-3)),
    "monkey_saddle": SurfaceInfo({}, lambda p: 2, _fixed(1.5, 1e-3)),
    "double_well": SurfaceInfo(
        _keys(Key("a", Float(gt=0), 1.0), Key("tilt", Float(), 0.3)),
        lambda p: 1, _fixed(1.5)),
    "wiggly": SurfaceInfo(
        _keys(Key("amplitude", Float(ge=0), 1.0), Key("frequency", Float(gt=0), 10.0)),
        lambda p: 1, _fixed(2.5)),
    "cliff": SurfaceInfo(
        _keys(Key("height", Float(gt=0), 100.0), Key("sharpness", Float(gt=0), 50.0),
              Key("position", Float(), 1.0)),
        lambda p: 2, _fixed(3.0, 1.0)),
    "least_squares": SurfaceInfo(
        _keys(*_DATA_KEYS), lambda p: p.get("n_features", 2),
        lambda p, d: tuple([0.0] * d)),
    "logistic": SurfaceInfo(
        _keys(*_DATA_KEYS, Key("separable", Bool(), False), Key("margin", Float(ge=0), 0.5)),
        lambda p: p.get("n_features", 2),
        lambda p, d: tuple([0.0] * d)),
    # θ = (W, H) flattened; the start is a seeded random init drawn by the engine (None here)
    "sparse_coding": SurfaceInfo(
        _keys(Key("n_samples", Int(ge=1, le=10**4), 30), Key("n_atoms", Int(ge=1, le=100), 4),
              Key("n_features", Int(ge=1, le=100), 6), Key("l1", Float(ge=0), 0.5),
              Key("w_decay", Float(ge=0), 0.0), Key("noise", Float(ge=0), 0.05),
              Key("data_seed", Int(ge=0), 0)),
        lambda p: p.get("n_atoms", 4) * (p.get("n_features", 6) + p.get("n_samples", 30)),
        lambda p, d: None),
}

# Problem keys every surface takes. window/minima/saddles left None are the engine's to draw.
SURFACE_COMMON: dict[str, Key] = _keys(
    Key("type", Str(PROBLEM_TYPES), REQUIRED),
    Key("surface", Str(tuple(SURFACES)), REQUIRED),
    Key("window", Window(), None),  # None: the engine fits it to the start and minima
    Key("minima", List(List(Float(), min_len=1)), None),
    Key("saddles", List(List(Float(), min_len=1)), None),
)

# ---------------------------------------------------------------- run keys

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "lbfgs",
              "coordinate")
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine", "cyclic", "linear")

_F = frozenset
_DELTA = {"adagrad": 1e-7, "rmsprop": 1e-6, "adam": 1e-8}

# schedule name -> {key: (spec, default)}; REQUIRED marks keys without a default.
SCHEDULE_KEYS: dict[str, dict[str, tuple[Spec, Any]]] = {
    "constant": {},
    "step": {"every": (Int(ge=1, le=MAX_STEPS), REQUIRED), "factor": (Float(gt=0), 0.5)},
    "exponential": {"rate": (Float(gt=0), REQUIRED)},
    "inverse_time": {"k": (Float(ge=0), REQUIRED)},
    "cosine": {"min_lr": (Float(ge=0), 0.0), "period": (Int(ge=1, le=MAX_STEPS), "steps")},
    "cyclic": {"cycles": (Int(ge=1, le=MAX_STEPS), REQUIRED), "min_lr": (Float(ge=0), 0.0)},
    "linear": {"final_lr": (Float(ge=0), REQUIRED), "until": (Int(ge=1, le=MAX_STEPS), REQUIRED)},
}


def _fill_table(value: dict, keys: dict[str, tuple[Spec, Any]], path: str, out: Problems,
                ctx: RunContext | None, what: str) -> dict | Any:
    """Check a sub-table's keys against `keys`, filling defaults ("steps": the run's steps)."""
    ok = check_keys(value, list(keys), path, out)
    result: dict[str, Any] = {}
    for k, (spec, default) in keys.items():
        if k in value:
            v = spec.check(value[k], join(path, k), out)
            ok = ok and v is not INVALID
            result[k] = v
        elif default is REQUIRED:
            out.add(path, f"{what} needs {k!r}")
            ok = False
        else:
            result[k] = (ctx.steps if ctx else None) if default == "steps" else default
    return result if ok else INVALID


def _schedule(value, path, out, ctx):
    name = value.get("name", "constant")
    if not isinstance(name, str) or name not in SCHEDULES:
        Str(SCHEDULES).check(name, join(path, "name"), out)
        return INVALID
    keys = {"name": (Str(SCHEDULES), "constant"), "warmup": (Int(ge=0, le=MAX_STEPS), 0),
            **SCHEDULE_KEYS[name]}
    return _fill_table(value, keys, path, out, ctx, f"schedule {name!r}")


def _clip(value, path, out, ctx):
    keys = {"norm": (Float(gt=0), None), "value": (Float(gt=0), None)}
    result = _fill_table(value, keys, path, out, ctx, "clip")
    if result is not INVALID and (result["norm"] is None) == (result["value"] is None):
        out.add(path, "expected exactly one of 'norm' or 'value', e.g. { norm = 1.0 }")
        return INVALID
    return result


def _average(value, path, out, ctx):
    kind = value.get("kind")
    if kind not in ("polyak", "ema"):
        if kind is None:
            out.add(path, "average needs 'kind' (\"polyak\" or \"ema\")")
        else:
            Str(("polyak", "ema")).check(kind, join(path, "kind"), out)
        return INVALID
    keys: dict[str, tuple[Spec, Any]] = {"kind": (Str(("polyak", "ema")), REQUIRED)}
    if kind == "ema":
        keys["decay"] = (Float(gt=0, lt=1), 0.99)
    return _fill_table(value, keys, path, out, ctx, "average")


def _continuation(value, path, out, ctx):
    keys = {"sigmas": (List(Float(ge=0), min_len=1, max_len=100), REQUIRED),
            "samples": (Int(ge=1, le=10**4), 16)}
    return _fill_table(value, keys, path, out, ctx, "continuation")


COORDINATE_MODES = ("exact", "gradient", "block_exact")


@dataclass
class _CoordinateMode(Table):
    """coordinate_mode: a string; "block_exact" (blocks W and H) only on sparse coding."""

    expected = "one of " + ", ".join(map(repr, COORDINATE_MODES))

    def check(self, value, path, out, context=None):
        v = Str(COORDINATE_MODES).check(value, path, out)
        if v == "block_exact" and context is not None and context.surface != "sparse_coding":
            out.add(path, "'block_exact' (exact minimisation over the blocks W and H in turn) "
                          "is for surface 'sparse_coding'")
            return INVALID
        return v


def _start_default(ctx: RunContext) -> Any:
    if ctx.surface is None or ctx.dim is None:
        return None
    return SURFACES[ctx.surface].start(ctx.problem, ctx.dim)


# Keys every run has whatever its optimizer; handled by the loader rather than copied blindly.
RUN_META = ("label", "group", "steps", "seed", "sweep")

RUN_KEYS: dict[str, Key] = _keys(
    Key("label", Str(), None, sweepable=False),
    Key("group", Str(), None, sweepable=False),
    Key("steps", Int(ge=1, le=MAX_STEPS), None),  # None: top-level steps
    Key("seed", Int(ge=0), None),  # None: top-level seed + run index
    Key("sweep", Any_(), None, sweepable=False),
    Key("optimizer", Str(OPTIMIZERS), "sgd"),
    Key("start", List(Float(), min_len=1), _start_default, problems=_F({"surface"})),
    Key("noise", Float(ge=0), 0.0, problems=_F({"surface"})),
    Key("continuation", Table(_continuation), None, problems=_F({"surface"})),
    Key("lr", Float(gt=0), lambda c: 1.0 if c.optimizer in ("newton", "lbfgs") else 0.01),
    Key("momentum", Float(ge=0, lt=1), 0.9, optimizers=_F({"momentum", "nesterov"})),
    Key("rho", Float(ge=0, lt=1), 0.9, optimizers=_F({"rmsprop"})),
    Key("rho1", Float(ge=0, lt=1), 0.9, optimizers=_F({"adam"})),
    Key("rho2", Float(ge=0, lt=1), 0.999, optimizers=_F({"adam"})),
    Key("delta", Float(gt=0), lambda c: _DELTA.get(c.optimizer), optimizers=_F(_DELTA)),
    Key("bias_correction", Bool(), True, optimizers=_F({"adam"})),
    Key("damping", Float(ge=0), 0.0, optimizers=_F({"newton"})),
    Key("history", Int(ge=1, le=1000), 10, optimizers=_F({"lbfgs"})),
    Key("line_search", Str(("armijo", "none")), "armijo", optimizers=_F({"lbfgs"})),
    Key("coordinate_mode", _CoordinateMode(), "exact", optimizers=_F({"coordinate"})),
    Key("block", Int(ge=1, le=1000), 1, optimizers=_F({"coordinate"})),
    Key("schedule", Table(_schedule), None),  # None: constant (filled by the loader)
    Key("clip", Table(_clip), None),
    Key("average", Table(_average), None),
)

# standardize: data surfaces, per run, so one scenario can compare raw and standardized features.
RUN_KEYS["standardize"] = Key("standardize", Bool(), False,
                              problems=_F({"surface:least_squares", "surface:logistic"}))

# batch_size: data surfaces (0 = full batch) and networks (network_keys gives its default).
RUN_KEYS["batch_size"] = Key(
    "batch_size", Int(ge=0, le=MAX_SIZE), lambda c: 32 if c.ptype == "network" else 0,
    problems=_F({"surface:least_squares", "surface:logistic", "network"}))


def surface_dim(surface: str, problem: Mapping[str, Any]) -> int | None:
    try:
        d = SURFACES[surface].dim(problem)
    except Exception:
        return None
    return d if isinstance(d, int) and d >= 1 else None


network_keys.register(RUN_KEYS)
PROBLEM_KEYS: dict[str, dict[str, Key]] = {
    "network": network_keys.NETWORK_PROBLEM_KEYS,
    "chain": network_keys.CHAIN_PROBLEM_KEYS,
}
