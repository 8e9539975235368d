"""Full-resolution record of every run, built from the chunk stream.

The trace keeps a bounded, decimated history for drawing; claims and reports need every record
(the first step a loss drops below a tolerance, the sign of every iterate), so headless mode
keeps this instead. Each `RunSummary` satisfies the RunRecord protocol of tui_optim.expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from tui_optim.chunk import Chunk, Outcome, Status, note_lr_change


@dataclass
class RunSummary:
    index: int
    label: str
    group: str
    values: Mapping[str, Any]
    planned_steps: int
    status: str = Status.RUNNING.value
    diverged_at: int | None = None
    compute_seconds: float = 0.0
    _parts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _cache: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    records: int = 0
    # (first step, scale) each time the live ε scale changed: the run was altered by hand
    lr_changes: list[tuple[int, float]] = field(default_factory=list)

    def add(self, chunk: Chunk) -> None:
        note_lr_change(self.lr_changes, chunk)
        for name, values in chunk.series.items():
            self._parts.setdefault(name, []).append(np.asarray(values, dtype=np.float64))
            self._cache.pop(name, None)
        self.snapshots.update(chunk.snapshots)
        self.records = max(self.records, chunk.stop)
        self.status = chunk.status.value
        if chunk.diverged_at is not None:
            self.diverged_at = chunk.diverged_at

    def series(self, name: str) -> np.ndarray:
        if name not in self._cache:
            parts = self._parts[name]  # KeyError names the series, as the protocol asks
            self._cache[name] = np.concatenate(parts) if parts else np.empty(0)
        return self._cache[name]

    def series_names(self) -> list[str]:
        return list(self._parts)

    def steps(self) -> np.ndarray:
        """The steps with a record: every one."""
        return np.arange(self.records)

    def final(self, name: str) -> float:
        if name not in self._parts:
            return float("nan")
        values = self.series(name)
        return float(values[-1]) if len(values) else float("nan")

    @property
    def steps_per_second(self) -> float | None:
        if self.compute_seconds <= 0:
            return None
        return self.records / self.compute_seconds


class Summary:
    """Every run's RunSummary, fed chunk by chunk, and every trial's TrialSummary."""

    def __init__(self, runs, trials=()) -> None:
        self.runs = [
            RunSummary(r.index, r.label, r.group, r.values, r.steps) for r in runs
        ]
        self.trials = [
            TrialSummary(t.index, t.label, t.group, t.values, t.steps, t.tol) for t in trials
        ]
        self.records = 0        # over every run and trial, kept as they come (20,000 trials)

    def add(self, item: Chunk | Outcome) -> None:
        target = self.trials[item.trial] if isinstance(item, Outcome) else self.runs[item.run]
        before = target.records
        target.add(item)
        self.records += target.records - before

    @property
    def records_all(self) -> list:
        """What claims read: the watched runs, then the trials."""
        return [*self.runs, *self.trials]

    def set_compute_seconds(self, seconds) -> None:
        for run, s in zip(self.runs, seconds):
            run.compute_seconds = s



@dataclass
class TrialSummary:
    """A trial's result (runner/trials.py): the RunRecord protocol without per-step records;
    claims read its `metrics` (first, final, min, steps_to_tol) instead."""

    index: int
    label: str
    group: str
    values: Mapping[str, Any]
    planned_steps: int
    tol: float
    status: str = Status.RUNNING.value
    diverged_at: int | None = None
    compute_seconds: float = 0.0
    records: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    lr_changes: list[tuple[int, float]] = field(default_factory=list)  # never altered live
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.status = outcome.status.value
        self.records = outcome.steps
        self.diverged_at = outcome.diverged_at
        self.metrics = dict(outcome.metrics)
        self.compute_seconds = outcome.seconds

    def outcome(self) -> Outcome:
        return Outcome(self.index, self.records, Status(self.status), self.metrics,
                       self.diverged_at, self.compute_seconds)

    def series(self, name: str) -> np.ndarray:
        raise KeyError(name)

    def series_names(self) -> list[str]:
        return []

    def final(self, name: str) -> float:
        return self.metrics.get(f"final.{name}", float("nan"))

    @property
    def steps_per_second(self) -> float | None:
        return self.records / self.compute_seconds if self.compute_seconds > 0 else None
