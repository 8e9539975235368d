"""Scenario files: defaults, every error class with its line and key path, sweeps, --set, labels."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui_optim.scenario import (
    ExpectSpec, PaneSpec, ProblemSpec, RunSpec, Scenario, ScenarioError, list_builtins,
    load_scenario, load_scenario_text, resolve_scenario_path,
)
from tui_optim.scenario import builtin as builtin_mod
from tui_optim.scenario.checks import CheckError, parse_check
from tui_optim.scenario.errors import Problem
from tui_optim.scenario.lines import LineMap

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent

HEAD = """\
title = "t"
[problem]
type = "surface"
surface = "rosenbrock"
"""


def load(text: str, **kw) -> Scenario:
    return load_scenario_text(textwrap.dedent(text), "t.toml", **kw)


def problems(text: str, **kw) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load(text, **kw)
    return info.value.problems


def one(text: str, **kw) -> Problem:
    ps = problems(text, **kw)
    assert len(ps) == 1, ps
    return ps[0]


# ------------------------------------------------------------------ valid files, defaults


def test_valid_file_loads_with_defaults_filled():
    s = load_scenario(DATA / "scenario_ravine.toml")
    assert s.name == "scenario_ravine" and s.title == "Momentum in a ravine"
    assert s.topic == "momentum" and s.order == 3 and s.steps == 300 and s.seed == 0
    assert s.speed is None
    assert s.explanation.startswith("Plain gradient descent")
    assert s.source_text.startswith('title = "Momentum')
    assert isinstance(s.problem, ProblemSpec) and s.problem.type == "surface"
    p = s.problem.values
    assert p["eigenvalues"] == (1.0, 50.0) and p["angle"] == 30.0
    assert p["b"] == (0.0, 0.0) and p["c"] == 0.0 and p["window"] is None
    assert [r.label for r in s.runs] == ["SGD", "momentum", "nesterov"]
    sgd, mom, nes = s.runs
    assert isinstance(sgd, RunSpec)
    assert sgd.values["lr"] == 0.035 and sgd.values["start"] == (-4.0, 3.0)
    assert sgd.values["schedule"] == {"name": "constant", "warmup": 0}
    assert sgd.values["clip"] is None and sgd.values["average"] is None
    assert sgd.values["noise"] == 0.0 and sgd.values["continuation"] is None
    # momentum from [defaults] does not apply to sgd: dropped, not an error
    assert "momentum" not in sgd.values and "rho1" not in sgd.values
    assert mom.values["momentum"] == 0.9 and nes.values["momentum"] == 0.5
    assert [r.seed for r in s.runs] == [0, 1, 2] and [r.steps for r in s.runs] == [300] * 3
    assert sgd.group == "SGD" and [r.index for r in s.runs] == [0, 1, 2]
    assert s.panes == (PaneSpec("surface", s.panes[0].values), s.panes[1])
    assert s.panes[1].values["log"] is True and s.panes[1].values["series"] == "loss"
    assert s.expects[0] == ExpectSpec(
        "momentum reaches 1e-6 in fewer steps than SGD",
        "steps_to('momentum', 'loss', 1e-6) < steps_to('SGD', 'loss', 1e-6)", 42)


def test_minimal_file_gets_one_default_run_and_default_panes():
    s = load(HEAD)
    assert s.topic == "misc" and s.order == 999 and s.explanation == "" and s.steps == 200
    (run,) = s.runs
    assert run.label == "sgd" and run.optimizer == "sgd" and run.values["lr"] == 0.01
    assert run.values["start"] == (-1.2, 1.0)
    assert s.problem.values["a"] == 1.0 and s.problem.values["b"] == 100.0
    assert [p.kind for p in s.panes] == ["surface", "trace", "trace"]
    assert [p.values.get("series") for p in s.panes[1:]] == ["loss", "grad_norm"]
    assert s.expects == ()


def test_values_are_immutable():
    s = load(HEAD)
    with pytest.raises(TypeError):
        s.runs[0].values["lr"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        s.problem.values["a"] = 2.0  # type: ignore[index]
    with pytest.raises(TypeError):
        s.runs[0].values.update(lr=1.0)  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        s.title = "x"  # type: ignore[misc]


def test_scenario_pickles_deep_copies_and_dumps_to_json():
    import copy
    import json
    import pickle

    s = load_scenario(DATA / "scenario_ravine.toml")
    assert pickle.loads(pickle.dumps(s)) == s
    assert copy.deepcopy(s) == s
    assert json.loads(json.dumps(s.runs[1].values))["momentum"] == 0.9


@pytest.mark.parametrize("opt,key,value", [
    ("newton", "lr", 1.0), ("lbfgs", "lr", 1.0), ("adam", "lr", 0.01),
    ("adagrad", "delta", 1e-7), ("rmsprop", "delta", 1e-6), ("adam", "delta", 1e-8),
    ("adam", "rho1", 0.9), ("adam", "rho2", 0.999), ("adam", "bias_correction", True),
    ("rmsprop", "rho", 0.9), ("lbfgs", "history", 10), ("lbfgs", "line_search", "armijo"),
    ("coordinate", "coordinate_mode", "exact"), ("coordinate", "block", 1),
    ("newton", "damping", 0.0),
])
def test_optimizer_defaults(opt, key, value):
    s = load(HEAD + f'[[runs]]\noptimizer = "{opt}"\n')
    assert s.runs[0].values[key] == value
    assert "momentum" not in s.runs[0].values


def test_only_keys_of_the_optimizer_and_problem_are_present():
    s = load(HEAD + '[[runs]]\noptimizer = "adam"\n')
    v = s.runs[0].values
    assert {"rho1", "rho2", "delta", "bias_correction"} <= set(v)
    assert not {"momentum", "rho", "history", "batch_size", "layers"} & set(v)


def test_network_problem_and_run_defaults():
    s = load_scenario(DATA / "scenario_network.toml")
    p = s.problem.values
    assert s.problem.type == "network" and p["classes"] == 3 and p["n_samples"] == 900
    assert p["val_fraction"] == 0.2 and p["noise"] is None
    relu, tanh = s.runs
    assert relu.values["batch_size"] == 32 and relu.values["loss"] == "cross_entropy"
    assert relu.values["layers"] == (32, 32) and tanh.values["layers"] == (16, 16, 16)
    assert tanh.values["batch_norm"] is True and "start" not in relu.values
    assert [p.kind for p in s.panes] == ["trace", "layers", "histograms", "layers", "boundary"]
    assert s.panes[2].values["run"] == "relu"


def test_regression_dataset_defaults_to_mse():
    s = load('title = "t"\n[problem]\ntype = "network"\ndataset = "linear"\n')
    assert s.runs[0].values["loss"] == "mse"
    assert "boundary" not in [p.kind for p in s.panes]


def start_of(s, run: int = 0) -> tuple:
    """The start a run begins from: its own, the surface's fixed one, or the one the engine
    derives from the problem (engine/catalog.py says which)."""
    from tui_optim.engine.surface_specs import build_surface

    values = s.runs[run].values
    return tuple(build_surface(s.problem.values, values["start"]).start.tolist())


def test_data_surface_batch_size_and_start_dimension():
    s = load('title = "t"\n[problem]\ntype = "surface"\nsurface = "least_squares"\n'
             'n_features = 3\n')
    v = s.runs[0].values
    assert v["batch_size"] == 0 and v["start"] is None and start_of(s) == (0.0, 0.0, 0.0)
    assert s.problem.values["scales"] == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("surface,dim", [
    ("double_well", 1), ("wiggly", 1), ("himmelblau", 2), ("beale", 2), ("saddle", 2),
    ("monkey_saddle", 2), ("cliff", 2), ("rastrigin", 2),
])
def test_default_start_matches_surface_dimension(surface, dim):
    s = load(f'title = "t"\n[problem]\ntype = "surface"\nsurface = "{surface}"\n')
    assert len(start_of(s)) == dim


def test_quadratic_dimension_from_eigenvalues():
    s = load('title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
             'eigenvalues = [1.0, 2.0, 3.0]\n')
    assert start_of(s) == (-4.0, 3.0, -4.0) and s.problem.values["b"] == (0.0,) * 3
    s = load('title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
             'eigenvalues = [2.0, 4.0]\nb = [2.0, -4.0]\n')
    assert start_of(s) == pytest.approx((-5.0, 4.0))  # θ* = (-1, 1)


def test_tables_filled_with_defaults():
    s = load(HEAD + textwrap.dedent("""\
        steps = 50
        [[runs]]
        schedule = { name = "cosine" }
        clip = { norm = 1.0 }
        average = { kind = "ema" }
        continuation = { sigmas = [1.0, 0.0] }
        """).replace("steps = 50\n", "", 1).replace("[[runs]]", "[[runs]]\nsteps = 50"))
    v = s.runs[0].values
    assert v["schedule"] == {"name": "cosine", "warmup": 0, "min_lr": 0.0, "period": 50}
    assert v["clip"] == {"norm": 1.0, "value": None}
    assert v["average"] == {"kind": "ema", "decay": 0.99}
    assert v["continuation"] == {"sigmas": (1.0, 0.0), "samples": 16}


# ------------------------------------------------------------------ errors


def test_toml_syntax_error_has_its_line():
    p = one('title = "t"\n\n[problem\ntype = 1\n')
    assert p.line == 3 and p.path == "" and p.file == "t.toml"
    assert str(p).startswith("t.toml:3: ")


def test_unknown_key_suggests_nearest():
    p = one(HEAD + "[[runs]]\nlrr = 0.1\n")
    assert (p.line, p.path) == (6, "runs[0].lrr")
    assert p.message == "unknown key 'lrr' (did you mean 'lr'?)"
    assert str(p) == "t.toml:6: runs[0].lrr: unknown key 'lrr' (did you mean 'lr'?)"


def test_unknown_top_level_and_problem_keys():
    ps = problems('titel = "t"\n[problem]\ntype = "surface"\nsurface = "rosenbrock"\naa = 1\n')
    msgs = {(p.line, p.path, p.message) for p in ps}
    assert (1, "titel", "unknown key 'titel' (did you mean 'title'?)") in msgs
    assert (5, "problem.aa", "unknown key 'aa' (did you mean 'a'?)") in msgs
    assert any(p.path == "title" and "missing" in p.message for p in ps)


def test_out_of_range_number_says_what_was_expected():
    p = one(HEAD + "[[runs]]\nlr = -0.1\n")
    assert (p.line, p.path) == (6, "runs[0].lr")
    assert p.message == "expected a number > 0, got -0.1"


@pytest.mark.parametrize("line,expected", [
    ('momentum = 1.0', "expected a number in [0, 1), got 1.0"),
    ('momentum = "high"', "expected a number in [0, 1), got 'high'"),
    ('steps = 1.5', "expected an integer in [1, 10000000000], got 1.5"),
    ('steps = true', "expected an integer in [1, 10000000000], got true"),
    ('start = [1.0]', "expected 2 coordinates"),
    ('start = [1.0, "x"]', "expected a number, got 'x'"),
    ('optimizer = "adma"', "(did you mean 'adam'?)"),
])
def test_wrong_types(line, expected):
    text = HEAD + '[[runs]]\noptimizer = "momentum"\n' + line + "\n"
    if line.startswith("optimizer"):
        text = HEAD + "[[runs]]\n" + line + "\n"
    p = one(text)
    assert expected in p.message
    assert p.line == text.count("\n")


def test_key_that_does_not_apply_to_the_optimizer():
    p = one(HEAD + '[[runs]]\noptimizer = "sgd"\nmomentum = 0.9\n')
    assert (p.line, p.path) == (7, "runs[0].momentum")
    assert "does not apply to optimizer 'sgd'" in p.message


def test_key_that_does_not_apply_to_the_problem():
    p = one(HEAD + "[[runs]]\nbatch_size = 8\n")
    assert p.path == "runs[0].batch_size" and "does not apply to surface 'rosenbrock'" in p.message
    p = one('title = "t"\n[problem]\ntype = "network"\ndataset = "xor"\n[[runs]]\nstart = [1, 2]\n')
    assert p.path == "runs[0].start" and "problem type 'network'" in p.message


def test_all_problems_of_a_file_at_once():
    with pytest.raises(ScenarioError) as info:
        load_scenario(DATA / "scenario_broken.toml")
    text = str(info.value).splitlines()
    f = str(DATA / "scenario_broken.toml")
    assert f"{f}:2: steps: expected an integer in [1, 10000000000], got 0" in text
    assert f"{f}:9: runs[0].lrr: unknown key 'lrr' (did you mean 'lr'?)" in text


def test_problem_errors():
    ps = problems('title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
                  'eigenvalues = [1.0, -2.0]\n')
    assert [(p.line, p.path) for p in ps] == [(5, "problem.eigenvalues[1]")]
    assert "allow_indefinite" in ps[0].message
    load('title = "t"\n[problem]\ntype = "surface"\nsurface = "saddle"\n')
    s = load('title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
             'eigenvalues = [1.0, -2.0]\nallow_indefinite = true\n')
    assert s.problem.values["eigenvalues"] == (1.0, -2.0)
    p = one('title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n')
    assert "needs 'eigenvalues'" in p.message
    p = one('title = "t"\n[problem]\ntype = "surfce"\n')
    assert p.line == 3 and "(did you mean 'surface'?)" in p.message
    p = one('title = "t"\n')
    assert p.path == "problem"


def test_quadratic_matrix_checks():
    base = 'title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\n'
    s = load(base + "matrix = [[2.0, 1.0], [1.0, 2.0]]\n")
    assert start_of(s) == (-4.0, 3.0)
    assert "symmetric" in one(base + "matrix = [[2.0, 1.0], [0.0, 2.0]]\n").message
    assert "positive definite" in one(base + "matrix = [[1.0, 0.0], [0.0, -1.0]]\n").message
    assert one(base + "matrix = [[1.0], [0.0, 1.0]]\n").path == "problem.matrix[0]"


def test_start_length_must_match_surface():
    p = one('title = "t"\n[problem]\ntype = "surface"\nsurface = "double_well"\n'
            "[[runs]]\nstart = [1.0, 2.0]\n")
    assert p.path == "runs[0].start" and "expected 1 coordinates" in p.message and p.line == 6


def test_problem_str_without_line():
    assert str(Problem("f.toml", None, "lr", "bad")) == "f.toml: lr: bad"
    assert str(Problem("f.toml", 3, "", "bad")) == "f.toml:3: bad"


def test_label_in_defaults_is_an_error():
    p = one(HEAD + '[defaults]\nlabel = "x"\n')
    assert p.path == "defaults.label" and p.line == 6


def test_missing_file_and_bad_utf8(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.toml")
    assert "cannot read" in str(info.value)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'title = "t"\n\xff\xfe\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.problems[0].line == 2


# ------------------------------------------------------------------ labels


def test_duplicate_labels_name_both_entries():
    p = one(HEAD + '[[runs]]\nlabel = "a"\n[[runs]]\nlabel = "a"\n')
    assert (p.line, p.path) == (8, "runs[1].label")
    assert "runs[0]" in p.message and "'a'" in p.message


def test_default_labels_collide_for_two_runs_of_one_optimizer():
    p = one(HEAD + "[[runs]]\nlr = 0.1\n[[runs]]\nlr = 0.2\n")
    assert p.path == "runs[1].label" and "runs[0]" in p.message


def test_label_template_and_group():
    s = load(HEAD + '[[runs]]\nlabel = "{optimizer} lr={lr:.2g} s={start}"\n'
             'sweep = { lr = [0.123, 0.5] }\n')
    assert [r.label for r in s.runs] == ["sgd lr=0.12 s=[-1.2, 1.0]", "sgd lr=0.5 s=[-1.2, 1.0]"]
    assert {r.group for r in s.runs} == {"{optimizer} lr={lr:.2g} s={start}"}
    s = load(HEAD + '[[runs]]\nlabel = "x {lr}"\ngroup = "g"\nsweep = { lr = [0.1, 0.2] }\n')
    assert [r.group for r in s.runs] == ["g", "g"]


def test_default_label_of_a_sweep():
    s = load(HEAD + '[[runs]]\noptimizer = "adam"\nsweep = { lr = [0.1, 0.25] }\n')
    assert [r.label for r in s.runs] == ["adam lr=0.1", "adam lr=0.25"]


@pytest.mark.parametrize("label,msg", [
    ("{lrr}", "unknown field {lrr} in label (did you mean 'lr'?)"),
    ("{lr.__class__}", "bad field"),
    ("{lr", "bad label template"),
    ("{lr:q}", "cannot format"),
])
def test_bad_label_templates(label, msg):
    p = one(HEAD + f'[[runs]]\nlabel = "{label}"\n')
    assert p.path == "runs[0].label" and msg in p.message and p.line == 6


def test_sweep_with_constant_label_is_an_error():
    p = one(HEAD + '[[runs]]\nlabel = "same"\nsweep = { lr = [0.1, 0.2] }\n')
    assert p.path == "runs[0].label" and "several runs labelled 'same'" in p.message


# ------------------------------------------------------------------ sweeps


def sweep(spec: str, head: str = HEAD, label: str = "r{lr}") -> list[RunSpec]:
    return list(load(head + f'[[runs]]\nlabel = "{label}"\n' + spec + "\n").runs)


def test_list_sweep():
    runs = sweep("sweep = { lr = [0.1, 0.2, 0.4] }")
    assert [r.values["lr"] for r in runs] == [0.1, 0.2, 0.4]
    assert [r.seed for r in runs] == [0, 1, 2]


def test_grid_linear_and_log():
    runs = sweep('sweep = { lr = { from = 0.1, to = 0.5, num = 5 } }')
    assert [r.values["lr"] for r in runs] == [0.1, 0.2, 0.3, 0.4, 0.5]
    runs = sweep('sweep = { lr = { from = 1e-4, to = 1.0, num = 5, scale = "log" } }')
    assert [r.values["lr"] for r in runs] == [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    runs = sweep('sweep = { lr = { from = 0.3, to = 0.9, num = 1 } }')
    assert [r.values["lr"] for r in runs] == [0.3]


def test_grid_product_of_several_keys():
    runs = sweep('sweep = { lr = [0.1, 0.2], momentum = { from = 0.0, to = 0.5, num = 3 } }',
                 label="{lr} {momentum}", head=HEAD + '[defaults]\noptimizer = "momentum"\n')
    assert [(r.values["lr"], r.values["momentum"]) for r in runs] == [
        (0.1, 0.0), (0.1, 0.25), (0.1, 0.5), (0.2, 0.0), (0.2, 0.25), (0.2, 0.5)]


def test_grid_of_an_integer_key_rounds():
    head = 'title = "t"\n[problem]\ntype = "surface"\nsurface = "least_squares"\n'
    runs = sweep('sweep = { batch_size = { from = 1, to = 100, num = 3, scale = "log" } }',
                 head=head, label="b{batch_size}")
    assert [r.values["batch_size"] for r in runs] == [1, 10, 100]


RANDOM = """\
[runs.sweep]
mode = "random"
count = 6
seed = {seed}
lr = {{ from = 1e-4, to = 1.0, scale = "log" }}
start = {{ from = [-5.0, -4.0], to = [5.0, 4.0] }}
"""


def test_random_sweep_is_reproducible_and_in_range():
    a = sweep(RANDOM.format(seed=7), label="r{lr} {start}")
    b = sweep(RANDOM.format(seed=7), label="r{lr} {start}")
    c = sweep(RANDOM.format(seed=8), label="r{lr} {start}")
    assert len(a) == 6
    assert [r.values for r in a] == [r.values for r in b]
    assert [r.values["lr"] for r in a] != [r.values["lr"] for r in c]
    for r in a:
        assert 1e-4 <= r.values["lr"] <= 1.0
        x, y = r.values["start"]
        assert -5 <= x <= 5 and -4 <= y <= 4
    xs = [r.values["start"][0] for r in a]
    ys = [r.values["start"][1] for r in a]
    assert len(set(xs)) == 6 and xs != ys  # components drawn independently


def test_random_sweep_choice_from_a_list():
    runs = sweep('[runs.sweep]\nmode = "random"\ncount = 5\nseed = 1\n'
                 'optimizer = ["sgd", "adam"]\nlr = { from = 0.1, to = 0.2 }',
                 label="{optimizer} {lr}")
    assert {r.optimizer for r in runs} <= {"sgd", "adam"} and len(runs) == 5


@pytest.mark.parametrize("spec,path,msg", [
    ("sweep = { lrr = [0.1] }", "runs[0].sweep.lrr", "(did you mean 'lr'?)"),
    ('sweep = { mode = "random", lr = { from = 0.1, to = 1.0 } }', "runs[0].sweep", "needs 'count'"),
    ('sweep = { mode = "random", count = 3, lr = { from = 0.1, to = 1.0, num = 3 } }',
     "runs[0].sweep.lr.num", "unknown key 'num'"),
    ("sweep = { lr = { from = 0.1, to = 1.0 } }", "runs[0].sweep.lr", "needs 'num'"),
    ('sweep = { lr = { from = 0.0, to = 1.0, num = 3, scale = "log" } }',
     "runs[0].sweep.lr.from", "expected a number > 0"),
    ("sweep = { lr = [0.1, -0.2] }", "runs[0].sweep.lr[1]", "expected a number > 0, got -0.2"),
    ("sweep = { lr = 0.1 }", "runs[0].sweep.lr", "expected a list of values or a range"),
    ("sweep = { label = ['a'] }", "runs[0].sweep.label", "cannot be swept"),
    ("sweep = { momentum = [0.1, 0.2] }", "runs[0].sweep.momentum", "does not apply"),
    ('sweep = { mode = "grid", count = 3, lr = [0.1] }', "runs[0].sweep.count", "random"),
    ("sweep = { lr = { from = 1e-4, to = 1.0, num = 2000 } }", "runs[0].sweep",
     "the sweep gives 2000 runs (at most 1000; runs kept as results only"),
    ("sweep = { lr = { from = 1e-4, to = 1.0, num = 50000 } }\nkeep = \"result\"",
     "runs[0].sweep.lr.num", "expected an integer"),
    ("tol = 1e-3", "runs[0].tol", "'tol' is for trials"),
    ("keep = \"all\"", "runs[0].keep", "expected one of"),
])
def test_sweep_errors(spec, path, msg):
    ps = problems(HEAD + '[[runs]]\nlabel = "r{lr}"\n' + spec + "\n")
    assert any(p.path == path and msg in p.message and p.line == 7 for p in ps), ps


# ------------------------------------------------------------------ --set, --steps, --seed

SETS = HEAD + """\
[defaults]
momentum = 0.3
[[runs]]
label = "a"
optimizer = "momentum"
lr = 0.2
[[runs]]
label = "b {lr}"
sweep = { lr = [0.01, 0.02] }
"""


def test_set_global_run_key_wins_over_runs_and_sweeps():
    s = load(SETS, sets=["lr=0.5"])
    assert [r.values["lr"] for r in s.runs] == [0.5, 0.5]
    assert [r.label for r in s.runs] == ["a", "b 0.5"]


def test_set_specific_paths():
    s = load(SETS, sets=["runs[0].lr=0.7", "problem.a=2", "steps=100", "defaults.momentum=0.5",
                         "seed=4"])
    assert s.runs[0].values["lr"] == 0.7 and s.runs[1].values["lr"] == 0.01
    assert s.problem.values["a"] == 2.0 and s.steps == 100
    assert all(r.steps == 100 for r in s.runs) and s.runs[0].values["momentum"] == 0.5
    assert [r.seed for r in s.runs] == [4, 5, 6]


def test_set_string_fallback_and_optimizer_switch():
    s = load(SETS, sets=["optimizer=adam"])
    assert all(r.optimizer == "adam" for r in s.runs)
    assert "momentum" not in s.runs[0].values  # keys of the old optimizer are dropped


def test_set_key_applying_only_to_some_runs():
    s = load(SETS, sets=["momentum=0.8"])
    assert s.runs[0].values["momentum"] == 0.8 and "momentum" not in s.runs[1].values


@pytest.mark.parametrize("item,path,msg", [
    ("lr=-1", "lr", "expected a number > 0, got -1"),
    ("lrr=1", "lrr", "unknown key 'lrr' (did you mean 'lr'?)"),
    ("runs[5].lr=0.1", "runs[5].lr", "no entry [5]"),
    ("problem.aa=1", "problem.aa", "unknown key 'aa'"),
    ("noequals", "noequals", "expected key=value"),
    ("rho1=0.5", "rho1", "does not apply to any run"),
])
def test_set_errors_say_from_set(item, path, msg):
    ps = problems(SETS, sets=[item])
    assert any(p.path == path and msg in p.message and p.message.endswith("(from --set)")
               and p.line is None for p in ps), ps


def test_steps_and_seed_arguments_override_everything():
    s = load('steps = 5\nseed = 1\n' + HEAD + '[[runs]]\nlabel = "a"\nsteps = 9\n[[runs]]\n'
             'label = "b"\nseed = 42\n', steps=77, seed=10)
    assert s.steps == 77 and [r.steps for r in s.runs] == [77, 77]
    assert [r.seed for r in s.runs] == [10, 42]
    assert s.runs[0].values["steps"] == 77 and s.runs[1].values["seed"] == 42


def test_steps_argument_is_checked():
    p = one(HEAD, steps=0)
    assert p.path == "steps" and "(from --set)" in p.message


# ------------------------------------------------------------------ panes


def test_pane_errors():
    ps = problems(SETS + '[[panes]]\nkind = "trace"\nruns = ["a", "bb"]\n'
                  '[[panes]]\nkind = "surfce"\n[[panes]]\nkind = "histograms"\n')
    found = {(p.path, p.line) for p in ps}
    assert ("panes[0].runs[1]", 16) in found
    assert ("panes[1].kind", 18) in found
    assert ("panes[2].kind", 20) in found
    assert any("(did you mean 'surface'?)" in p.message for p in ps)


def test_trace_pane_guides_and_defaults():
    s = load(HEAD + '[[panes]]\nkind = "trace"\nseries = "lr"\n'
             'guides = [{ value = 0.5, label = "1/a" }, { value = 1.0 }]\n')
    v = s.panes[0].values
    assert v["guides"] == ({"value": 0.5, "label": "1/a"}, {"value": 1.0, "label": ""})
    assert v["title"] is None and v["runs"] is None and v["log"] is False


def test_chain_problem_defaults():
    s = load('title = "t"\n[problem]\ntype = "chain"\n')
    assert s.problem.values["model"] == "diag" and s.runs[0].values["depth"] == 10
    assert [p.kind for p in s.panes] == ["trace", "layers"]


# ------------------------------------------------------------------ expect


def test_expect_errors_at_the_entry_line():
    ps = problems(SETS + '[[expect]]\nclaim = "x"\ncheck = "final(\'aa\', \'loss\') < 1"\n'
                  "[[expect]]\ncheck = \"best('b {lr}', 'loss') < 1 and __import__('os')\"\n")
    p0, p1 = ps
    assert (p0.line, p0.path) == (16, "expect[0].check")
    assert p0.message == "unknown run 'aa' (did you mean 'a'?)"
    assert (p1.line, p1.path) == (18, "expect[1].check") and "unknown function" in p1.message


def test_expect_defaults_claim_to_check():
    s = load(SETS + "[[expect]]\ncheck = \"count('b {lr}') == 2\"\n")
    assert s.expects[0].claim == s.expects[0].check and s.expects[0].line == 14


@pytest.mark.parametrize("src,msg", [
    ("final('sgdd', 'loss') < 1", "unknown run 'sgdd' (did you mean 'sgd'?)"),
    ("best('grp', 'loss') < 1", "unknown group 'grp' (did you mean 'group'?)"),
    ("final('sgd') < 1", "missing argument 'series'"),
    ("final('sgd', 'loss', 3) < 1", "at most 2 arguments"),
    ("final('sgd', loss) < 1", "must be a quoted name"),
    ("param('sgd', 'lrr') > 0", "unknown run key 'lrr' (did you mean 'lr'?)"),
    ("mean('sgd', 'loss', k2=3) < 1", "no argument 'k2'"),
    ("().__class__", "not allowed"),
    ("final('sgd','loss')[0]", "not allowed"),
    ("(lambda: 1)()", "not allowed"),
    ("x < 1", "unknown name 'x'"),
    ("final('sgd', 'loss') <", "invalid expression"),
    ("'abc' == 'abc'", "only allowed as a run"),
    ("1 if 2 else 3", "not allowed"),
    ("1 in [1]", "not allowed"),
    ("", "empty"),
    ("open('f')", "unknown function 'open'"),
    ("1 // 2", "not allowed"),
])
def test_parse_check_rejects(src, msg):
    with pytest.raises(CheckError) as info:
        parse_check(src, ["sgd", "adam"], ["group"])
    assert msg in str(info.value)


@pytest.mark.parametrize("src", [
    "final('sgd', 'loss') < 1e-6",
    "1 < 2 <= 3 and not diverged('sgd') or -inf < pi",
    "mean('sgd', 'loss', k0=10) ** 2 / 3 - 1 + 2 * 3 > 0",
    "mean('sgd', 'loss', 10) > 0",
    "distinct('group', 'lr', rtol=1e-3) == count('group')",
    "abs(log(2)) + sqrt(4) + log10(10) + exp(0) > 0",
    "diverged_at('adam') == inf != 3",
    "sign_flips('sgd', 'x.0', 0.0) > 0.9 and distinct_finals('group', 0.1) >= 2",
    "True",
])
def test_parse_check_accepts(src):
    parse_check(src, ["sgd", "adam"], ["group"])


# ------------------------------------------------------------------ lines


def test_line_map_follows_headers_arrays_and_strings():
    text = textwrap.dedent('''\
        title = "x"
        explanation = """
        [[runs]]
        lr = 1
        """
        [problem]
        eigenvalues = [
          1.0,
          2.0]
        [[runs]]
        sweep = { lr = [1, 2] }
        [runs.sweep]
        mode = "random"
        [[runs]]
        'lr' = 0.1  # comment
        ''')
    m = LineMap(text)
    assert m.line_of("explanation") == 2
    assert m.line_of("problem.eigenvalues[1]") == 7
    assert m.line_of("runs[0].sweep.lr[1]") == 11
    assert m.line_of("runs[0].sweep.mode") == 13
    assert m.line_of("runs[1].lr") == 15
    assert m.line_of("runs[1]") == 14
    assert m.line_of("nothing") is None


# ------------------------------------------------------------------ built-ins


def test_list_builtins_sorted_and_loadable():
    infos = list_builtins()
    assert infos, "no built-in scenarios found"
    assert infos == sorted(infos, key=lambda b: (b.order, b.name))
    for b in infos:
        assert b.path.suffix == ".toml" and b.name == b.path.stem


def test_every_builtin_loads():
    broken = [f"{b.name}: {b.error}" for b in list_builtins() if b.error]
    assert not broken, "\n".join(broken)


def test_builtin_by_bare_name_and_suggestion():
    name = list_builtins()[0].name
    assert resolve_scenario_path(name) == list_builtins()[0].path
    assert load_scenario(name).name == name
    with pytest.raises(ScenarioError) as info:
        load_scenario(name + "x")
    assert f"(did you mean {name!r}?)" in str(info.value)
    assert resolve_scenario_path("dir/file.toml") == Path("dir/file.toml")
    assert resolve_scenario_path("file.toml") == Path("file.toml")


def test_a_broken_builtin_does_not_break_the_list(tmp_path, monkeypatch):
    (tmp_path / "a_good.toml").write_text('title = "good"\norder = 2\n' + HEAD[len('title = "t"\n'):])
    (tmp_path / "b_bad.toml").write_text("title = \n")
    (tmp_path / "d_bad.toml").write_text('title = "half"\norder = 0\ntopic = "x"\n')
    (tmp_path / "c_first.toml").write_text('title = "first"\norder = 1\n'
                                           + HEAD[len('title = "t"\n'):])
    monkeypatch.setattr(builtin_mod, "builtin_dir", lambda: tmp_path)
    infos = list_builtins()
    assert [b.name for b in infos] == ["d_bad", "c_first", "a_good", "b_bad"]
    assert infos[3].error and "b_bad.toml:1" in infos[3].error
    assert infos[0].error and infos[0].title == "half" and infos[0].topic == "x"
    infos = infos[1:]
    assert infos[0].error is None and infos[0].title == "first"


def test_scenario_package_imports_neither_numba_nor_textual():
    code = ("import sys, tui_optim.scenario, tui_optim.expect; "
            "bad = [m for m in ('numba', 'textual') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# ------------------------------------------------------------------ more tables


@pytest.mark.parametrize("table,path,msg", [
    ('schedule = { name = "step" }', "runs[0].schedule", "schedule 'step' needs 'every'"),
    ('schedule = { name = "cosin" }', "runs[0].schedule.name", "(did you mean 'cosine'?)"),
    ('schedule = { name = "cosine", min_l = 0.0 }', "runs[0].schedule.min_l",
     "(did you mean 'min_lr'?)"),
    ('clip = { norm = 1.0, value = 2.0 }', "runs[0].clip", "exactly one of"),
    ('clip = 3', "runs[0].clip", "expected a table"),
    ('average = { kind = "polyak", decay = 0.9 }', "runs[0].average.decay", "unknown key"),
    ('average = { kind = "ema", decay = 1.0 }', "runs[0].average.decay",
     "expected a number in (0, 1)"),
    ('continuation = { samples = 3 }', "runs[0].continuation", "needs 'sigmas'"),
])
def test_sub_table_errors(table, path, msg):
    ps = problems(HEAD + "[[runs]]\n" + table + "\n")
    assert any(p.path == path and msg in p.message and p.line == 6 for p in ps), ps


def test_schedule_defaults_per_name():
    s = load(HEAD + '[[runs]]\nschedule = { name = "step", every = 10, warmup = 5 }\n')
    assert s.runs[0].values["schedule"] == {"name": "step", "warmup": 5, "every": 10, "factor": 0.5}


def test_network_run_key_errors():
    base = 'title = "t"\n[problem]\ntype = "network"\ndataset = "moons"\n[[runs]]\n'
    assert "did you mean 'relu'" in one(base + 'activation = "rleu"\n').message
    assert one(base + "hist_range = [3.0, -3.0]\n").message.startswith("expected [lo, hi]")
    assert one(base + "layers = [16, 0]\n").path == "runs[0].layers[1]"
    p = one(base + "momentum = 0.9\n")
    assert p.path == "runs[0].momentum" and "optimizer 'sgd'" in p.message


def test_csv_path_is_resolved_against_the_scenario_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('title = "t"\n[problem]\ntype = "network"\ndataset = "csv"\n'
                 'path = "data.csv"\n')
    (tmp_path / "data.csv").write_text("x,label\n1,0\n2,1\n")
    assert load_scenario(f).problem.values["path"] == str(tmp_path / "data.csv")
    p = one('title = "t"\n[problem]\ntype = "network"\ndataset = "csv"\n')
    assert "needs 'path'" in p.message
    p = one('title = "t"\n[problem]\ntype = "network"\ndataset = "spiral"\ndim = 3\n')
    assert p.path == "problem.dim" and p.line == 5


def test_surface_points_must_match_the_dimension():
    p = one(HEAD + "minima = [[1.0, 1.0, 1.0]]\n")
    assert p.path == "problem.minima[0]" and p.line == 5
    p = one(HEAD + "window = [1.0, -1.0, 0.0, 1.0]\n")
    assert p.path == "problem.window" and "x0 < x1" in p.message


def test_runs_must_be_tables():
    assert one('runs = [1]\n' + HEAD).path == "runs[0]"
    assert one('runs = 3\n' + HEAD).path == "runs"
    assert one('expect = 3\n' + HEAD).path == "expect"
    assert one('panes = [3]\n' + HEAD).path == "panes[0]"


def test_grid_of_a_vector_range_and_a_seed_list():
    runs = sweep("sweep = { start = { from = [-1.0, 0.0], to = [1.0, 2.0], num = 3 }, "
                 "seed = [5, 6] }", label="{start} {seed}")
    assert [(r.values["start"], r.seed) for r in runs] == [
        ((-1.0, 0.0), 5), ((-1.0, 0.0), 6), ((0.0, 1.0), 5), ((0.0, 1.0), 6),
        ((1.0, 2.0), 5), ((1.0, 2.0), 6)]


def test_vector_range_length_must_match():
    ps = problems(HEAD + '[[runs]]\nlabel = "{start}"\n'
                  "sweep = { start = { from = [0.0], to = [1.0, 2.0], num = 2 } }\n")
    assert ps[0].path == "runs[0].sweep.start" and "same length" in ps[0].message
    ps = problems(HEAD + '[[runs]]\nlabel = "{start}"\n'
                  "sweep = { start = { from = [0.0, 0.0, 0.0], to = [1.0, 2.0, 3.0], num = 2 } }\n")
    assert ps[0].path == "runs[0].sweep.start" and "expected 2 coordinates" in ps[0].message


def test_set_on_a_run_entry_replaces_its_sweep_of_that_key():
    s = load(SETS, sets=["runs[1].lr=0.3"])
    assert [(r.label, r.values["lr"]) for r in s.runs] == [("a", 0.2), ("b 0.3", 0.3)]


def test_key_of_another_surface_says_so():
    p = one(HEAD + "eigenvalues = [1.0, 2.0]\n")
    assert p.path == "problem.eigenvalues" and p.line == 5
    assert p.message == "'eigenvalues' is a key of surface 'quadratic', not of 'rosenbrock'"


# ------------------------------------------------------------------ series names (engine/series)


def test_a_misspelled_series_in_a_pane_or_a_claim_is_an_error_with_the_nearest_name():
    ps = problems(HEAD + '[[runs]]\noptimizer = "sgd"\nlabel = "a"\n'
                  '[[panes]]\nkind = "trace"\nseries = "distance"\n'
                  '[[expect]]\ncheck = "final(\'a\', \'grad_nrom\') < 1"\n')
    by_path = {p.path: p for p in ps}
    assert "did you mean 'dist'" in by_path["panes[0].series"].message
    assert by_path["panes[0].series"].line == 10
    assert "unknown series 'grad_nrom' (did you mean 'grad_norm'?)" in by_path["expect[0].check"].message


def test_series_names_follow_the_problem():
    net = ('title = "t"\n[problem]\ntype = "network"\ndataset = "spiral"\n'
           '[[runs]]\noptimizer = "sgd"\nlabel = "a"\nlayers = [8, 8]\n')
    # two hidden layers and the output layer: layers 0..2 exist, layer 3 does not
    load(net + '[[expect]]\ncheck = "final(\'a\', \'layer.2.act_std\') > 0"\n')
    p = one(net + '[[expect]]\ncheck = "final(\'a\', \'layer.3.act_std\') > 0"\n')
    assert "unknown series 'layer.3.act_std'" in p.message
    # a surface's coordinates follow its dimension; averaged runs add avg.*
    load(HEAD + '[[runs]]\noptimizer = "sgd"\naverage = { kind = "polyak" }\n'
         '[[panes]]\nkind = "trace"\nseries = "avg.x.1"\n')
    assert "x.2" in one(HEAD + '[[runs]]\noptimizer = "sgd"\n'
                        '[[panes]]\nkind = "trace"\nseries = "x.2"\n').message


def test_every_series_a_stepper_emits_is_known_to_the_scenario_layer():
    """The catalog (engine/series) and the steppers agree: what a run emits, check accepts."""
    from tui_optim.runner import Session
    from tui_optim.scenario import load_scenario
    from tui_optim.scenario.loader import emitted_series

    for name in ("03_momentum_ravine", "11_polyak_averaging", "05_saddle_points",
                 "16_init_histograms", "18_exploding_vanishing", "18_first_order_depth"):
        sc = load_scenario(name, steps=2)
        known = set(emitted_series(sc.problem.type, len(sc.runs[0].values.get("start") or (0, 0)),
                                   sc.runs))
        session = Session(sc, speed=None)
        for chunk in session.chunks():
            assert set(chunk.series) <= known, (name, set(chunk.series) - known)


# ------------------------------------------------------------------ CSV data, read by check


def csv_scenario(tmp_path, rows: str, name: str = "data.csv") -> Path:
    (tmp_path / name).write_text(rows)
    path = tmp_path / "s.toml"
    path.write_text(f'title = "t"\n[problem]\ntype = "network"\ndataset = "csv"\npath = "{name}"\n'
                    '[[runs]]\noptimizer = "sgd"\n')
    return path


@pytest.mark.parametrize("rows, where", [
    ("x,y,label\n1,2,0\n3,abc,1\n", "data.csv:3: column 'y': 'abc' is not a number"),
    ("x,y,class\n1,2,0\n", "data.csv:1: no column named 'label'"),
    ("x,y,label\n1,2,0\n3,4\n", "data.csv:3: expected 3 fields, found 2"),
    ("", "data.csv:1: empty CSV file"),
    ("x,label\n1,nan\n", "data.csv:2: column 'label': 'nan' is not a finite label"),
    ("label\n1\n", "data.csv:1: no feature columns besides 'label'"),
    ('x,y,label\n1,"2\n",0\n3,abc,1\n', "data.csv:4: column 'y': 'abc' is not a number"),
])
def test_check_reads_the_csv_and_names_file_and_line(tmp_path, rows, where):
    with pytest.raises(ScenarioError) as info:
        load_scenario(csv_scenario(tmp_path, rows))
    (p,) = info.value.problems
    assert p.path == "problem.path" and p.line == 5 and where in p.message


def test_a_missing_or_special_csv_is_an_error_not_a_hang(tmp_path):
    for target in ("nowhere.csv", "/dev/zero"):
        path = tmp_path / "s.toml"
        path.write_text(f'title = "t"\n[problem]\ntype = "network"\ndataset = "csv"\n'
                        f'path = "{target}"\n[[runs]]\noptimizer = "sgd"\n')
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert "cannot read" in str(info.value) or "not a regular file" in str(info.value)


def test_a_2d_classification_csv_gets_the_decision_boundary_pane(tmp_path):
    rows = "x,y,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(20))
    s = load_scenario(csv_scenario(tmp_path, rows))
    assert [p.kind for p in s.panes][-1] == "boundary"
    reg = "x,y,label\n" + "".join(f"{i % 7},{i % 5},{i * 0.37}\n" for i in range(20))
    s = load_scenario(csv_scenario(tmp_path, reg, "reg.csv"))
    assert "boundary" not in [p.kind for p in s.panes]


def test_repeats_run_a_sweep_again_and_say_which_time():
    grid = load_scenario_text(HEAD + '[[runs]]\nlabel = "#{repeat} lr {lr}"\n'
                              'sweep = { lr = [0.1, 0.2], repeats = 3 }\n', "t.toml")
    assert [(r.values["lr"], r.values["repeat"]) for r in grid.runs] == [
        (0.1, 0), (0.2, 0), (0.1, 1), (0.2, 1), (0.1, 2), (0.2, 2)]
    assert len({r.seed for r in grid.runs}) == 6          # new initial weights each time
    drawn = load_scenario_text(
        HEAD + '[[runs]]\nlabel = "#{repeat} lr {lr}"\n'
        'sweep = { mode = "random", count = 2, repeats = 2, lr = { from = 0.1, to = 1.0 } }\n',
        "t.toml")
    assert [r.values["repeat"] for r in drawn.runs] == [0, 0, 1, 1]
    assert len({r.values["lr"] for r in drawn.runs}) == 4  # new draws each time
    plain = load_scenario_text(HEAD + '[[runs]]\nlabel = "lr {lr}"\nsweep = { lr = [0.1] }\n',
                               "t.toml")
    assert plain.runs[0].values["repeat"] == 0
    ps = problems(HEAD + '[[runs]]\nlabel = "#{repeat} {lr}"\n'
                  'sweep = { lr = [0.1, 0.2], repeats = 600 }\n')
    assert any("the sweep gives 1200 runs (at most 1000" in p.message for p in ps), ps
