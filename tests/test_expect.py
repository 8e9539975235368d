"""Claims: each function of the check language on hand-built run records, chains, error verdicts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from tui_optim.expect import Verdict, evaluate, fmt
from tui_optim.scenario import ExpectSpec


@dataclass
class Rec:
    label: str
    group: str
    values: dict[str, Any] = field(default_factory=dict)
    status: str = "done"
    diverged_at: int | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def series(self, name: str) -> np.ndarray:
        return self.data[name]

    def series_names(self) -> list[str]:
        return list(self.data)


def arr(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=float)


RECORDS = [
    Rec("SGD", "SGD", {"lr": 0.1, "optimizer": "sgd"},
        data={"loss": arr(4, 3, 3.5, 1, 0.5), "x.0": arr(2, -1, 0.5, -0.2, 0.1),
              "x.1": arr(0, 0, 0, 0, 0.0)}),
    Rec("momentum", "momentum", {"lr": 0.1, "optimizer": "momentum"},
        data={"loss": arr(4, 2, 1e-7, 1e-9, 1e-9)}),
    Rec("boom", "boom", {"lr": 3.0}, status="diverged", diverged_at=3,
        data={"loss": arr(1, 10, 100, math.inf)}),
    Rec("r1", "restarts", {"lr": 0.1, "seed": 1},
        data={"loss": arr(5, 0.0), "x.0": arr(0, 3.0), "x.1": arr(0, 2.0)}),
    Rec("r2", "restarts", {"lr": 0.1 + 1e-12, "seed": 2},
        data={"loss": arr(5, 0.5), "x.0": arr(0, 3.0001), "x.1": arr(0, 2.0)}),
    Rec("r3", "restarts", {"lr": 0.2, "seed": 3},
        data={"loss": arr(5, 0.2), "x.0": arr(0, -2.8), "x.1": arr(0, 3.1)}),
    Rec("r4", "restarts", {"lr": 0.3, "seed": 4},
        data={"loss": arr(5, math.nan), "x.0": arr(0, math.nan), "x.1": arr(0, 1.0)}),
]


def verdict(check: str, records=RECORDS) -> Verdict:
    (v,) = evaluate([ExpectSpec("claim", check)], records)
    return v


def value(expr: str) -> float:
    """Evaluate a numeric expression by reading the measured text of `expr == expr`."""
    v = verdict(f"{expr} == -12345.5")
    assert v.error is None, v.error
    return float(v.measured.split(" = ", 1)[1].split(" == ")[0])


@pytest.mark.parametrize("expr,expected", [
    ("final('SGD', 'loss')", 0.5),
    ("first('SGD', 'loss')", 4),
    ("at('SGD', 'loss', 2)", 3.5),
    ("at('SGD', 'loss', -1)", 0.5),
    ("min('SGD', 'loss')", 0.5),
    ("max('SGD', 'loss')", 4),
    ("mean('SGD', 'loss')", 2.4),
    ("mean('SGD', 'loss', 3)", 0.75),
    ("mean('SGD', 'loss', k0=3)", 0.75),
    ("steps_to('SGD', 'loss', 1)", 3),
    ("steps_to('SGD', 'loss', 1e-3)", math.inf),
    ("diverged_at('boom')", 3),
    ("diverged_at('SGD')", math.inf),
    ("frac_decreasing('SGD', 'loss')", 0.75),
    ("frac_increasing('SGD', 'loss')", 0.25),
    ("sign_flips('SGD', 'x.0', 0)", 1.0),
    ("param('SGD', 'lr')", 0.1),
    ("best('restarts', 'loss')", 0.0),
    ("distinct('restarts', 'lr')", 3),
    ("distinct('restarts', 'lr', rtol=0.4)", 2),
    ("distinct('restarts', 'seed')", 4),
    ("distinct_finals('restarts', 0.01)", 2),
    ("distinct_finals('restarts', 10)", 1),
    ("count('restarts')", 4),
    ("abs(-2)", 2), ("sqrt(16)", 4), ("log(1)", 0), ("log10(1000)", 3), ("exp(0)", 1),
    ("2 ** 3 - 1 / 4 * 2", 7.5),
    ("max('boom', 'loss')", math.inf),
])
def test_functions(expr, expected):
    assert value(expr) == pytest.approx(expected)


def test_pi_and_inf_and_booleans():
    assert verdict("pi > 3.14 and pi < 3.15").holds
    assert verdict("steps_to('SGD', 'loss', 1e-3) == inf").holds
    assert verdict("diverged('boom') and not diverged('SGD')").holds
    assert verdict("diverged('boom') == True").holds


def test_measured_shows_both_sides_of_every_comparison():
    v = verdict("steps_to('momentum', 'loss', 1e-6) < steps_to('SGD', 'loss', 1e-6)")
    assert v.holds is True and v.error is None
    assert v.measured == ("steps_to('momentum', 'loss', 1e-6) = 2 < "
                          "steps_to('SGD', 'loss', 1e-6) = inf")


def test_chained_comparisons():
    v = verdict("0 < final('SGD', 'loss') < 1 <= first('SGD', 'loss')")
    assert v.holds and v.measured == ("0 < final('SGD', 'loss') = 0.5 < 1 <= "
                                      "first('SGD', 'loss') = 4")
    assert not verdict("0 < final('SGD', 'loss') < 0.4").holds


def test_and_or_short_circuit_and_measure_bare_values():
    v = verdict("final('SGD', 'loss') > 1 and final('SGD', 'nope') > 0")
    assert v.holds is False and v.error is None  # the right side is never evaluated
    v = verdict("diverged('boom') or final('SGD', 'loss') > 1")
    assert v.holds and v.measured == "diverged('boom') = true"
    v = verdict("not diverged('SGD') and final('SGD', 'loss') < 1")
    assert v.holds and v.measured == "diverged('SGD') = false; final('SGD', 'loss') = 0.5 < 1"


def test_bare_expression_measured():
    v = verdict("diverged('boom')")
    assert v.holds and v.measured == "diverged('boom') = true"


def test_missing_series_is_an_error_verdict_naming_what_exists():
    v = verdict("final('momentum', 'grad_norm') < 1")
    assert v.holds is False
    assert v.error == "run 'momentum' has no series 'grad_norm' (it has: loss)"


def test_missing_run_and_group_are_error_verdicts():
    v = verdict("final('adam', 'loss') < 1")
    assert v.holds is False and "unknown run 'adam'" in v.error
    v = verdict("count('nope') == 0")
    assert v.holds is False and "unknown group 'nope'" in v.error


def test_other_error_verdicts():
    assert "k must be a whole step" in verdict("at('SGD', 'loss', 99) > 0").error
    assert "k must be a whole step" in verdict("at('SGD', 'loss', 1.5) > 0").error
    assert "undefined" in verdict("log(-1) < 0").error
    assert "undefined" in verdict("sqrt(-1) < 0").error
    assert "has no key 'momentum'" in verdict("param('SGD', 'momentum') > 0").error
    assert "no position series" in verdict("distinct_finals('momentum', 1) == 1").error
    assert "not allowed" in verdict("(1).real > 0").error


def test_arithmetic_edge_cases_do_not_raise():
    assert verdict("1 / 0 > 1e300").holds
    assert verdict("exp(1000) == inf").holds
    assert verdict("10.0 ** 400 == inf").holds
    v = verdict("0 / 0 != 0 / 0")          # nan: a claim on an undefined value never holds
    assert not v.holds and "nan" in v.error
    v = verdict("(-8) ** 0.5 > 0")
    assert not v.holds and v.error


def test_param_compares_strings():
    assert verdict("param('SGD', 'optimizer') == param('SGD', 'optimizer')").holds
    v = verdict("param('SGD', 'optimizer') < 1")
    assert v.holds is False and v.error and "cannot evaluate" in v.error


def test_several_claims_in_order():
    vs = evaluate([ExpectSpec("a", "count('SGD') == 1", 3),
                   ExpectSpec("b", "final('SGD', 'loss') > 1", 6)], RECORDS)
    assert [(v.claim, v.holds) for v in vs] == [("a", True), ("b", False)]
    assert vs[0].check == "count('SGD') == 1"


def test_fmt():
    assert [fmt(87.0), fmt(3.2e-7), fmt(math.inf), fmt(-math.inf), fmt(math.nan), fmt(True),
            fmt(0.123456)] == ["87", "3.2e-07", "inf", "-inf", "nan", "true", "0.1235"]


@pytest.mark.parametrize("src", ["-" * 1990 + "1 < 0", "not " * 490 + "1",
                                 "(" * 200 + "1" + ")" * 200, "1" + "+1" * 990])
def test_deep_expressions_give_verdicts(src):
    (v,) = evaluate([ExpectSpec("c", src)], RECORDS)
    assert isinstance(v.holds, bool)


def test_a_nan_value_fails_the_claim_and_says_why():
    for check in ("0 / 0", "not (0 / 0)", "0 / 0 or 1", "0 / 0 < 1"):
        v = verdict(check)
        assert not v.holds and "nan" in v.error, check


def test_names_take_no_arithmetic():
    """param() of a string key times a huge number would build a huge string."""
    v = verdict("param('SGD', 'optimizer') * 10000000 == 1")
    assert not v.holds and "arithmetic on a name" in v.error


def test_best_param_is_the_key_of_the_best_run_and_frac_diverged_counts_the_group():
    # restarts: final losses 0.0 (lr 0.1), 0.5, 0.2, nan: the best is r1's lr; nan never wins
    assert value("best_param('restarts', 'loss', 'lr')") == 0.1
    assert value("best_param('restarts', 'loss', 'seed')") == 1
    assert value("frac_diverged('restarts')") == 0.0 and value("frac_diverged('boom')") == 1.0
    acc = [Rec("a", "g", {"lr": 0.1}, data={"accuracy": arr(0.2, 0.6)}),
           Rec("b", "g", {"lr": 0.3}, data={"accuracy": arr(0.2, 0.9)})]
    assert verdict("best_param('g', 'accuracy', 'lr') == 0.3", acc).holds   # largest wins
    v = verdict("best_param('g', 'accuracy', 'momentum') == 1", acc)
    assert not v.holds and "no key 'momentum'" in v.error


def test_frac_wins_compares_two_searches_repeat_by_repeat():
    # repeat 0: random's best 0.2 < grid's 0.3 (a win); repeat 1: 0.5 > 0.4 (a loss);
    # repeat 2: random's best 0.1 beats the grid's 0.6 (nan never counts as a best)
    recs = [Rec(f"{g}{r}{k}", g, {"repeat": r}, data={"loss": arr(1.0, v)})
            for g, table in (("random", {0: (0.2, 0.9), 1: (0.5, 0.7), 2: (0.1, math.nan)}),
                             ("grid", {0: (0.3, 0.4), 1: (0.4, 0.8), 2: (0.6, 0.7)}))
            for r, vals in table.items() for k, v in enumerate(vals)]
    v = verdict("frac_wins('random', 'grid', 'loss', 'repeat') == 2 / 3", recs)
    assert v.holds, v
    v = verdict("frac_wins('random', 'grid', 'loss', 'lr') > 0", recs)
    assert not v.holds and "has no key 'lr'" in v.error


def test_edge_finds_where_a_row_starts_to_grow_and_refuses_a_row_without_one():
    def rec(lr, a, first, final, status="done"):
        return Rec(f"{lr} {a}", "g", {"lr": lr, "momentum": a}, status,
                   data={"loss": arr(first, final)})

    # row α = 0.5: converges up to 2.5, grows from 3.0 (diverged or above its start)
    good = [rec(1.0, 0.5, 1, 0.1), rec(2.5, 0.5, 1, 0.9), rec(3.0, 0.5, 1, 5),
            rec(4.0, 0.5, 1, math.inf, "diverged"), rec(1.0, 0.0, 1, 0.1), rec(2.5, 0.0, 1, 2)]
    assert verdict("edge('g', 'loss', 'lr', 'momentum', 0.45) == 3", good).holds
    assert verdict("edge('g', 'loss', 'lr', 'momentum', 0.1) == 2.5", good).holds
    mixed = good + [rec(5.0, 0.5, 1, 0.5)]      # converges again past the edge
    v = verdict("edge('g', 'loss', 'lr', 'momentum', 0.5) > 0", mixed)
    assert not v.holds and "has no single edge" in v.error and "not at 5" in v.error
    calm = [rec(1.0, 0.5, 1, 0.1)]
    v = verdict("edge('g', 'loss', 'lr', 'momentum', 0.5) > 0", calm)
    assert not v.holds and "no run grows" in v.error
