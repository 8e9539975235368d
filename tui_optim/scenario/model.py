"""The validated, immutable scenario objects the runner, UI and headless code read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


class FrozenDict(dict):
    """A dict nothing can change: safe to share between the runner, the UI and the summary.

    A dict subclass rather than MappingProxyType so it still pickles, deep-copies and goes
    through json.dumps like the plain mapping it is.
    """

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("scenario values are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> "FrozenDict":
        return self

    def __deepcopy__(self, memo: dict) -> "FrozenDict":
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


@dataclass(frozen=True)
class ProblemSpec:
    """`type` ("surface", "network", "chain") and every problem key with defaults filled."""

    type: str
    values: Mapping[str, Any]

    @property
    def surface(self) -> str | None:
        return self.values.get("surface")


@dataclass(frozen=True)
class RunSpec:
    """One run after sweep expansion and --set: every key that applies to it, defaults filled.

    `values` also holds `optimizer`, `steps` and `seed`; optional tables (schedule, clip, average,
    continuation) are dicts with defaults filled, or None (schedule is always a dict).
    """

    index: int
    label: str
    group: str
    steps: int
    seed: int
    values: Mapping[str, Any]
    keep: str = "trace"     # "result": a trial, kept as its Outcome only (runner/trials.py)
    tol: float = 1e-6       # a trial's loss tolerance: its steps_to_tol counts steps to it

    @property
    def optimizer(self) -> str:
        return self.values["optimizer"]


@dataclass(frozen=True)
class PaneSpec:
    kind: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ExpectSpec:
    """A claim (plain sentence), its check expression, and the line of its [[expect]] entry."""

    claim: str
    check: str
    line: int | None = None


@dataclass(frozen=True)
class Scenario:
    path: Path | None
    name: str
    source_text: str
    title: str
    topic: str
    order: int
    explanation: str
    steps: int
    seed: int
    speed: float | None
    problem: ProblemSpec
    runs: tuple[RunSpec, ...]           # watched: every record streams (keep = "trace")
    panes: tuple[PaneSpec, ...]
    expects: tuple[ExpectSpec, ...]
    trials: tuple[RunSpec, ...] = ()    # kept as results (keep = "result"), for an executor

    def run(self, label: str) -> RunSpec:
        for r in self.runs:
            if r.label == label:
                return r
        raise KeyError(label)

    @property
    def groups(self) -> dict[str, tuple[RunSpec, ...]]:
        out: dict[str, list[RunSpec]] = {}
        for r in self.runs:
            out.setdefault(r.group, []).append(r)
        return {g: tuple(rs) for g, rs in out.items()}
