"""TOML text -> validated, immutable Scenario, reporting every problem of a file at once.

Order of work: parse (tomllib), apply --set to the document, check the top level, the problem,
[defaults], each [[runs]] entry (expanding sweeps), then panes and [[expect]] (which need the run
labels). Checking goes on after a problem so that one load reports everything.
"""

from __future__ import annotations

import dataclasses
import math
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tui_optim.engine import series
from tui_optim.engine.csv_data import DataError, read_csv
from tui_optim.scenario import labels as labels_mod
from tui_optim.scenario import sweeps
from tui_optim.scenario.builtin import resolve_scenario_path
from tui_optim.scenario.checks import CheckError, parse_check
from tui_optim.scenario.errors import Problem, Problems, ScenarioError
from tui_optim.scenario.keys import (
    KEEP, OPTIMIZERS, PROBLEM_KEYS, RUN_KEYS, SURFACE_COMMON, SURFACE_KEYS, SURFACES, TOP_KEYS,
    surface_dim,
)
from tui_optim.scenario.model import (
    ExpectSpec, FrozenDict, PaneSpec, ProblemSpec, RunSpec, Scenario,
)
from tui_optim.scenario.panes import check_panes
from tui_optim.scenario.sets import apply_set, parse_sets
from tui_optim.scenario.specs import (
    INVALID, MAX_STEPS, PROBLEM_TYPES, REQUIRED, Float, Int, RunContext, Str, Table, check_keys, show, suggest,
)
from tui_optim.scenario.lines import LineMap

STEPS_TO_TOL = "steps_to_tol"       # what claims call a trial's steps to its tol
_SECTIONS = ("problem", "defaults", "runs", "panes", "expect")
_NOT_IN_DEFAULTS = ("label", "group", "sweep")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


MAX_SCENARIO_BYTES = 1 << 20      # a scenario is a page of TOML; more is a mistake or an attack


def load_scenario(path_or_name: str | Path, *, sets: Sequence[str] = (), steps: int | None = None,
                  seed: int | None = None) -> Scenario:
    """Load a scenario file, or the built-in of that name (no .toml and no path separator)."""
    path = resolve_scenario_path(path_or_name)

    def bad(message: str) -> ScenarioError:
        return ScenarioError([Problem(str(path), None, "", message)])

    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise bad("not a regular file (a scenario is a TOML file)")
        if st.st_size > MAX_SCENARIO_BYTES:
            raise bad(f"{st.st_size // 1024} KB is more than the {MAX_SCENARIO_BYTES // 1024} KB "
                      "a scenario file may have")
        data = path.read_bytes()
    except OSError as e:
        raise bad(f"cannot read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScenarioError([Problem(str(path), line, "", "not UTF-8 text")]) from None
    return load_scenario_text(text, str(path), sets=sets, steps=steps, seed=seed, path=path)


def load_scenario_text(text: str, filename: str, *, sets: Sequence[str] = (),
                       steps: int | None = None, seed: int | None = None,
                       path: Path | None = None) -> Scenario:
    """Load a scenario from its text (replay embeds the text); `filename` is used in messages."""
    filename = str(filename)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError([_toml_problem(filename, text, str(e))]) from None
    except RecursionError:
        raise ScenarioError([Problem(filename, None, "", "cannot parse: nested too deeply")]) \
            from None
    except (MemoryError, ValueError, TypeError) as e:
        raise ScenarioError([Problem(filename, None, "", f"cannot parse: {e}")]) from None
    out = Problems(filename, LineMap(text).line_of)
    try:
        scenario = _Builder(doc, text, filename, path, out).build(sets, steps, seed)
    except ScenarioError:
        raise
    except RecursionError:
        out.add("", "the file is nested too deeply")
        scenario = None
    except Exception as e:  # a bug here must still come out as a report on the file
        out.add("", f"internal error while checking the file: {type(e).__name__}: {e}")
        scenario = None
    if out or scenario is None:
        raise ScenarioError(out.sorted())
    return scenario


def _toml_problem(filename: str, text: str, message: str) -> Problem:
    m = _TOML_POS.search(message)
    if m:
        return Problem(filename, int(m.group(1)),
                       "", f"{message[: m.start()]} (column {m.group(2)})")
    if "end of document" in message:
        return Problem(filename, text.count("\n") + 1, "", message)
    return Problem(filename, None, "", message)


class _AnyName:
    """Stands in for the run labels when runs failed, so checks do not report spurious names."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self):
        return iter(())


class _Builder:
    def __init__(self, doc: dict, text: str, filename: str, path: Path | None, out: Problems):
        self.doc, self.text, self.filename, self.path, self.out = doc, text, filename, path, out
        self.global_sets: dict[str, tuple[Any, str]] = {}
        self.global_used: set[str] = set()

    # ------------------------------------------------------------ --set, --steps, --seed

    def apply_overrides(self, sets: Sequence[str], steps: Any, seed: Any) -> None:
        out = self.out
        items, errors = parse_sets(sets)
        for text, msg in errors:
            out.from_set.add(text)
            out.add(text, msg)
        for item in items:
            head = item.parts[0]
            if head in TOP_KEYS or head in _SECTIONS:
                out.from_set.add(item.path)
                msg = apply_set(self.doc, item)
                if msg:
                    out.add(item.path, msg)
            elif head in RUN_KEYS and len(item.parts) == 1:
                if head in _NOT_IN_DEFAULTS:
                    out.from_set.add(item.path)
                    out.add(item.path, f"{head!r} can only be set per run, e.g. runs[0].{head}=...")
                    continue
                out.from_set.add(item.path)
                self.global_sets[head] = (item.value, item.path)
            else:
                out.from_set.add(item.path)
                known = list(TOP_KEYS) + list(RUN_KEYS)
                out.add(item.path, f"unknown key {head!r}{suggest(str(head), known)}")
        if steps is not None:
            out.from_set.add("steps")
            self.doc["steps"] = steps
            self.global_sets["steps"] = (steps, "steps")
            self.global_used.add("steps")
        if seed is not None:
            out.from_set.add("seed")
            self.doc["seed"] = seed

    # ------------------------------------------------------------ top level

    def build(self, sets: Sequence[str], steps: Any, seed: Any) -> Scenario | None:
        out, doc = self.out, self.doc
        self.apply_overrides(sets, steps, seed)
        check_keys(doc, list(TOP_KEYS), "", out)
        top: dict[str, Any] = {}
        for k in ("title", "topic", "order", "explanation", "steps", "seed", "speed"):
            key = TOP_KEYS[k]
            if k in doc:
                top[k] = key.spec.check(doc[k], k, out)
            elif key.default is REQUIRED:
                out.add(k, f"missing required key {k!r}")
                top[k] = INVALID
            else:
                top[k] = key.default
        self.steps = top["steps"] if top["steps"] is not INVALID else 200
        self.seed = top["seed"] if top["seed"] is not INVALID else 0

        problem = self.check_problem()
        self.check_defaults()
        runs = self.check_runs(problem)
        panes_raw = doc.get("panes")
        if panes_raw is not None and not isinstance(panes_raw, list):
            out.add("panes", f"expected an array of tables [[panes]], got {show(panes_raw)}")
            panes_raw = []
        ptype = problem.type if problem else None
        series = emitted_series(ptype, self.dim, runs) if runs is not None else None
        trial_groups = sorted({r.group for r in runs or () if r.keep == "result"})
        watched_labels = [r.label for r in runs or () if r.keep == "trace"]
        panes = check_panes(panes_raw, ptype, problem.values if problem else {}, self.dim,
                            watched_labels if runs is not None else _AnyNameList(), out, series)
        if runs is not None:
            self.check_phase_panes(panes, trial_groups)
        # claims may also ask a trial's own measure
        self.series = [*series, STEPS_TO_TOL] if series is not None and trial_groups else series
        expects = self.check_expects(runs)
        if out or problem is None or runs is None:
            return None
        name = self.path.stem if self.path is not None else Path(self.filename).stem
        watched = [r for r in runs if r.keep == "trace"]
        trials = [r for r in runs if r.keep == "result"]
        return Scenario(
            path=self.path, name=name, source_text=self.text, title=top["title"],
            topic=top["topic"], order=top["order"], explanation=top["explanation"],
            steps=self.steps, seed=self.seed, speed=top["speed"], problem=problem,
            runs=tuple(dataclasses.replace(r, index=i) for i, r in enumerate(watched)),
            trials=tuple(dataclasses.replace(r, index=i) for i, r in enumerate(trials)),
            panes=tuple(PaneSpec(k, FrozenDict(v)) for k, v in panes),
            expects=tuple(expects),
        )

    # ------------------------------------------------------------ problem

    def check_problem(self) -> ProblemSpec | None:
        out = self.out
        self.ptype: str | None = None
        self.surface: str | None = None
        self.dim: int | None = None
        self.problem_values: dict[str, Any] = {}
        p = self.doc.get("problem")
        if p is None:
            out.add("problem", "missing required table [problem]")
            return None
        if not isinstance(p, dict):
            out.add("problem", f"expected a table [problem], got {show(p)}")
            return None
        t = p.get("type")
        if t is None:
            out.add("problem", f"[problem] needs 'type' (one of {', '.join(map(repr, PROBLEM_TYPES))})")
            return None
        if Str(PROBLEM_TYPES).check(t, "problem.type", out) is INVALID:
            return None
        if t == "surface":
            s = p.get("surface")
            if s is None:
                out.add("problem", f"a surface problem needs 'surface' "
                                   f"(one of {', '.join(map(repr, SURFACES))})")
            elif Str(tuple(SURFACES)).check(s, "problem.surface", out) is not INVALID:
                self.surface = s
            if self.surface:
                keys = {**SURFACE_COMMON, **SURFACE_KEYS[self.surface]}
            else:
                keys = dict(SURFACE_COMMON)
                for table in SURFACE_KEYS.values():
                    keys.update(table)
        else:
            keys = PROBLEM_KEYS[t]
        elsewhere = {k: n for n, table in SURFACE_KEYS.items() for k in table}
        for k in p:
            if k in keys:
                continue
            if t == "surface" and k in elsewhere:
                out.add(f"problem.{k}", f"{k!r} is a key of surface {elsewhere[k]!r}, "
                                        f"not of {self.surface!r}")
            else:
                out.add(f"problem.{k}", f"unknown key {k!r}{suggest(k, list(keys))}")
        values: dict[str, Any] = {}
        ok = True
        for k, key in keys.items():
            if k in p:
                values[k] = key.spec.check(p[k], f"problem.{k}", out)
                ok = ok and values[k] is not INVALID
        if t == "surface" and self.surface is None:
            return None
        for k, key in keys.items():
            if k not in p:
                if key.default is REQUIRED:
                    if k != "surface":
                        out.add("problem", f"a {t} problem needs {k!r}")
                    ok = False
                else:
                    values[k] = key.default_for(values)
        if not ok:
            return None
        if t == "surface":
            ok = self.check_surface(values)
        elif t == "network":
            ok = self.check_network(p, values)
        if not ok:
            return None
        self.ptype = t
        self.problem_values = values
        return ProblemSpec(t, FrozenDict(values))

    def check_surface(self, v: dict[str, Any]) -> bool:
        out, s = self.out, self.surface
        assert s is not None
        ok = True
        if s == "quadratic":
            ok = self.check_quadratic(v)
        if s in ("least_squares", "logistic"):
            n = v["n_features"]
            need = 8 * 3 * v["n_samples"] * n          # the data, a minibatch copy, a gradient
            if need > MAX_NETWORK_BYTES:
                out.add("problem.n_samples", f"{v['n_samples']} samples of {n} features would "
                        f"need about {need / 2**30:.1f} GB; the limit is "
                        f"{MAX_NETWORK_BYTES // 2**30} GB")
                return False
            if v["scales"] is None:
                v["scales"] = tuple([1.0] * n)
            elif len(v["scales"]) != n:
                out.add("problem.scales", f"expected {n} scales (n_features = {n}), "
                                          f"got {len(v['scales'])}")
                ok = False
        if not ok:
            return False
        self.dim = surface_dim(s, v)
        for k in ("minima", "saddles"):
            if v[k] is not None and self.dim is not None:
                for i, pt in enumerate(v[k]):
                    if len(pt) != self.dim:
                        out.add(f"problem.{k}[{i}]", f"expected a point of {self.dim} "
                                                     f"coordinates, got {show(pt)}")
                        ok = False
        return ok

    def check_quadratic(self, v: dict[str, Any]) -> bool:
        out = self.out
        ev, A = v["eigenvalues"], v["matrix"]
        if ev is None and A is None:
            out.add("problem", "a quadratic needs 'eigenvalues' (or a full 'matrix')")
            return False
        if ev is not None and A is not None:
            out.add("problem.matrix", "give 'eigenvalues' or 'matrix', not both")
            return False
        ok = True
        if ev is not None:
            d = len(ev)
            if not v["allow_indefinite"]:
                for i, lam in enumerate(ev):
                    if lam <= 0:
                        out.add(f"problem.eigenvalues[{i}]", f"expected a number > 0 (or set "
                                f"allow_indefinite = true), got {show(lam)}")
                        ok = False
        else:
            d = len(A)
            for i, row in enumerate(A):
                if len(row) != d:
                    out.add(f"problem.matrix[{i}]", f"expected a row of {d} numbers (the matrix "
                                                    f"is {d}×{d}), got {len(row)}")
                    ok = False
            if ok:
                M = np.array(A, dtype=float)
                if not np.allclose(M, M.T, rtol=1e-12, atol=1e-12):
                    out.add("problem.matrix", "expected a symmetric matrix")
                    ok = False
                elif not v["allow_indefinite"]:
                    try:
                        lam_min = float(np.linalg.eigvalsh(M).min())
                    except (np.linalg.LinAlgError, ValueError):
                        lam_min = math.nan
                    if not lam_min > 0:
                        out.add("problem.matrix", "expected a positive definite matrix (or set "
                                f"allow_indefinite = true); its smallest eigenvalue is {lam_min:.3g}")
                        ok = False
        if v["b"] is None:
            v["b"] = tuple([0.0] * d)
        elif len(v["b"]) != d:
            out.add("problem.b", f"expected {d} numbers (the dimension), got {len(v['b'])}")
            ok = False
        return ok

    def check_csv(self, v: dict[str, Any]) -> bool:
        """Read the data as the run will: its problems are the file's (FILE:LINE: column), and
        its shape decides the default panes (2 features and classes: the decision boundary)."""
        try:
            X, _, classes = read_csv(v["path"], str(v.get("label") or "label"))
        except DataError as e:
            self.out.add("problem.path", str(e))
            return False
        v["dim"], v["classes"] = int(X.shape[1]), int(classes)
        return True

    def check_network(self, p: dict, v: dict[str, Any]) -> bool:
        out = self.out
        ok = True
        if v["dataset"] == "csv":
            if v["path"] is None:
                out.add("problem", "a csv data set needs 'path'")
                ok = False
            else:
                if self.path is not None and not Path(v["path"]).is_absolute():
                    v["path"] = str(self.path.parent / v["path"])
                ok = self.check_csv(v) and ok
        elif "path" in p:
            out.add("problem.path", "'path' is for dataset = \"csv\"")
            ok = False
        fixed_2d = ("spiral", "circles", "xor", "moons")
        if v["dataset"] in fixed_2d and "dim" in p and v["dim"] != 2:
            out.add("problem.dim", f"the {v['dataset']} data set is 2-D, got dim = {v['dim']}")
            ok = False
        return ok

    # ------------------------------------------------------------ runs

    def check_defaults(self) -> None:
        out = self.out
        self.defaults: dict[str, Any] = {}
        d = self.doc.get("defaults")
        if d is None:
            return
        if not isinstance(d, dict):
            out.add("defaults", f"expected a table [defaults], got {show(d)}")
            return
        for k, v in d.items():
            path = f"defaults.{k}"
            key = RUN_KEYS.get(k)
            if key is None:
                out.add(path, f"unknown key {k!r}{suggest(k, list(RUN_KEYS))}")
            elif k in _NOT_IN_DEFAULTS:
                out.add(path, f"{k!r} belongs in a [[runs]] entry, not in [defaults]")
            elif self._check_value(key, v, path, None) is not INVALID:
                self.defaults[k] = v

    def _check_value(self, key, value, path, ctx):
        if isinstance(key.spec, Table):
            return key.spec.check(value, path, self.out, ctx)
        return key.spec.check(value, path, self.out)

    def check_runs(self, problem: ProblemSpec | None) -> list[RunSpec] | None:
        out = self.out
        raw = self.doc.get("runs")
        before = len(out.items)      # a bad --set fails every run: no claim then names a lost run
        for k, (v, p) in self.global_sets.items():
            if k != "steps":
                self._check_value(RUN_KEYS[k], v, p, None)
        if raw is None:
            entries: list[Any] = [{}]
        elif not isinstance(raw, list):
            out.add("runs", f"expected an array of tables [[runs]], got {show(raw)}")
            return None
        else:
            entries = raw if raw else [{}]
        runs: list[RunSpec] = []
        owners: dict[str, str] = {}
        for i, entry in enumerate(entries):
            epath = f"runs[{i}]"
            if not isinstance(entry, dict):
                out.add(epath, f"expected a table, got {show(entry)}")
                continue
            for k in entry:
                if k not in RUN_KEYS:
                    out.add(f"{epath}.{k}", f"unknown key {k!r}{suggest(k, list(RUN_KEYS))}")
            entry = {k: v for k, v in entry.items() if k in RUN_KEYS}
            template = self._meta_str(entry, "label", epath)
            group = self._meta_str(entry, "group", epath)
            sweep = entry.get("sweep")
            expanded: Any = [{}]
            if sweep is not None:
                if isinstance(sweep, dict):
                    sweep = {k: v for k, v in sweep.items() if k not in self.global_sets}
                    if all(k in ("mode", "count", "repeats") for k in sweep):
                        sweep = None  # every swept key was overridden by --set
                if sweep is not None:
                    keep = entry.get("keep", self.defaults.get("keep"))
                    limit = sweeps.MAX_TRIALS if keep == "result" else sweeps.MAX_RUNS
                    expanded = sweeps.expand(sweep, f"{epath}.sweep", out, RUN_KEYS, limit)
                    if expanded is INVALID:
                        continue
            for sw in expanded:
                run = self.make_run(len(runs), epath, entry, sw, template, group)
                if run is None:
                    continue
                if run.label in owners:
                    if owners[run.label] == epath:
                        out.add(f"{epath}.label", f"the sweep gives several runs labelled "
                                f"{run.label!r}; put the swept keys in the label, "
                                "e.g. \"lr {lr:.2g}\"")
                    else:
                        out.add(f"{epath}.label", f"label {run.label!r} is also used by "
                                                  f"{owners[run.label]}")
                    continue
                owners[run.label] = epath
                runs.append(run)
        for k, (v, p) in self.global_sets.items():
            if k not in self.global_used and problem is not None:
                out.add(p, f"{k!r} does not apply to any run")
        if len(out.items) > before or problem is None:
            return None
        return runs

    def check_phase_panes(self, panes: list, trial_groups: list[str]) -> None:
        """A phase pane draws trials: the scenario must have some, and its `group` be theirs."""
        for i, (kind, values) in enumerate(panes):
            if kind != "phase":
                continue
            if not trial_groups:
                self.out.add(f"panes[{i}].kind", "a phase pane draws trials (runs with keep = "
                                                 "\"result\"); this scenario has none")
            elif values.get("group") is not None and values["group"] not in trial_groups:
                g = values["group"]
                self.out.add(f"panes[{i}].group", f"no trials in group {g!r}"
                                                  f"{suggest(g, trial_groups)} (trial groups: "
                                                  f"{', '.join(map(repr, trial_groups))})")

    def _meta_str(self, entry: dict, k: str, epath: str) -> str | None:
        if k not in entry:
            return None
        v = Str().check(entry[k], f"{epath}.{k}", self.out)
        if v is INVALID:
            return None
        if k == "label":
            try:
                labels_mod.fields(v)
            except ValueError as e:
                self.out.add(f"{epath}.label", f"bad label template {v!r}: {e}")
                return None
        return v

    def make_run(self, index: int, epath: str, entry: dict, swept: dict, template: str | None,
                 group: str | None) -> RunSpec | None:
        out = self.out
        src: dict[str, tuple[Any, str, str]] = {}
        for k, v in self.defaults.items():
            src[k] = (v, f"defaults.{k}", "defaults")
        for k, v in entry.items():
            if k not in _NOT_IN_DEFAULTS:
                src[k] = (v, f"{epath}.{k}", "entry")
        for k, (v, p) in swept.items():
            src[k] = (v, p, "sweep")
        for k, (v, p) in self.global_sets.items():
            src[k] = (v, p, "set")
        for k in ("optimizer", "steps", "seed"):
            if k in src and src[k][2] == "set":
                self.global_used.add(k)
        # An optimizer chosen by --set drops the keys of the file that do not apply to it.
        lenient = False
        if "optimizer" in src:
            v, p, source = src["optimizer"]
            lenient = source == "set" or out.is_from_set(p)
            opt = Str(OPTIMIZERS).check(v, p, out)
            if opt is INVALID:
                return None
            if opt in SECOND_ORDER and self.ptype in ("network", "chain"):
                out.add(p, f"{opt!r} needs an analytic surface (its Hessian); a {self.ptype} "
                           "trains with a first-order optimizer (sgd, momentum, nesterov, "
                           "adagrad, rmsprop, adam)")
                return None
        else:
            opt = "sgd"
        steps = self.steps
        if "steps" in src:
            v, p, _ = src["steps"]
            steps = Int(ge=1, le=MAX_STEPS).check(v, p, out)
            if steps is INVALID:
                return None
        seed = self.seed + index
        if "seed" in src:
            v, p, _ = src["seed"]
            seed = Int(ge=0).check(v, p, out)
            if seed is INVALID:
                return None
        keep, tol = "trace", 1e-6
        if "keep" in src:
            v, p, _ = src["keep"]
            keep = Str(KEEP).check(v, p, out)
            if keep is INVALID:
                return None
        if "tol" in src:
            v, p, source = src["tol"]
            tol = Float(gt=0).check(v, p, out)
            if tol is INVALID:
                return None
            if keep != "result" and source in ("entry", "sweep"):
                out.add(p, "'tol' is for trials: runs kept as their result (keep = \"result\"); "
                           "a watched run's claims name their own tolerance (steps_to)")
                return None
        ctx = RunContext(opt, self.ptype or "", self.surface, self.problem_values, self.dim, steps)
        values: dict[str, Any] = {"optimizer": opt, "steps": steps, "seed": seed}
        ok = True
        for k, key in RUN_KEYS.items():
            if k in _NOT_IN_DEFAULTS or k in values or k in ("keep", "tol"):
                continue
            applies = key.applies(ctx)
            if k in src:
                v, p, source = src[k]
                if not applies:
                    if source in ("entry", "sweep") and not lenient:
                        out.add(re.sub(r"\[\d+\]$", "", p), f"{k!r} {key.why_not(ctx)}")
                        ok = False
                    continue
                if source == "set":
                    self.global_used.add(k)
                val = self._check_value(key, v, p, ctx)
                if val is INVALID:
                    ok = False
                    continue
                if k == "start" and self.dim is not None and len(val) != self.dim:
                    out.add(p, f"expected {self.dim} coordinates (the {self.surface} surface "
                               f"here is {self.dim}-D), got {show(val)}")
                    ok = False
                values[k] = val
            elif applies:
                values[k] = key.default_for(ctx)
        if values.get("schedule", 0) is None:
            values["schedule"] = {"name": "constant", "warmup": 0}
        if ok and self.ptype == "network":
            ok = self._fits_in_memory(values, src, epath)
        pre, hidden = values.get("pretrain_steps") or 0, len(values.get("layers") or ())
        if ok and pre and hidden >= 2 and pre * (hidden - 1) >= steps:
            p = src["pretrain_steps"][1] if "pretrain_steps" in src else f"{epath}.pretrain_steps"
            out.add(p, f"{hidden - 1} pretrained layers of {pre} steps each leave none of the "
                       f"{steps} steps for the whole network: need pretrain_steps < "
                       f"{-(-steps // (hidden - 1))} or more steps")
            ok = False
        if not ok:
            return None
        if template is None:
            template = labels_mod.default_template(opt, list(swept), values)
        try:
            label = labels_mod.render(template, values)
        except ValueError as e:
            out.add(f"{epath}.label", str(e))
            return None
        return RunSpec(index, label, group if group is not None else template, steps, seed,
                       FrozenDict(values), keep, tol)

    def _fits_in_memory(self, values: dict, src: dict, epath: str) -> bool:
        """A network the engine could not hold is refused before anything is allocated, with
        what it would need: weights and their optimizer state, and the batch's activations."""
        widths = [int(self.problem_values.get("dim") or 2), *(values.get("layers") or ())]
        weights = sum(a * b for a, b in zip(widths, widths[1:])) * (values.get("maxout_pieces") or 1)
        batch = max(int(values.get("batch_size") or 0), 256)
        need = 8 * (6 * weights + 12 * batch * sum(widths))
        if need <= MAX_NETWORK_BYTES:
            return True
        p = src["layers"][1] if "layers" in src else f"{epath}.layers"
        self.out.add(p, f"this network would need about {need / 2**30:.1f} GB (weights, optimizer "
                        f"state and activations); the limit is {MAX_NETWORK_BYTES // 2**30} GB")
        return False

    # ------------------------------------------------------------ expect

    def check_expects(self, runs: list[RunSpec] | None) -> list[ExpectSpec]:
        out = self.out
        raw = self.doc.get("expect")
        if raw is None:
            return []
        if not isinstance(raw, list):
            out.add("expect", f"expected an array of tables [[expect]], got {show(raw)}")
            return []
        labels: Any = [r.label for r in runs] if runs is not None else _AnyName()
        groups: Any = sorted({r.group for r in runs}) if runs is not None else _AnyName()
        result = []
        for i, e in enumerate(raw):
            path = f"expect[{i}]"
            if not isinstance(e, dict):
                out.add(path, f"expected a table with 'claim' and 'check', got {show(e)}")
                continue
            check_keys(e, ("claim", "check"), path, out)
            if "check" not in e:
                out.add(path, "an [[expect]] entry needs 'check'")
                continue
            check = Str().check(e["check"], f"{path}.check", out)
            claim = Str().check(e.get("claim", check), f"{path}.claim", out)
            if check is INVALID or claim is INVALID:
                continue
            try:
                parse_check(check, labels, groups, RUN_KEYS, self.series)
            except CheckError as ce:
                out.add(f"{path}.check", str(ce))
                continue
            result.append(ExpectSpec(claim, check, self.out.line_of(path)))
        return result


def emitted_series(ptype: str | None, dim: int | None, runs: Sequence[RunSpec]) -> list[str] | None:
    """Every series name these runs can emit (engine/series), or None when unknown: the names
    that panes and claims may use."""
    if ptype == "surface":
        return series.surface_series(dim, averaged=any(r.values.get("average") for r in runs))
    if ptype == "network":
        return series.network_series(max((len(r.values.get("layers") or ()) + 1 for r in runs),
                                         default=1))
    if ptype == "chain":
        return series.chain_series(min(series.MAX_LAYERS, max(
            (max(r.steps, int(r.values.get("depth") or 0)) for r in runs), default=1)))
    return None


MAX_NETWORK_BYTES = 4 * 2**30        # what one run's data or network may take (of 24 GB here)
SECOND_ORDER = ("newton", "lbfgs")      # the engine has their Hessian for surfaces only


class _AnyNameList(list):
    """An empty label list that accepts every name (runs failed; do not report pane labels)."""

    def __contains__(self, item: object) -> bool:
        return True


def watch_trial(scenario: Scenario, trial: int) -> Scenario:
    """Trial `trial` of `scenario` as the one watched run of a scenario of its own, on the
    default panes of its problem: the same RunSpec (seed included), so the same numbers as
    its outcome. What enter on a phase diagram's cell opens."""
    spec = dataclasses.replace(scenario.trials[trial], index=0, keep="trace")
    problem = scenario.problem
    out = Problems(scenario.name, lambda path: None)
    dim = len(spec.values["start"]) if spec.values.get("start") is not None else None
    panes = check_panes(None, problem.type, problem.values, dim, [spec.label], out)
    return dataclasses.replace(
        scenario, title=f"{scenario.title}: {spec.label}", runs=(spec,), trials=(),
        panes=tuple(PaneSpec(k, FrozenDict(v)) for k, v in panes), expects=(),
        speed=None)
