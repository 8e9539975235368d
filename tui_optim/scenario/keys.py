"""The tables of valid keys: type, range, default, and which optimizer and problem each applies to.

Optimizers, schedules and surfaces are declared once, in the engine's numba-free catalog
(engine/catalog.py); their tables here are made from it. The keys of the format itself (top
level, run meta, clip, average, continuation) are defined here. Network and chain keys live in
network_keys.py and are merged in at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tui_optim.engine import catalog
from tui_optim.scenario import network_keys
from tui_optim.scenario.errors import Problems
from tui_optim.scenario.specs import (
    INVALID, MAX_STEPS, PROBLEM_TYPES, REQUIRED, Any_, Bool, Float, Int, Key, List, RunContext, Spec, Str,
    Table, Window, check_keys, join, spec_of,
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


def _keys(*ks: Key) -> dict[str, Key]:
    return {k.name: k for k in ks}


def keys_of(params) -> dict[str, Key]:
    """Key tables from the catalog's declarations (engine/catalog.py)."""
    return {p.name: Key(p.name, spec_of(p), p.default) for p in params}


SURFACES: dict[str, catalog.Surface] = catalog.by_name(catalog.SURFACES)
SURFACE_KEYS: dict[str, dict[str, Key]] = {s.name: keys_of(s.params) for s in catalog.SURFACES}

# Problem keys every surface takes. window/minima/saddles left None are the engine's to draw.
SURFACE_COMMON: dict[str, Key] = _keys(
    Key("type", Str(PROBLEM_TYPES), REQUIRED),
    Key("surface", Str(tuple(SURFACES)), REQUIRED),
    Key("window", Window(), None),  # None: the engine fits it to the start and minima
    Key("minima", List(List(Float(), min_len=1)), None),
    Key("saddles", List(List(Float(), min_len=1)), None),
)

# ---------------------------------------------------------------- run keys

OPTIMIZERS = tuple(catalog.codes(catalog.OPTIMIZERS))
SCHEDULES = tuple(catalog.codes(catalog.SCHEDULES))

_F = frozenset
# schedule name -> {key: (spec, default)}; REQUIRED marks keys without a default, RUN_STEPS
# the run's own steps.
SCHEDULE_KEYS: dict[str, dict[str, tuple[Spec, Any]]] = {
    e.name: {p.name: (spec_of(p), p.default) for p in e.params} for e in catalog.SCHEDULES}


def _optimizer_keys() -> dict[str, Key]:
    """One run key per optimizer key of the catalog, for the optimizers that take it; a default
    that differs between them (lr, delta) is looked up for the run's own optimizer."""
    by_name = catalog.by_name(catalog.OPTIMIZERS)
    takers: dict[str, list[str]] = {}
    for o in catalog.OPTIMIZERS:
        for p in o.params:
            takers.setdefault(p.name, []).append(o.name)
    out: dict[str, Key] = {}
    for name, names in takers.items():
        first = by_name[names[0]].param(name)
        defaults = {by_name[n].param(name).default for n in names}
        default = first.default if len(defaults) == 1 else (
            lambda c, name=name: by_name[c.optimizer].param(name).default
            if c.optimizer in by_name and name in {q.name for q in by_name[c.optimizer].params}
            else None)
        every = len(names) == len(OPTIMIZERS)
        out[name] = Key(name, spec_of(first), default, optimizers=None if every else _F(names))
    return out


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
            result[k] = (ctx.steps if ctx else None) if default == catalog.RUN_STEPS else default
    return result if ok else INVALID


def _schedule(value, path, out, ctx):
    name = value.get("name", "constant")
    if not isinstance(name, str) or name not in SCHEDULES:
        Str(SCHEDULES).check(name, join(path, "name"), out)
        return INVALID
    keys = {"name": (Str(SCHEDULES), "constant"), **SCHEDULE_KEYS[name]}
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
    """The surface's fixed start (rosenbrock's (-1.2, 1), …); None where the engine derives it
    from the problem (θ* + (-4, 3, …) on a quadratic, a tiled start, zeros, a seeded init)."""
    surface = SURFACES.get(ctx.surface or "")
    return surface.start if surface is not None else None


# Keys every run has whatever its optimizer; handled by the loader rather than copied blindly.
RUN_META = ("label", "group", "steps", "seed", "sweep", "keep", "tol")
KEEP = ("trace", "result")      # every record (watched), or the result only (a trial)

RUN_KEYS: dict[str, Key] = _keys(
    Key("label", Str(), None, sweepable=False),
    Key("group", Str(), None, sweepable=False),
    Key("steps", Int(ge=1, le=MAX_STEPS), None),  # None: top-level steps
    Key("seed", Int(ge=0), None),  # None: top-level seed + run index
    Key("sweep", Any_(), None, sweepable=False),
    Key("keep", Str(KEEP), "trace", sweepable=False),
    # which time a sweep with `repeats` ran this run (0, 1, …): claims compare searches per repeat
    Key("repeat", Int(ge=0), 0, sweepable=False),
    Key("tol", Float(gt=0), 1e-6),
    Key("optimizer", Str(OPTIMIZERS), "sgd"),
    Key("start", List(Float(), min_len=1), _start_default, problems=_F({"surface"})),
    Key("noise", Float(ge=0), 0.0, problems=_F({"surface"})),
    Key("continuation", Table(_continuation), None, problems=_F({"surface"})),
    *_optimizer_keys().values(),
    Key("schedule", Table(_schedule), None),  # None: constant (filled by the loader)
    Key("clip", Table(_clip), None),
    Key("average", Table(_average), None),
)

# standardize: data surfaces, per run, so one scenario can compare raw and standardized features.
RUN_KEYS["standardize"] = Key("standardize", Bool(), False,
                              problems=_F({"surface:least_squares", "surface:logistic"}))

# batch_size: data surfaces (0 = full batch) and networks (network_keys gives its default).
RUN_KEYS["batch_size"] = Key(
    "batch_size", spec_of(catalog.BATCH_SIZE), lambda c: catalog.BATCH_SIZE.default(c.problem),
    problems=_F({"surface:least_squares", "surface:logistic", "network"}))


def surface_dim(surface: str, problem: Mapping[str, Any]) -> int | None:
    try:
        d = catalog.surface_dim(SURFACES[surface], problem)
    except Exception:       # a problem table with errors (reported elsewhere)
        return None
    return d if isinstance(d, int) and d >= 1 else None


# coordinate_mode: the catalog's choices, and "block_exact" only where there are blocks
RUN_KEYS["coordinate_mode"] = Key("coordinate_mode", _CoordinateMode(), "exact",
                                  optimizers=_F({"coordinate"}))

network_keys.register(RUN_KEYS)
PROBLEM_KEYS: dict[str, dict[str, Key]] = {
    "network": network_keys.NETWORK_PROBLEM_KEYS,
    "chain": network_keys.CHAIN_PROBLEM_KEYS,
}
