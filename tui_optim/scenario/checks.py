"""The `[[expect]] check` language: a whitelisted subset of Python expressions.

`parse_check` accepts only numbers, arithmetic, chained comparisons, and/or/not, and the functions
of FUNCTIONS with their arity; runs and groups named in string arguments must exist. The
evaluator (tui_optim.expect) walks the tree this returns; nothing is ever passed to eval().
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Collection, Sequence

from tui_optim.scenario.specs import suggest

MAX_LENGTH = 2000


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "run", "group", "series", "key" (string literals) or "num" (any expression)
    default: float | None = None  # None: required


def _p(spec: str) -> tuple[Param, ...]:
    """'run series k0=0' -> params; the kind is the name unless it is a number argument."""
    out = []
    for word in spec.split():
        name, _, default = word.partition("=")
        kind = name if name in ("run", "group", "series", "key") else "num"
        out.append(Param(name, kind, float(default) if default else None))
    return tuple(out)


FUNCTIONS: dict[str, tuple[Param, ...]] = {
    "final": _p("run series"),
    "first": _p("run series"),
    "at": _p("run series k"),
    "min": _p("run series k0=0 k1=inf"),
    "max": _p("run series k0=0 k1=inf"),
    "mean": _p("run series k0=0 k1=inf"),
    "steps_to": _p("run series tol"),
    "diverged": _p("run"),
    "diverged_at": _p("run"),
    "frac_decreasing": _p("run series k0=0 k1=inf"),
    "frac_increasing": _p("run series k0=0 k1=inf"),
    "sign_flips": _p("run series ref k0=0 k1=inf"),
    "count_below": _p("run series tol"),
    "spread": _p("run series k0=0 k1=inf"),
    "spread_along": _p("run angle k0=0 k1=inf"),
    "flips_along": _p("run angle k0=0 k1=inf"),
    "at_along": _p("run angle k"),
    "param": _p("run key"),
    "best": _p("group series"),
    "best_param": _p("group series key"),
    "frac_diverged": _p("group"),
    "frac_wins": (Param("group_a", "group"), Param("group_b", "group"), Param("series", "series"),
                  Param("key", "key")),
    "edge": (Param("group", "group"), Param("series", "series"), Param("x", "key"),
             Param("y", "key"), Param("at", "num")),
    "distinct": _p("group key rtol=1e-9"),
    "distinct_finals": _p("group tol"),
    "count": _p("group"),
    "abs": _p("x"),
    "sqrt": _p("x"),
    "log": _p("x"),
    "log10": _p("x"),
    "exp": _p("x"),
}
CONSTANTS = ("pi", "inf")

_BOOL_OPS = (ast.And, ast.Or)
_UNARY_OPS = (ast.Not, ast.USub, ast.UAdd)
_BIN_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_CMP_OPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class CheckError(ValueError):
    """A check expression outside the language; the message lists every problem found."""


def bind_args(call: ast.Call) -> dict[str, ast.expr]:
    """Map a validated call's arguments to parameter names (positional, then keywords)."""
    params = FUNCTIONS[call.func.id]  # type: ignore[attr-defined]
    bound = {p.name: a for p, a in zip(params, call.args)}
    for kw in call.keywords:
        bound[kw.arg] = kw.value  # type: ignore[index]
    return bound


class _Validator:
    def __init__(self, runs: Collection[str], groups: Collection[str], keys: Collection[str] | None,
                 series: Collection[str] | None = None):
        self.runs, self.groups, self.keys, self.series = runs, groups, keys, series
        self.errors: list[str] = []

    def err(self, msg: str) -> None:
        if msg not in self.errors:
            self.errors.append(msg)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            self.visit(node.body)
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, _BOOL_OPS):
            for v in node.values:
                self.visit(v)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY_OPS):
            self.visit(node.operand)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _BIN_OPS):
            self.visit(node.left)
            self.visit(node.right)
        elif isinstance(node, ast.Compare) and all(isinstance(o, _CMP_OPS) for o in node.ops):
            self.visit(node.left)
            for c in node.comparators:
                self.visit(c)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                self.err(f"the string {node.value!r} is only allowed as a run, group, series or "
                         "key argument of a function")
            elif not isinstance(node.value, (int, float, bool)):
                self.err(f"{node.value!r} is not allowed in a check")
        elif isinstance(node, ast.Name):
            if node.id not in CONSTANTS and node.id not in ("True", "False"):
                hint = suggest(node.id, list(CONSTANTS) + list(FUNCTIONS))
                self.err(f"unknown name {node.id!r}{hint}; runs and series are named in quotes")
        elif isinstance(node, ast.Call):
            self.visit_call(node)
        else:
            self.err(f"{_describe(node)} is not allowed in a check (use numbers, + - * / **, "
                     "comparisons, and, or, not, and the documented functions)")

    def visit_call(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name):
            self.err(f"calling {_describe(node.func)} is not allowed in a check; call one of "
                     "the documented functions by name")
            return
        if node.func.id not in FUNCTIONS:
            name = node.func.id
            self.err(f"unknown function {name!r}{suggest(name, list(FUNCTIONS))}")
            for a in node.args:
                if not isinstance(a, (ast.Constant, ast.Starred)):
                    self.visit(a)
            return
        name = node.func.id
        params = FUNCTIONS[name]
        sig = f"{name}({', '.join(p.name if p.default is None else f'{p.name}={p.default:g}' for p in params)})"
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            self.err(f"{sig}: * and ** arguments are not allowed")
            return
        if len(node.args) > len(params):
            self.err(f"{sig} takes at most {len(params)} arguments, got {len(node.args)}")
            return
        bound = {p.name: a for p, a in zip(params, node.args)}
        names = {p.name for p in params}
        for kw in node.keywords:
            if kw.arg not in names:
                self.err(f"{sig} has no argument {kw.arg!r}")
                return
            if kw.arg in bound:
                self.err(f"{sig}: argument {kw.arg!r} given twice")
                return
            bound[kw.arg] = kw.value
        for p in params:
            if p.name not in bound:
                if p.default is None:
                    self.err(f"{sig} is missing argument {p.name!r}")
                continue
            self.visit_arg(sig, p, bound[p.name])

    def visit_arg(self, sig: str, p: Param, arg: ast.expr) -> None:
        if p.kind == "num":
            self.visit(arg)
            return
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            self.err(f"{sig}: {p.name} must be a quoted name, e.g. 'loss'" if p.kind == "series"
                     else f"{sig}: {p.name} must be a quoted {p.kind} name")
            return
        value = arg.value
        known = {"run": self.runs, "group": self.groups, "key": self.keys,
                 "series": self.series}.get(p.kind)
        if known is not None and value not in known:
            what = {"run": "run", "group": "group", "key": "run key", "series": "series"}[p.kind]
            self.err(f"unknown {what} {value!r}{suggest(value, sorted(known))}")


def _describe(node: ast.AST) -> str:
    op = getattr(node, "op", None)
    if op is not None:
        return f"the operator {type(op).__name__}"
    if isinstance(node, ast.Compare):
        return "the comparison " + "/".join(type(o).__name__ for o in node.ops)
    return type(node).__name__


def parse_check(src: str, run_labels: Collection[str], group_names: Collection[str],
                run_keys: Collection[str] | None = None,
                series: Collection[str] | None = None) -> ast.Expression:
    """Parse and validate a check; raise CheckError naming everything outside the language
    (and every series name the runs cannot emit, when `series` is given)."""
    if not isinstance(src, str):
        raise CheckError("expected a string")
    if not src.strip():
        raise CheckError("the check is empty")
    if len(src) > MAX_LENGTH:
        raise CheckError(f"the check is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(src.strip(), mode="eval")
    except SyntaxError as e:
        col = f" (column {e.offset})" if e.offset else ""
        raise CheckError(f"invalid expression: {e.msg}{col}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        raise CheckError(f"invalid expression: {e}") from None
    if run_keys is None:
        from tui_optim.scenario.keys import RUN_KEYS

        run_keys = RUN_KEYS
    v = _Validator(run_labels, group_names, run_keys, series)
    try:
        v.visit(tree)
    except RecursionError:
        raise CheckError("the check is nested too deeply") from None
    if v.errors:
        raise CheckError("; ".join(v.errors))
    return tree


__all__: Sequence[str] = ["parse_check", "CheckError", "FUNCTIONS", "CONSTANTS", "bind_args"]
