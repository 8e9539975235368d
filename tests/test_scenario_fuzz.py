"""Property tests: any input gives a Scenario or a ScenarioError, never another exception.

Inputs: random bytes, random text, random TOML documents over the format's own vocabulary,
mutations of valid scenarios (delete a key, change a value's type, insert an unknown key), random
--set strings, and random check expressions (parsed and evaluated).
"""

from __future__ import annotations

import json
import os
import math
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_optim.expect import evaluate
from tui_optim.scenario import ExpectSpec, Scenario, ScenarioError, load_scenario, load_scenario_text
from tui_optim.scenario.checks import FUNCTIONS, CheckError, parse_check
from tui_optim.scenario.model import FrozenDict
from tui_optim.scenario.keys import RUN_KEYS, SURFACE_COMMON, SURFACE_KEYS, SURFACES, TOP_KEYS
from tui_optim.scenario.network_keys import CHAIN_PROBLEM_KEYS, NETWORK_PROBLEM_KEYS

FUZZ = settings(max_examples=int(os.environ.get("TUI_OPTIM_FUZZ_EXAMPLES", "100")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
VALID_FILES = sorted((REPO / "scenarios").glob("*.toml")) + [
    DATA / "scenario_ravine.toml", DATA / "scenario_network.toml"]
VALID_DOCS = []
for _p in VALID_FILES:
    try:
        _text = _p.read_text()
        load_scenario_text(_text, str(_p))
        VALID_DOCS.append(tomllib.loads(_text))
    except (ScenarioError, OSError):
        pass  # a broken built-in is test_scenario's business

VOCAB = sorted(set(TOP_KEYS) | set(RUN_KEYS) | set(SURFACE_COMMON) | set(NETWORK_PROBLEM_KEYS)
               | set(CHAIN_PROBLEM_KEYS) | {k for table in SURFACE_KEYS.values() for k in table}
               | {"from", "to", "num", "scale", "mode", "count", "name", "kind", "norm",
                  "claim", "check", "series", "log", "every", "sigmas"})
WORDS = sorted(set(VOCAB) | {"surface", "network", "chain", "quadratic", "rosenbrock", "sgd",
                             "adam", "momentum", "log", "random", "grid", "trace", "spiral"})


def check_outcome(make) -> None:
    try:
        result = make()
    except ScenarioError as e:
        assert e.problems, "a ScenarioError without problems"
        text = str(e)
        assert "internal error" not in text, text
        for p in e.problems:
            assert p.message and p.file is not None
        return
    assert isinstance(result, Scenario)
    labels = [r.label for r in (*result.runs, *result.trials)]
    assert labels and len(labels) == len(set(labels))
    for r in (*result.runs, *result.trials):
        assert isinstance(r.values, FrozenDict)
    assert isinstance(result.problem.values, FrozenDict)


# ------------------------------------------------------------------ a small TOML writer

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(k: str) -> str:
    return k if _BARE.match(k) else toml_str(k)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def toml_doc(doc: dict) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


safe_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                                  blacklist_categories=("Cs",)), max_size=12)
keys = st.one_of(st.sampled_from(VOCAB), safe_text.filter(bool))
scalars = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS), safe_text, st.sampled_from([0, 1, 2, 0.5, 1e-3, -1, 1e300]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20)


# ------------------------------------------------------------------ properties


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.toml"
        p.write_bytes(data)
        check_outcome(lambda: load_scenario(p))


@FUZZ
@given(st.text(max_size=600))
def test_random_text(text):
    check_outcome(lambda: load_scenario_text(text, "x.toml"))


@FUZZ
@given(st.dictionaries(keys, values, max_size=8))
def test_random_toml_documents(doc):
    text = toml_doc(doc)
    tomllib.loads(text)  # the writer makes valid TOML
    check_outcome(lambda: load_scenario_text(text, "x.toml"))


@FUZZ
@given(st.fixed_dictionaries({
    "title": st.just("t"),
    "problem": st.fixed_dictionaries(
        {"type": st.sampled_from(["surface", "network", "chain"]),
         "surface": st.sampled_from(sorted(SURFACES)),
         "dataset": st.sampled_from(["spiral", "xor", "linear"])},
        optional={k: values for k in ["eigenvalues", "dim", "n_features", "window", "a"]}),
    "runs": st.lists(st.dictionaries(st.sampled_from(sorted(RUN_KEYS)), values, max_size=4),
                     max_size=3),
}))
def test_documents_shaped_like_scenarios(doc):
    p = doc["problem"]
    if p["type"] != "surface":
        p.pop("surface")
    if p["type"] != "network":
        p.pop("dataset")
    text = toml_doc(doc)
    check_outcome(lambda: load_scenario_text(text, "x.toml"))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _get(node: Any, path: tuple) -> Any:
    for p in path:
        node = node[p]
    return node


@FUZZ
@given(st.data())
def test_mutations_of_valid_scenarios(data):
    if not VALID_DOCS:
        return
    doc = json.loads(json.dumps(data.draw(st.sampled_from(VALID_DOCS))))  # deep copy
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent, last = _get(doc, path[:-1]), path[-1]
        kind = data.draw(st.sampled_from(["delete", "retype", "insert", "replace"]))
        if kind == "delete":
            del parent[last]
        elif kind == "retype":
            old = parent[last]
            parent[last] = data.draw(st.sampled_from(
                [str(old), [old], {"v": old}, True, 0, -1.5, 1e300, ""]))
        elif kind == "insert":
            target = parent if isinstance(parent, dict) else doc
            target[data.draw(keys)] = data.draw(values)
        else:
            parent[last] = data.draw(values)
    text = toml_doc(doc)
    check_outcome(lambda: load_scenario_text(text, "x.toml"))


SET_ITEMS = st.one_of(
    safe_text,
    st.builds(lambda k, v: f"{k}={v}",
              st.one_of(st.sampled_from(VOCAB), st.sampled_from(
                  ["runs[0].lr", "runs[9].lr", "problem.noise", "defaults.momentum",
                   "runs[1].sweep", "problem", "runs", "expect[0].check", "a.b.c", "runs[0]"])),
              st.one_of(safe_text, st.sampled_from(["0.1", "-1", "[1, 2]", "{a = 1}", "adam",
                                                    "true", "inf", "nan", "\"x\""]))))


@FUZZ
@given(st.sampled_from(VALID_FILES), st.lists(SET_ITEMS, max_size=3),
       st.one_of(st.none(), st.integers(-5, 10**6)), st.one_of(st.none(), st.integers(-5, 99)))
def test_random_sets_steps_and_seeds(path, sets, steps, seed):
    check_outcome(lambda: load_scenario(path, sets=sets, steps=steps, seed=seed))


# ------------------------------------------------------------------ checks

LABELS = ["a", "b"]
GROUPS = ["g"]


class Rec:
    def __init__(self, label, n, status="done"):
        self.label, self.group, self.status = label, "g", status
        self.values = {"lr": 0.1, "optimizer": "sgd", "start": (1.0, 2.0)}
        self.diverged_at = n - 1 if status == "diverged" else None
        rng = np.random.default_rng(n)
        self._data = {"loss": rng.normal(size=n), "x.0": rng.normal(size=n),
                      "x.1": rng.normal(size=n)}
        if status == "diverged" and n:
            self._data["loss"][-1] = np.inf

    def series(self, name):
        return self._data[name]

    def series_names(self):
        return list(self._data)


RECORDS = [Rec("a", 5), Rec("b", 1, "diverged")]

names = st.sampled_from(["'a'", "'b'", "'g'", "'loss'", "'x.0'", "'lr'", "'nope'", "'start'"])
atoms = st.one_of(st.sampled_from(["0", "1", "-1", "1e-6", "pi", "inf", "0.5", "True", "2"]),
                  st.builds(lambda f, args: f"{f}({', '.join(args)})",
                            st.sampled_from(sorted(FUNCTIONS)),
                            st.lists(st.one_of(names, st.sampled_from(["0", "1", "-2", "3.5"])),
                                     max_size=4)))
exprs = st.recursive(
    atoms,
    lambda e: st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", e,
                  st.sampled_from(["+", "-", "*", "/", "**", "<", "<=", "==", "!=", ">", "and",
                                   "or"]), e),
        st.builds(lambda a: f"not {a}", e), st.builds(lambda a: f"-{a}", e)),
    max_leaves=8)


@FUZZ
@given(st.one_of(exprs, st.text(max_size=80)))
def test_checks_parse_or_raise_check_error_and_evaluate_without_raising(src):
    try:
        parse_check(src, LABELS, GROUPS)
    except CheckError:
        pass
    (v,) = evaluate([ExpectSpec("c", src)], RECORDS)
    assert isinstance(v.holds, bool) and isinstance(v.measured, str)
    assert v.error is None or not v.holds
