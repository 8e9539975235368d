"""Full-resolution record of every run, built from the chunk stream.

The trace keeps a bounded, decimated history for drawing; claims and reports need every record
(the first step a loss drops below a tolerance, the sign of every iterate), so headless mode
keeps this instead. Each `RunSummary` satisfies the RunRecord protocol of tui_optim.expect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from tui_optim.chunk import Chunk, Status, note_lr_change


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
    """Every run's RunSummary, fed chunk by chunk."""

    def __init__(self, runs) -> None:
        self.runs = [
            RunSummary(r.index, r.label, r.group, r.values, r.steps) for r in runs
        ]

    def add(self, chunk: Chunk) -> None:
        self.runs[chunk.run].add(chunk)

    def set_compute_seconds(self, seconds) -> None:
        for run, s in zip(self.runs, seconds):
            run.compute_seconds = s

    @property
    def records(self) -> int:
        return sum(r.records for r in self.runs)
