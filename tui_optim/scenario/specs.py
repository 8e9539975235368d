"""Value checkers for scenario keys: each says what it expects, in words, when a value is wrong."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from tui_optim.engine import catalog
from tui_optim.scenario.errors import Problems


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()  # returned by a checker after it reported a problem


# Control characters would reach the terminal as escape sequences (set the title, clear the
# screen, write the clipboard): every string of a scenario shows them as visible symbols instead.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\n\t"}
_VISIBLE.update({0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)}})
SHOW_MAX = 80          # characters of a value quoted in a message


def visible(text: str) -> str:
    """The text with control characters (ESC, CR, BEL, C1 controls...) shown as symbols (␛)."""
    return text.translate(_VISIBLE)


def show(value: Any, limit: int = SHOW_MAX) -> str:
    """A value the way it would be written in TOML (true, "text", [1, 2]), cut at `limit`
    characters so a message never echoes a whole file."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show(v, limit) for v in value[: limit // 2 + 1]) + "]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{k} = {show(v, limit)}" for k, v in list(value.items())[:limit // 4 + 1]) + " }"
    else:
        text = str(value) if not isinstance(value, int) or abs(value) < 10**limit else "a huge integer"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the nearest choice, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Spec:
    """Checks one value; `check` returns the normalized value or INVALID (after reporting)."""

    expected = "a value"

    def check(self, value: Any, path: str, out: Problems) -> Any:
        raise NotImplementedError

    def fail(self, value: Any, path: str, out: Problems) -> Any:
        out.add(path, f"expected {self.expected}, got {show(value)}")
        return INVALID


@dataclass
class Str(Spec):
    choices: tuple[str, ...] | None = None

    @property
    def expected(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return "a string"

    def check(self, value, path, out):
        if not isinstance(value, str):
            return self.fail(value, path, out)
        if self.choices is not None and value not in self.choices:
            out.add(path, f"expected {self.expected}, got {show(value)}{suggest(value[:SHOW_MAX], self.choices)}")
            return INVALID
        return visible(value)


@dataclass
class Bool(Spec):
    expected = "true or false"

    def check(self, value, path, out):
        return value if isinstance(value, bool) else self.fail(value, path, out)


def _range_words(gt=None, ge=None, lt=None, le=None) -> str:
    lo = "(" if gt is not None else "[" if ge is not None else None
    hi = ")" if lt is not None else "]" if le is not None else None
    a = gt if gt is not None else ge
    b = lt if lt is not None else le
    if lo and hi:
        return f" in {lo}{show(a)}, {show(b)}{hi}"
    if lo:
        return f" {'>' if gt is not None else '≥'} {show(a)}"
    if hi:
        return f" {'<' if lt is not None else '≤'} {show(b)}"
    return ""


def _in_range(v, gt, ge, lt, le) -> bool:
    return not (
        (gt is not None and not v > gt)
        or (ge is not None and not v >= ge)
        or (lt is not None and not v < lt)
        or (le is not None and not v <= le)
    )


MAX_INT = 2**53        # no key takes more; above it an integer is no longer exact as a float
MAX_STEPS, MAX_SIZE = catalog.MAX_STEPS, catalog.MAX_SIZE
REQUIRED = catalog.REQUIRED    # default of a key that must be given


@dataclass
class Int(Spec):
    ge: int | None = None
    le: int | None = MAX_INT

    @property
    def expected(self) -> str:  # type: ignore[override]
        # the general ceiling is no part of what a key means: say it only when it was hit
        le = None if self.le == MAX_INT else self.le
        return "an integer" + _range_words(ge=self.ge, le=le)

    def fail(self, value, path, out):
        if isinstance(value, int) and not isinstance(value, bool) and self.le == MAX_INT \
                and value > MAX_INT:
            out.add(path, f"expected {self.expected} up to 2^53, got {show(value)}")
            return INVALID
        return super().fail(value, path, out)

    def check(self, value, path, out):
        if not isinstance(value, int) or isinstance(value, bool):
            return self.fail(value, path, out)
        if not _in_range(value, None, self.ge, None, self.le):
            return self.fail(value, path, out)
        return value


@dataclass
class Float(Spec):
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a number" + _range_words(self.gt, self.ge, self.lt, self.le)

    def check(self, value, path, out):
        if not is_number(value):
            return self.fail(value, path, out)
        v = float(value)
        if not math.isfinite(v) or not _in_range(v, self.gt, self.ge, self.lt, self.le):
            return self.fail(value, path, out)
        return v


@dataclass
class List(Spec):
    """A list of items checked by `item`; normalized to a tuple so nothing mutates it."""

    item: Spec
    length: int | None = None
    min_len: int = 0
    max_len: int | None = None

    @property
    def expected(self) -> str:  # type: ignore[override]
        n = (
            f"{self.length} " if self.length is not None
            else f"at least {self.min_len} " if self.min_len else ""
        )
        return f"a list of {n}{_plural(self.item.expected)}"

    def check(self, value, path, out):
        if not isinstance(value, (list, tuple)):
            return self.fail(value, path, out)
        if (
            (self.length is not None and len(value) != self.length)
            or len(value) < self.min_len
            or (self.max_len is not None and len(value) > self.max_len)
        ):
            return self.fail(value, path, out)
        items = [self.item.check(v, f"{path}[{i}]", out) for i, v in enumerate(value)]
        return INVALID if any(v is INVALID for v in items) else tuple(items)


def _plural(expected: str) -> str:
    for a in ("a ", "an "):
        if expected.startswith(a):
            noun, _, rest = expected[len(a):].partition(" ")
            if noun == "list":
                return "lists " + rest
            return noun + "s" + (" " + rest if rest else "")
    return expected


@dataclass
class Window(Spec):
    """[x0, x1, y0, y1] with x0 < x1 and y0 < y1."""

    expected = "[x0, x1, y0, y1] with x0 < x1 and y0 < y1"

    def check(self, value, path, out):
        v = List(Float(), length=4).check(value, path, Problems("", lambda p: None))
        if v is INVALID or not (v[0] < v[1] and v[2] < v[3]):
            return self.fail(value, path, out)
        return v


@dataclass
class Range(Spec):
    """[lo, hi] with lo < hi."""

    expected = "[lo, hi] with lo < hi"

    def check(self, value, path, out):
        v = List(Float(), length=2).check(value, path, Problems("", lambda p: None))
        if v is INVALID or not v[0] < v[1]:
            return self.fail(value, path, out)
        return v


@dataclass
class Any_(Spec):
    expected = "a value"

    def check(self, value, path, out):
        return value


@dataclass
class Table(Spec):
    """A sub-table (schedule, clip, ...); the `normalize` callable checks and fills it."""

    normalize: Any = None  # (value: dict, path, out, context) -> dict | INVALID
    expected = "a table"

    def check(self, value, path, out, context=None):
        if not isinstance(value, dict):
            return self.fail(value, path, out)
        return self.normalize(value, path, out, context)


def check_keys(table: dict, allowed: Sequence[str], path: str, out: Problems, what: str = "key") -> bool:
    """Report keys of `table` that are not in `allowed`, with the nearest suggested."""
    ok = True
    for k in table:
        if k not in allowed:
            out.add(join(path, k), f"unknown {what} {k!r}{suggest(k, allowed)}")
            ok = False
    return ok


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def spec_of(param: catalog.Param) -> Spec:
    """The checker of a key the catalog (engine/catalog.py) declares."""
    bounds = dict(gt=param.gt, ge=param.ge, lt=param.lt, le=param.le)
    if param.type == "float":
        return Float(**bounds)
    if param.type == "int":
        return Int(ge=param.ge, le=MAX_INT if param.le is None else param.le)
    if param.type == "bool":
        return Bool()
    if param.type == "str":
        return Str(param.choices or None)
    if param.type == "floats":
        return List(Float(**bounds), min_len=1 if param.length is None else 0,
                    length=param.length, max_len=param.max_len)
    if param.type == "ints":
        return List(Int(ge=param.ge, le=MAX_INT if param.le is None else param.le),
                    length=param.length, max_len=param.max_len)
    if param.type == "range":
        return Range()
    if param.type == "matrix":
        return List(List(Float(), min_len=1), min_len=1)
    raise ValueError(f"catalog key {param.name!r} has an unknown type {param.type!r}")

PROBLEM_TYPES = ("surface", "network", "chain")


@dataclass(frozen=True)
class RunContext:
    """What a run key's default and applicability depend on."""

    optimizer: str
    ptype: str
    surface: str | None = None
    problem: Mapping[str, Any] = field(default_factory=dict)
    dim: int | None = None
    steps: int = 200


@dataclass(frozen=True)
class Key:
    """One key: its checker, its default (a value or a function of the context), and scope.

    `optimizers`/`problems` are None when the key applies to all; `problems` holds problem types
    ("surface", "network", "chain") or "surface:<name>" for one surface. A callable default of a
    run key takes the RunContext; of a problem key, the problem table given so far.
    """

    name: str
    spec: Spec
    default: Any = None
    optimizers: frozenset[str] | None = None
    problems: frozenset[str] | None = None
    sweepable: bool = True

    def default_for(self, ctx: Any) -> Any:
        return self.default(ctx) if callable(self.default) else self.default

    def applies(self, ctx: RunContext) -> bool:
        """why_not(ctx) is None, without building the message (20,000 runs of a sweep ask)."""
        if self.optimizers is not None and ctx.optimizer not in self.optimizers:
            return False
        return (self.problems is None or ctx.ptype not in PROBLEM_TYPES
                or ctx.ptype in self.problems
                or (ctx.surface is not None and f"{ctx.ptype}:{ctx.surface}" in self.problems))

    def why_not(self, ctx: RunContext) -> str | None:
        """None if the key applies in `ctx`, else why not (for the error message)."""
        if self.applies(ctx):
            return None
        if self.optimizers is not None and ctx.optimizer not in self.optimizers:
            return (f"does not apply to optimizer {ctx.optimizer!r} "
                    f"(it is for {', '.join(sorted(self.optimizers))})")
        where = f"surface {ctx.surface!r}" if ctx.surface else f"problem type {ctx.ptype!r}"
        fors = ", ".join(sorted(p.split(":")[-1] for p in self.problems or ()))
        return f"does not apply to {where} (it is for {fors})"
