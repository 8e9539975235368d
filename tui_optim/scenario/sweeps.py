"""Sweeps: one `[[runs]]` entry expanded into several runs (lists, grids, random draws).

Deterministic: grids are evaluated in closed form and random draws come from `random.Random(seed)`
(stable across Python versions), so a scenario always expands to the same runs.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any, Mapping

from tui_optim.scenario.errors import Problems
from tui_optim.scenario.specs import (
    INVALID, Float, Int, Key, List, Str, is_number, join, show, suggest,
)

MAX_RUNS = 1000  # more runs than anyone can watch; also keeps hostile files cheap
MAX_TRIALS = 40_000  # per sweep of runs kept as results only (keep = "result"): a 200 x 200 grid
_CONTROL = ("mode", "count", "repeats")


def _check_bound(v: Any, path: str, out: Problems, log: bool) -> Any:
    """A range end: a number, or a list of numbers (vector ranges); > 0 on a log scale."""
    spec = Float(gt=0) if log else Float()
    if isinstance(v, list):
        return List(spec, min_len=1).check(v, path, out)
    return spec.check(v, path, out)


def _parse_range(r: dict, path: str, out: Problems, grid: bool) -> dict | Any:
    allowed = ("from", "to", "scale", "num") if grid else ("from", "to", "scale")
    ok = True
    for k in r:
        if k not in allowed:
            extra = " (num is for grid sweeps; random sweeps use count)" if k == "num" else ""
            out.add(join(path, k), f"unknown key {k!r}{suggest(k, allowed)}{extra}")
            ok = False
    scale = Str(("linear", "log")).check(r.get("scale", "linear"), join(path, "scale"), out)
    if scale is INVALID:
        return INVALID
    log = scale == "log"
    bounds = {}
    for k in ("from", "to"):
        if k not in r:
            out.add(path, f"a range needs {k!r}")
            ok = False
        else:
            bounds[k] = _check_bound(r[k], join(path, k), out, log)
            ok = ok and bounds[k] is not INVALID
    num = 1
    if grid:
        if "num" not in r:
            out.add(path, "a grid needs 'num' (the number of points)")
            ok = False
        else:
            num = Int(ge=1, le=MAX_TRIALS).check(r["num"], join(path, "num"), out)
            ok = ok and num is not INVALID
    if not ok:
        return INVALID
    a, b = bounds["from"], bounds["to"]
    if isinstance(a, tuple) != isinstance(b, tuple) or (
            isinstance(a, tuple) and len(a) != len(b)):
        out.add(path, f"'from' and 'to' must both be numbers or lists of the same length, "
                      f"got {show(a)} and {show(b)}")
        return INVALID
    return {"from": a, "to": b, "log": log, "num": num}


def _interp(a: float, b: float, u: float, log: bool) -> float:
    if log:
        return math.exp(math.log(a) + (math.log(b) - math.log(a)) * u)
    return a + (b - a) * u


def _at(rng: dict, u: float | list[float], clean: bool = False) -> Any:
    """The point at fraction u of a range; `clean` rounds grid points to 15 digits (1e-3, not
    0.0010000000000000002)."""
    a, b, log = rng["from"], rng["to"], rng["log"]

    def one(x: float, y: float, t: float) -> float:
        v = _interp(x, y, t, log)
        return float(f"{v:.15g}") if clean and math.isfinite(v) else v

    if isinstance(a, tuple):
        us = u if isinstance(u, list) else [u] * len(a)
        return [one(x, y, t) for x, y, t in zip(a, b, us)]
    return one(a, b, u)


def _as_int_if(spec_key: Key | None, v: Any) -> Any:
    if spec_key is not None and isinstance(spec_key.spec, Int) and is_number(v):
        return int(round(v))
    return v


def expand(sweep: Any, path: str, out: Problems, run_keys: Mapping[str, Key],
           limit: int = MAX_RUNS) -> list[dict[str, tuple[Any, str]]] | Any:
    """The runs of a sweep table: one dict per run, key -> (value, path of that value).

    Values are not checked against their key's spec here; the loader does that per run.
    `limit`: the most runs it may give (more for trials, which are not watched one by one).
    """
    if not isinstance(sweep, dict):
        out.add(path, f"expected a table like {{ lr = [0.1, 0.2] }}, got {show(sweep)}")
        return INVALID
    mode = Str(("grid", "random")).check(sweep.get("mode", "grid"), join(path, "mode"), out)
    if mode is INVALID:
        return INVALID
    grid = mode == "grid"
    ok = True
    count, seed = 1, 0
    if grid:
        if "count" in sweep:
            out.add(join(path, "count"), "'count' is for random sweeps (mode = \"random\")")
            ok = False
    else:
        if "count" not in sweep:
            out.add(path, "a random sweep needs 'count' (the number of draws)")
            ok = False
        else:
            count = Int(ge=1, le=limit).check(sweep["count"], join(path, "count"), out)
            ok = ok and count is not INVALID
        seed = Int(ge=0).check(sweep.get("seed", 0), join(path, "seed"), out)
        ok = ok and seed is not INVALID
    repeats = Int(ge=1, le=limit).check(sweep.get("repeats", 1), join(path, "repeats"), out)
    ok = ok and repeats is not INVALID
    control = _CONTROL + (() if grid else ("seed",))
    axes: list[tuple[str, Any]] = []  # (key, list of values | parsed range)
    for k, v in sweep.items():
        if k in control:
            continue
        kp = join(path, k)
        key = run_keys.get(k)
        if key is None:
            out.add(kp, f"unknown key {k!r}{suggest(k, list(run_keys) + list(control))}")
            ok = False
            continue
        if not key.sweepable:
            out.add(kp, f"{k!r} cannot be swept")
            ok = False
            continue
        if isinstance(v, list):
            if not v:
                out.add(kp, "expected a non-empty list of values")
                ok = False
                continue
            axes.append((k, v))
        elif isinstance(v, dict):
            r = _parse_range(v, kp, out, grid)
            if r is INVALID:
                ok = False
            else:
                axes.append((k, r))
        else:
            out.add(kp, f"expected a list of values or a range {{ from = .., to = .. }}, "
                        f"got {show(v)}")
            ok = False
    if not ok:
        return INVALID
    if not axes:
        out.add(path, "a sweep needs at least one key to vary, e.g. { lr = [0.1, 0.2] }")
        return INVALID
    if not grid and _too_many(count * repeats, limit, path, out):
        return INVALID
    runs = _grid(axes, path, out, run_keys, limit, repeats) if grid else \
        _draws(axes, path, run_keys, count * repeats, seed)
    if runs is INVALID or repeats == 1:
        return runs
    per = len(runs) // repeats          # the same search again: the runs say which time
    for k, run in enumerate(runs):
        run["repeat"] = (k // per, join(path, "repeats"))
    return runs


def _too_many(total: int, limit: int, path: str, out: Problems) -> bool:
    if total <= limit:
        return False
    more = "" if limit == MAX_TRIALS else (
        f"; runs kept as results only (keep = \"result\") may number {MAX_TRIALS}")
    out.add(path, f"the sweep gives {total} runs (at most {limit}{more})")
    return True


def _grid(axes: list, path: str, out: Problems, run_keys: Mapping[str, Key], limit: int,
          repeats: int) -> list[dict[str, tuple[Any, str]]] | Any:
    """Every combination of the axes (the first varies slowest), `repeats` times."""
    sizes = [len(v) if isinstance(v, list) else v["num"] for _, v in axes]
    if _too_many(math.prod(sizes) * repeats, limit, path, out):
        return INVALID
    columns = []
    for k, v in axes:
        kp = join(path, k)
        if isinstance(v, list):
            columns.append([(x, f"{kp}[{i}]") for i, x in enumerate(v)])
        else:
            n = v["num"]
            columns.append([(_as_int_if(run_keys[k], _at(v, i / (n - 1) if n > 1 else 0.0, clean=True)),
                             kp) for i in range(n)])
    return [
        {k: cell for (k, _), cell in zip(axes, combo)}
        for _ in range(repeats) for combo in itertools.product(*columns)
    ]


def _draws(axes: list, path: str, run_keys: Mapping[str, Key], count: int, seed: int
           ) -> list[dict[str, tuple[Any, str]]]:
    """`count` random draws of every axis from random.Random(seed)."""
    rng = random.Random(seed)
    runs = []
    for _ in range(count):
        run: dict[str, tuple[Any, str]] = {}
        for k, v in axes:
            kp = join(path, k)
            if isinstance(v, list):
                i = rng.randrange(len(v))
                run[k] = (v[i], f"{kp}[{i}]")
            else:
                u: float | list[float] = (
                    [rng.random() for _ in v["from"]] if isinstance(v["from"], tuple)
                    else rng.random())
                run[k] = (_as_int_if(run_keys[k], _at(v, u)), kp)
        runs.append(run)
    return runs
