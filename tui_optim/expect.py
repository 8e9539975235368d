"""Evaluating `[[expect]]` claims on finished runs: a tree walk over the validated check AST.

The check is parsed and validated by tui_optim.scenario.checks (a whitelisted expression
language); here each node is evaluated by hand, never with eval(). Each verdict shows the measured
value of every side of every comparison, so a failing claim explains itself. A missing run or
series gives an error verdict, never an exception.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from tui_optim.chunk import grew
from tui_optim.engine.series import higher_is_better
from tui_optim.errors import UserError
from tui_optim.scenario.checks import CheckError, bind_args, parse_check
from tui_optim.scenario.model import ExpectSpec
from tui_optim.summary import KeptSeries, NotKept, NotRecorded


class RunRecord(Protocol):
    """What the runner's summary provides for each run (every record, or a long run's ends and
    running statistics: summary.RunSummary.kept)."""

    label: str
    group: str
    values: Mapping[str, Any]
    status: str  # "done" | "diverged" | "stopped"
    diverged_at: int | None

    def series(self, name: str) -> np.ndarray: ...  # KeyError if missing

    def series_names(self) -> list[str]: ...


@dataclass(frozen=True)
class Verdict:
    claim: str
    check: str
    holds: bool
    measured: str
    error: str | None = None


class EvalError(UserError):
    """A check that cannot be evaluated on these records (missing run or series, bad index)."""


def fmt(value: Any) -> str:
    """A measured value, short: 87, 3.2e-07, inf, true."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


_CMP: dict[type, tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Lt: ("<", lambda a, b: a < b), ast.LtE: ("<=", lambda a, b: a <= b),
    ast.Gt: (">", lambda a, b: a > b), ast.GtE: (">=", lambda a, b: a >= b),
    ast.Eq: ("==", lambda a, b: a == b), ast.NotEq: ("!=", lambda a, b: a != b),
}
_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: _div(a, b), ast.Pow: lambda a, b: _pow(a, b),
}


def _div(a: Any, b: Any) -> float:
    a, b = float(a), float(b)
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _pow(a: Any, b: Any) -> float:
    try:
        r = float(a) ** float(b)
    except OverflowError:
        return math.inf
    except ZeroDivisionError:
        return math.inf
    if isinstance(r, complex):
        raise EvalError(f"{fmt(a)} ** {fmt(b)} is not a real number")
    return r


def _log(x: float, f: Callable[[float], float], name: str) -> float:
    x = float(x)
    if x < 0 or math.isnan(x):
        raise EvalError(f"{name}({fmt(x)}) is undefined")
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return math.inf
    return f(x)


def _sqrt(x: float) -> float:
    x = float(x)
    if x < 0:
        raise EvalError(f"sqrt({fmt(x)}) is undefined")
    return math.sqrt(x)


def _exp(x: float) -> float:
    try:
        return math.exp(float(x))
    except OverflowError:
        return math.inf


def _spread(s: np.ndarray) -> float:
    """max − min of the values that are not nan (nan if none is finite)."""
    return float(np.nanmax(s) - np.nanmin(s)) if np.isfinite(s).any() else math.nan


def _not_nan(value: Any, text: str) -> None:
    """A claim about an undefined value (0/0, the accuracy of a diverged run) does not hold."""
    if isinstance(value, float) and math.isnan(value):
        raise EvalError(f"{text} is nan (not a number): a claim on it cannot hold")


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_literal(node.operand)
    return isinstance(node, ast.Name)


class _Evaluator:
    def __init__(self, src: str, records: Sequence[RunRecord]):
        self.src = src
        self.by_label = {r.label: r for r in records}
        self.groups: dict[str, list[RunRecord]] = {}
        for r in records:
            self.groups.setdefault(r.group, []).append(r)
        self.measured: list[str] = []

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.src, node) or ast.unparse(node)

    # ------------------------------------------------------------ tree walk

    def eval(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return self.eval(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return {"pi": math.pi, "inf": math.inf, "True": True, "False": False}[node.id]
        if isinstance(node, ast.BoolOp):
            stop_on = not isinstance(node.op, ast.And)  # and stops at a false, or at a true
            value: Any = not stop_on
            for v in node.values:
                value = self.logical(v)
                if bool(value) == stop_on:
                    return value
            return value
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self.logical(node.operand)
            v = self.eval(node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp):
            a, b = self.eval(node.left), self.eval(node.right)
            if isinstance(a, str) or isinstance(b, str):
                raise EvalError(f"{self.text(node)}: arithmetic on a name ({fmt(a)}, {fmt(b)})")
            return _BIN[type(node.op)](float(a), float(b))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise EvalError(f"cannot evaluate {type(node).__name__}")  # parse_check forbids this

    def logical(self, node: ast.AST) -> Any:
        """An operand of and/or/not; a bare value (diverged('x')) is shown in `measured` too."""
        value = self.eval(node)
        _not_nan(value, self.text(node))
        if not isinstance(node, (ast.Compare, ast.BoolOp)) and not (
                isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
            self.measured.append(f"{self.text(node)} = {fmt(value)}")
        return value

    def compare(self, node: ast.Compare) -> bool:
        sides = [node.left, *node.comparators]
        values = [self.eval(s) for s in sides]
        for side, value in zip(sides, values):
            _not_nan(value, self.text(side))
        parts = [self.side(sides[0], values[0])]
        result = True
        for i, op in enumerate(node.ops):
            sym, f = _CMP[type(op)]
            parts.append(sym)
            parts.append(self.side(sides[i + 1], values[i + 1]))
            result = result and bool(f(values[i], values[i + 1]))
        self.measured.append(" ".join(parts))
        return result

    def side(self, node: ast.AST, value: Any) -> str:
        t = self.text(node)
        return t if _is_literal(node) else f"{t} = {fmt(value)}"

    # ------------------------------------------------------------ functions

    def call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        args = {k: (v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                    else self.eval(v)) for k, v in bind_args(node).items()}
        return getattr(self, "f_" + name)(**args)

    def run(self, label: str) -> RunRecord:
        if label not in self.by_label:
            raise EvalError(f"no run {label!r} in the results "
                            f"(runs: {', '.join(map(repr, self.by_label)) or 'none'})")
        return self.by_label[label]

    def group(self, name: str) -> list[RunRecord]:
        if name not in self.groups:
            raise EvalError(f"no group {name!r} in the results "
                            f"(groups: {', '.join(map(repr, self.groups)) or 'none'})")
        return self.groups[name]

    def series(self, label: str | RunRecord, name: str) -> np.ndarray:
        rec = self.run(label) if isinstance(label, str) else label
        if _metrics(rec) is not None:
            raise EvalError(f"{rec.label!r} is a trial (keep = \"result\"): it keeps its "
                            "result, not every record; ask final, first, min (whole run), "
                            "steps_to (loss, at its tol), diverged or param")
        try:
            values = np.asarray(rec.series(name), dtype=float)
        except NotRecorded as e:
            raise EvalError(f"run {rec.label!r}: {e}: not checked") from None
        except NotKept as e:
            raise EvalError(f"run {rec.label!r}, series {name!r}: this claim needs every record, "
                            f"and {e} (flat memory); ask about a window near the start or the "
                            "end, or a whole-run value (final, min, max, mean, steps_to…)") \
                from None
        except KeyError:
            have = ", ".join(rec.series_names()) or "none"
            raise EvalError(f"run {rec.label!r} has no series {name!r} (it has: {have})") \
                from None
        if values.size == 0:
            raise EvalError(f"run {rec.label!r} has no records of {name!r}")
        return values.ravel()

    def _thinned(self, label: str | RunRecord, name: str) -> KeptSeries | None:
        """A long run's series whose middle was not kept (its running statistics answer
        whole-run questions); None when every record is there."""
        rec = self.run(label) if isinstance(label, str) else label
        kept = getattr(rec, "kept", None)
        if kept is None or _metrics(rec) is not None:
            return None
        try:
            k = kept(name)
        except (KeyError, NotRecorded):
            return None             # self.series reports the missing series, or no records
        return None if k.complete else k

    def _whole(self, label: str | RunRecord, name: str, k0, k1) -> KeptSeries | None:
        """The thinned series when (k0, k1) asks about all of it: its statistics answer."""
        k = self._thinned(label, name)
        return k if k is not None and k0 == 0 and k1 >= k.n else None

    def _records(self, label: str | RunRecord, name: str, k0, k1, what: str) -> np.ndarray:
        """Records k0 <= k < k1 of a series (k1 = inf: to the end): from every record, or
        from the start or the end a long run kept."""
        k = self._thinned(label, name)
        if k is None:
            return self._window(self.series(label, name), k0, k1, what)
        self._check_window(k.n, k0, k1, what)
        try:
            return k.window(int(k0), k.n if math.isinf(k1) else min(int(k1), k.n))
        except NotKept as e:
            raise EvalError(f"{what}: {e} (flat memory); ask about a window near the start or "
                            "the end") from None

    def reduced(self, label: str | RunRecord, kind: str, name: str) -> float:
        """first, final or min of a series: from a watched run's records (a long run's running
        statistics), or a trial's metrics (the same numbers: runner/trials.py folds them from
        the same records)."""
        rec = self.run(label) if isinstance(label, str) else label
        metrics = _metrics(rec)
        k = self._thinned(rec, name)
        if k is not None:
            return {"first": k.first, "final": k.final,
                    "min": k.min if k.min <= k.max else math.nan}[kind]
        if metrics is None:
            s = self.series(rec, name)
            if kind == "min":
                return float(np.nanmin(s)) if not np.all(np.isnan(s)) else math.nan
            return float(s[0] if kind == "first" else s[-1])
        _ended(rec)
        key = name if name == "steps_to_tol" else f"{kind}.{name}"
        if key not in metrics:
            kept = sorted({k.split(".", 1)[1] for k in metrics if "." in k})
            raise EvalError(f"trial {rec.label!r} has no {name!r} "
                            f"(it has: {', '.join(kept) or 'none'})")
        return float(metrics[key])

    def f_final(self, run, series):
        return self.reduced(run, "final", series)

    def f_first(self, run, series):
        return self.reduced(run, "first", series)

    def f_at(self, run, series, k):
        kept = self._thinned(run, series)
        n = kept.n if kept is not None else len(self.series(run, series))
        if not float(k).is_integer() or not -n <= k < n:
            raise EvalError(f"at({run!r}, {series!r}, {fmt(k)}): k must be a whole step in "
                            f"0..{n - 1}")
        k = int(k) % n
        return float(self._records(run, series, k, k + 1, f"at({run!r}, {series!r})")[0])

    def f_min(self, run, series, k0=0.0, k1=math.inf):
        if k0 == 0 and (math.isinf(k1) or self._whole(run, series, k0, k1) is not None):
            return self.reduced(run, "min", series)
        s = self._records(run, series, k0, k1, f"min({run!r}, {series!r})")
        return float(np.nanmin(s)) if not np.all(np.isnan(s)) else math.nan

    def f_max(self, run, series, k0=0.0, k1=math.inf):
        kept = self._whole(run, series, k0, k1)
        if kept is not None:
            return kept.max if kept.min <= kept.max else math.nan
        s = self._records(run, series, k0, k1, f"max({run!r}, {series!r})")
        return float(np.nanmax(s)) if not np.all(np.isnan(s)) else math.nan

    def f_mean(self, run, series, k0=0.0, k1=math.inf):
        kept = self._whole(run, series, k0, k1)
        if kept is not None:         # a running sum: numpy's mean but for the last bits
            return kept.sum / kept.n
        s = self._records(run, series, k0, k1, f"mean({run!r}, {series!r})")
        return float(np.mean(s))

    def f_count_below(self, run, series, tol):
        kept = self._thinned(run, series)
        if kept is not None:
            return float(self._below(kept, run, series, tol)[1])
        return float(np.count_nonzero(self.series(run, series) <= float(tol)))

    def _below(self, kept: KeptSeries, run, series, tol) -> tuple[int | None, int]:
        try:
            return kept.below(float(tol))
        except NotKept:
            raise EvalError(f"run {run!r}, series {series!r}: a run of {kept.n:,} records keeps "
                            f"the steps at or below a tolerance only for the tolerances its "
                            f"claims name as numbers, not {fmt(tol)} (flat memory)") from None

    def f_steps_to(self, run, series, tol):
        rec = self.run(run)
        metrics = _metrics(rec)
        if metrics is not None:
            _ended(rec)
            if series != "loss" or float(tol) != rec.tol:
                raise EvalError(f"trial {rec.label!r} kept only its steps to loss <= "
                                f"{fmt(rec.tol)} (its tol): ask steps_to({run!r}, 'loss', "
                                f"{fmt(rec.tol)})")
            return float(metrics["steps_to_tol"])
        kept = self._thinned(run, series)
        if kept is not None:
            first = self._below(kept, run, series, tol)[0]
            return math.inf if first is None else float(first)
        hits = np.flatnonzero(self.series(run, series) <= float(tol))
        return float(hits[0]) if hits.size else math.inf

    def f_diverged(self, run):
        return self.run(run).status == "diverged"

    def f_diverged_at(self, run):
        rec = self.run(run)
        if rec.status != "diverged" or rec.diverged_at is None:
            return math.inf
        return float(rec.diverged_at)

    def _diffs(self, run, series, k0, k1, what):
        return np.diff(self._records(run, series, k0, k1, f"{what}({run!r}, {series!r})"))

    def f_frac_decreasing(self, run, series, k0=0.0, k1=math.inf):
        kept = self._whole(run, series, k0, k1)
        if kept is not None:
            return kept.down / (kept.n - 1)
        d = self._diffs(run, series, k0, k1, "frac_decreasing")
        return float(np.mean(d < 0)) if d.size else 0.0

    def f_frac_increasing(self, run, series, k0=0.0, k1=math.inf):
        kept = self._whole(run, series, k0, k1)
        if kept is not None:
            return kept.up / (kept.n - 1)
        d = self._diffs(run, series, k0, k1, "frac_increasing")
        return float(np.mean(d > 0)) if d.size else 0.0

    def f_sign_flips(self, run, series, ref, k0=0.0, k1=math.inf):
        s = self._records(run, series, k0, k1, f"sign_flips({run!r}, {series!r})")
        sign = np.sign(s - float(ref))
        if sign.size < 2:
            return 0.0
        return float(np.mean(sign[1:] * sign[:-1] < 0))

    @staticmethod
    def _check_window(n: int, k0, k1, what: str) -> None:
        if not float(k0).is_integer() or not 0 <= k0 < n or not (k1 > k0) or \
                not (math.isinf(k1) or float(k1).is_integer()):
            raise EvalError(f"{what}: need whole steps 0 <= k0 < k1, k0 below {n}; "
                            f"got k0={fmt(k0)}, k1={fmt(k1)}")

    def _window(self, s: np.ndarray, k0, k1, what: str) -> np.ndarray:
        """Records k0 <= k < k1 (k1 = inf: to the end), as the pane shows them."""
        self._check_window(len(s), k0, k1, what)
        return s[int(k0):] if math.isinf(k1) else s[int(k0):int(k1)]

    def _along(self, run, angle, k0, k1, what: str) -> np.ndarray:
        """The 2-D position projected on the unit vector at `angle` degrees from the x axis."""
        a = math.radians(float(angle))
        x, y = self._records(run, "x.0", k0, k1, what), self._records(run, "x.1", k0, k1, what)
        return x * math.cos(a) + y * math.sin(a)

    def f_spread(self, run, series, k0=0.0, k1=math.inf):
        kept = self._whole(run, series, k0, k1)
        if kept is not None:         # as _spread: nan when nothing is finite
            return kept.max - kept.min if kept.fmin <= kept.fmax else math.nan
        return _spread(self._records(run, series, k0, k1, f"spread({run!r}, {series!r})"))

    def f_spread_along(self, run, angle, k0=0.0, k1=math.inf):
        return _spread(self._along(run, angle, k0, k1, f"spread_along({run!r}, {fmt(angle)})"))

    def f_at_along(self, run, angle, k):
        kept = self._thinned(run, "x.0")
        n = kept.n if kept is not None else len(self.series(run, "x.0"))
        if not float(k).is_integer() or not -n <= k < n:
            raise EvalError(f"at_along({run!r}, {fmt(angle)}, {fmt(k)}): k must be a whole step "
                            f"in 0..{n - 1}")
        k = int(k) % n
        return float(self._along(run, angle, k, k + 1, f"at_along({run!r}, {fmt(angle)})")[0])

    def f_flips_along(self, run, angle, k0=0.0, k1=math.inf):
        d = np.diff(self._along(run, angle, k0, k1, f"flips_along({run!r}, {fmt(angle)})"))
        if d.size < 2:
            return 0.0
        return float(np.mean(d[1:] * d[:-1] < 0))

    def f_param(self, run, key):
        rec = self.run(run)
        if key not in rec.values:
            raise EvalError(f"run {run!r} has no key {key!r}")
        v = rec.values[key]
        if v is None:
            raise EvalError(f"run {run!r} does not set {key!r}")
        return v

    def f_best(self, group, series):
        finals = [self.reduced(r, "final", series) for r in self.group(group)]
        finite = [f for f in finals if not math.isnan(f)]
        return min(finite) if finite else math.nan

    def f_best_param(self, group, series, key):
        """The value of run key `key` in the group's run whose final `series` is best (the
        largest for accuracy, else the smallest): "the best learning rate"."""
        higher = higher_is_better(series)
        scored = [(self.reduced(r, "final", series), r) for r in self.group(group)]
        scored = [(f, r) for f, r in scored if not math.isnan(f)]
        if not scored:
            raise EvalError(f"no run of group {group!r} has a final {series!r}")
        _, best = (max if higher else min)(scored, key=lambda fr: fr[0])
        if best.values.get(key) is None:
            raise EvalError(f"run {best.label!r} has no key {key!r}")
        return best.values[key]

    def f_frac_wins(self, group_a, group_b, series, key):
        """Over the values of run key `key` that both groups have (a sweep's `repeat`), the
        fraction at which group_a's best final `series` beats group_b's (lower; higher for
        accuracy): "random search beats grid search in 17 of 20 repeats"."""
        higher = higher_is_better(series)

        def bests(group: str) -> dict[Any, float]:
            out: dict[Any, float] = {}
            for r in self.group(group):
                if key not in r.values:
                    raise EvalError(f"run {r.label!r} has no key {key!r}")
                v = self.reduced(r, "final", series)
                if math.isnan(v):       # a repeat with nothing finite loses, not vanishes
                    v = -math.inf if higher else math.inf
                best = out.get(r.values[key])
                out[r.values[key]] = v if best is None else (max if higher else min)(best, v)
            return out

        a, b = bests(group_a), bests(group_b)
        both = [k for k in a if k in b]
        if not both:
            raise EvalError(f"frac_wins: {group_a!r} and {group_b!r} share no value of {key!r}")
        wins = sum((a[k] > b[k]) if higher else (a[k] < b[k]) for k in both)
        return wins / len(both)

    def f_frac_diverged(self, group):
        runs = self.group(group)
        return float(sum(r.status == "diverged" for r in runs)) / max(1, len(runs))

    def f_edge(self, group, series, x, y, at):
        """Where the group's runs start to diverge along `x`, in the row of the sweep whose `y`
        is nearest `at`: the smallest x at which the run diverged or its `series` grew (final
        above first), if every smaller x did not and every larger x did; else the claim fails
        saying why. "Heavy ball is stable up to ελ = 2(1 + α)"."""
        rows: dict[float, list[tuple[float, bool]]] = {}
        for r in self.group(group):
            for k in (x, y):
                if not isinstance(r.values.get(k), (int, float)):
                    raise EvalError(f"run {r.label!r} has no number {k!r}")
            up = grew(r.status, self.reduced(r, "first", series), self.reduced(r, "final", series))
            rows.setdefault(float(r.values[y]), []).append((float(r.values[x]), up))
        row_y = min(rows, key=lambda v: abs(v - float(at)))
        cells = sorted(rows[row_y])
        grew_at = [vx for vx, g in cells if g]
        if not grew_at:
            raise EvalError(f"edge({group!r}): no run grows in the row {y} = {fmt(row_y)} "
                            f"(up to {x} = {fmt(cells[-1][0])})")
        first = grew_at[0]
        late = [vx for vx, g in cells if not g and vx > first]
        if late:
            raise EvalError(f"edge({group!r}): the row {y} = {fmt(row_y)} has no single edge: "
                            f"the loss grows at {x} = {fmt(first)} but not at {fmt(late[0])}")
        return first

    def f_distinct(self, group, key, rtol=1e-9):
        values = []
        for r in self.group(group):
            if key not in r.values:
                raise EvalError(f"run {r.label!r} has no key {key!r}")
            values.append(r.values[key])
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            xs = sorted(float(v) for v in values)
            n = 1 if xs else 0
            for a, b in zip(xs, xs[1:]):
                if abs(b - a) > float(rtol) * max(abs(a), abs(b)):
                    n += 1
            return float(n)
        return float(len({repr(v) for v in values}))

    def f_distinct_finals(self, group, tol):
        reps: list[np.ndarray] = []
        for r in self.group(group):
            names = sorted((n for n in r.series_names()
                            if n.startswith("x.") and n[2:].isdigit()), key=lambda n: int(n[2:]))
            if not names:
                raise EvalError(f"run {r.label!r} has no position series x.0, x.1, ... "
                                f"(it has: {', '.join(r.series_names()) or 'none'})")
            point = np.array([self.reduced(r, "final", n) for n in names])
            if not np.all(np.isfinite(point)):
                continue  # a diverged run ends nowhere
            if not any(p.shape == point.shape and np.linalg.norm(p - point) <= float(tol)
                       for p in reps):
                reps.append(point)
        return float(len(reps))

    def f_count(self, group):
        return float(len(self.group(group)))

    def f_abs(self, x):
        return abs(x)

    def f_sqrt(self, x):
        return _sqrt(x)

    def f_log(self, x):
        return _log(x, math.log, "log")

    def f_log10(self, x):
        return _log(x, math.log10, "log10")

    def f_exp(self, x):
        return _exp(x)


def claim_tolerances(expects: Sequence[ExpectSpec]) -> dict[str, set[float]]:
    """Per series, the tolerances the claims name as numbers in steps_to and count_below: a
    long run's summary counts them as records arrive (it does not keep every record)."""
    out: dict[str, set[float]] = {}
    for e in expects:
        try:
            tree = ast.parse(e.check, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("steps_to", "count_below")):
                continue
            try:
                args = bind_args(node)
                series, tol = ast.literal_eval(args["series"]), ast.literal_eval(args["tol"])
            except (KeyError, ValueError, TypeError, SyntaxError):
                continue            # a computed tolerance: asked of the kept records
            if isinstance(series, str) and isinstance(tol, (int, float)):
                out.setdefault(series, set()).add(float(tol))
    return out


def _ended(trial: Any) -> None:
    """A trial stopped before its end (quit, Ctrl-C, a cut-off recording) has no result."""
    if trial.status not in ("done", "diverged"):
        raise EvalError(f"trial {trial.label!r} was stopped before its end: no result")


def _metrics(rec: Any) -> Mapping[str, float] | None:
    """A trial's metrics (summary.TrialSummary), None for a watched run."""
    return getattr(rec, "metrics", None)


def evaluate_one(expect: ExpectSpec, records: Sequence[RunRecord]) -> Verdict:
    src = expect.check.strip()
    labels = [r.label for r in records]
    groups = sorted({r.group for r in records})
    try:
        tree = parse_check(src, labels, groups)
    except CheckError as e:
        return Verdict(expect.claim, expect.check, False, "", str(e))
    ev = _Evaluator(src, records)
    try:
        value = ev.eval(tree)
    except EvalError as e:
        return Verdict(expect.claim, expect.check, False, "; ".join(ev.measured), str(e))
    except RecursionError:
        return Verdict(expect.claim, expect.check, False, "", "the check is nested too deeply")
    except (ArithmeticError, ValueError, TypeError) as e:
        return Verdict(expect.claim, expect.check, False, "; ".join(ev.measured),
                       f"cannot evaluate: {e}")
    measured = "; ".join(ev.measured) if ev.measured else f"{src} = {fmt(value)}"
    if isinstance(value, float) and math.isnan(value):
        return Verdict(expect.claim, expect.check, False, measured,
                       "the check's value is nan (not a number): it cannot hold")
    try:
        holds = bool(value)
    except (ValueError, TypeError) as e:
        return Verdict(expect.claim, expect.check, False, measured, f"not a truth value: {e}")
    return Verdict(expect.claim, expect.check, holds, measured, None)


def evaluate(expects: Sequence[ExpectSpec], records: Sequence[RunRecord]) -> list[Verdict]:
    """One verdict per claim, in order. `holds` is False whenever `error` is set."""
    return [evaluate_one(e, records) for e in expects]
