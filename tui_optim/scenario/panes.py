"""`[[panes]]`: pane kinds, their keys and defaults, and the default panes per problem type."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from tui_optim.engine import catalog, series
from tui_optim.scenario.errors import Problems
from tui_optim.scenario.specs import (
    INVALID, Bool, Float, Int, List, Spec, Str, check_keys, join, show, suggest,
)


class _Label(Spec):
    """A run label, checked against the scenario's runs by `check_panes`."""

    expected = "a run label"

    def check(self, value, path, out):
        return value if isinstance(value, str) else self.fail(value, path, out)


class _Guides(Spec):
    expected = "a list of tables like { value = 0.5, label = \"2/λ\" }"

    def check(self, value, path, out):
        if not isinstance(value, list):
            return self.fail(value, path, out)
        result = []
        for i, g in enumerate(value):
            p = f"{path}[{i}]"
            if not isinstance(g, dict):
                self.fail(g, p, out)
                result.append(INVALID)
                continue
            check_keys(g, ("value", "label"), p, out)
            if "value" not in g:
                out.add(p, "a guide needs 'value'")
                result.append(INVALID)
                continue
            v = Float().check(g["value"], join(p, "value"), out)
            label = Str().check(g.get("label", ""), join(p, "label"), out)
            result.append(INVALID if INVALID in (v, label) else {"value": v, "label": label})
        return INVALID if any(r is INVALID for r in result) else tuple(result)


LAYER_SERIES = series.LAYER          # the per-layer series the engine emits

# kind -> {key: (spec, default)}; run None = the first run. The kinds, the problem types each
# can show and their help are the catalog's (engine/catalog.py PANES).
PANE_KEYS: dict[str, dict[str, tuple[Spec, Any]]] = {
    "surface": {"coords": (List(Int(ge=0), length=2), (0, 1)), "project": (Str(("eigen",)), None)},
    "trace": {
        "series": (Str(), "loss"), "log": (Bool(), False), "runs": (List(_Label()), None),
        "guides": (_Guides(), ()), "title": (Str(), None), "ylabel": (Str(), None),
        "xlabel": (Str(), None), "ylim": (List(Float(), length=2), None),
        "range": (Str(("calm", "all")), "calm")},
    "layers": {"series": (Str(LAYER_SERIES), "grad_norm"), "log": (Bool(), True),
               "run": (_Label(), None), "x": (Str(("step", "layer")), "step"),
               "at": (Str(("last", "first")), "last"), "runs": (List(_Label()), None),
               "guides": (_Guides(), ()), "ylim": (List(Float(), length=2), None),
               "title": (Str(), None)},
    "heat": {"series": (Str(LAYER_SERIES), "grad_norm"), "run": (_Label(), None)},
    "histograms": {"run": (_Label(), None), "runs": (List(_Label()), None),
                   "layers": (List(Int(ge=0)), None),
                   "which": (Str(("act", "preact", "both")), "act")},
    "boundary": {"run": (_Label(), None)},
    "gradcheck": {"run": (_Label(), None)},
    "phase": {"group": (Str(), None), "x": (Str(), "lr"), "y": (Str(), "momentum"),
              "metric": (Str(("steps_to_tol", "final", "min")), "steps_to_tol"),
              "series": (Str(), "loss"), "boundary": (Bool(), True)},
    "sweep": {"x": (Str(), "lr"), "series": (Str(), "loss"),
              "metric": (Str(("final", "best", "steps_to_tol")), "final"),
              "log": (Bool(), None), "groups": (List(Str()), None)},
}
PANE_KINDS: dict[str, tuple[tuple[str, ...], dict[str, tuple[Spec, Any]]]] = {
    p.kind: (p.problems, PANE_KEYS[p.kind]) for p in catalog.PANES}


def default_panes(ptype: str | None, problem: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The panes of a scenario without [[panes]], per the format doc."""
    if ptype == "surface" and problem.get("surface") == "sparse_coding":
        # θ = (W, H) has dozens of coordinates: no map, but J and how sparse H has become.
        return [{"kind": "trace", "series": "loss", "log": True},
                {"kind": "trace", "series": "sparsity"}]
    if ptype == "surface":
        return [{"kind": "surface"}, {"kind": "trace", "series": "loss"},
                {"kind": "trace", "series": "grad_norm", "log": True}]
    if ptype == "network":
        panes = [{"kind": "trace", "series": "loss"},
                 {"kind": "layers", "series": "grad_norm"},
                 {"kind": "histograms"},
                 {"kind": "layers", "series": "update_ratio"}]
        # 2-D classification data (a CSV counts once check_csv has read its shape)
        classifies = problem.get("dataset") not in ("linear", "polynomial", "csv") or (
            problem.get("dataset") == "csv" and (problem.get("classes") or 0) > 0)
        if problem.get("dim") == 2 and classifies:
            panes.append({"kind": "boundary"})
        return panes
    if ptype == "chain":
        return [{"kind": "trace", "series": "loss", "log": True},
                {"kind": "layers", "series": "grad_norm"}]
    return []


def check_panes(panes: Sequence[dict] | None, ptype: str | None, problem: Mapping[str, Any],
                dim: int | None, labels: Sequence[str], out: Problems,
                series: Sequence[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Checked panes as (kind, values with defaults filled); the defaults when `panes` is None.
    A trace pane's series must be one the runs emit (`series`, when known)."""
    given = panes is not None
    if panes is None:
        panes = default_panes(ptype, problem)
    result = []
    for i, pane in enumerate(panes):
        path = f"panes[{i}]"
        if not isinstance(pane, dict):
            out.add(path, f"expected a table with a 'kind', got {show(pane)}")
            continue
        kind = pane.get("kind")
        if kind is None:
            out.add(path, f"a pane needs 'kind' (one of {', '.join(PANE_KINDS)})")
            continue
        if Str(tuple(PANE_KINDS)).check(kind, join(path, "kind"), out) is INVALID:
            continue
        types, keys = PANE_KINDS[kind]
        if ptype is not None and ptype not in types and given:
            out.add(join(path, "kind"), f"a {kind!r} pane needs a {' or '.join(types)} problem, "
                                        f"not {ptype!r}")
            continue
        check_keys({k: v for k, v in pane.items() if k != "kind"}, list(keys), path, out)
        values: dict[str, Any] = {}
        for k, (spec, default) in keys.items():
            if k not in pane:
                values[k] = default
                continue
            v = spec.check(pane[k], join(path, k), out)
            values[k] = v
            if v is INVALID:
                continue
            if k == "series" and kind in ("trace", "sweep") and series is not None and v not in series:
                out.add(join(path, k), f"unknown series {v!r}{suggest(v, list(series))}; "
                                       "the runs emit no such series")
            if k == "series" and kind == "phase" and series is not None and v not in series:
                out.add(join(path, k), f"unknown series {v!r}{suggest(v, list(series))}")
            if k in ("x", "y") and kind in ("sweep", "phase"):
                from tui_optim.scenario.keys import RUN_KEYS
                if v not in RUN_KEYS:
                    out.add(join(path, k), f"unknown run key {v!r}{suggest(v, list(RUN_KEYS))}")
            if k == "run" and v not in labels:
                out.add(join(path, k), f"unknown run {v!r}{suggest(v, labels)}")
            if k == "runs":
                for j, lab in enumerate(v):
                    if lab not in labels:
                        out.add(f"{join(path, k)}[{j}]", f"unknown run {lab!r}{suggest(lab, labels)}")
            if k == "coords" and dim is not None:
                if v[0] == v[1] or max(v) >= dim:
                    out.add(join(path, k), f"expected two different coordinates below {dim}, "
                                           f"got {show(v)}")
        if "run" in keys and values.get("run") is None and labels:
            values["run"] = labels[0]
        result.append((kind, values))
    return result
