"""What headless reports and claims know of every run, built from the chunk stream, in
memory that stays flat however long the run.

The trace keeps a decimated history for drawing; claims need exact records (the first step a
loss drops below a tolerance, the sign of every iterate). A run keeps every record while it
has at most KEEP_RECORDS values in all (a few million: every built-in); a longer one keeps its
first and its last records, a share of KEEP_RECORDS each, and exact running statistics of all
of them: first, final, least, largest, sum, the steps that went down or up, and the first step
at or below each tolerance its claims ask about. A claim that needs a record in the part not
kept says so (expect.py). Each `RunSummary` satisfies the RunRecord protocol of
tui_optim.expect.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from tui_optim.chunk import Chunk, Outcome, Status, note_lr_change

# Values a run keeps exactly (8 bytes each), over all its series: 16 MB; however many series,
# at least MIN_KEEP records at each end of each.
KEEP_RECORDS = 1 << 21
MIN_KEEP = 1024


class NotKept(LookupError):
    """Records a claim asks for that a long run did not keep (the middle of its history)."""


class NotRecorded(NotKept):
    """Records a recording at reduced resolution does not hold, nor its exact summary."""


class KeptSeries:
    """One series of one run: its first `head` and last `tail` records (every record while
    there are no more than head + tail), and running statistics of every record."""

    def __init__(self, head: float, tail: float, tols: Iterable[float] = ()) -> None:
        self.head, self.tail = head, tail
        self._head: list[np.ndarray] = []
        self._tail: deque[np.ndarray] = deque()
        self.n_head = self.n_tail = self.n = 0
        self.first = self.final = math.nan
        self.min, self.max = math.inf, -math.inf        # of the records that are not NaN
        self.fmin, self.fmax = math.inf, -math.inf      # of the finite ones (results' best)
        self.sum = 0.0
        self.down = self.up = 0                         # consecutive pairs that fell, rose
        self._below = {float(t): [None, 0] for t in tols}   # tol -> [first step, count]
        self._full: np.ndarray | None = None      # every record (while complete), or
        self._ends: tuple[np.ndarray, np.ndarray] | None = None     # the head and the tail

    def add(self, values: np.ndarray) -> None:
        with np.errstate(invalid="ignore", over="ignore"):     # inf − inf in a diverged run
            self._add(np.asarray(values, dtype=np.float64))

    def _add(self, v: np.ndarray) -> None:
        if not len(v):
            return
        self._full = self._ends = None
        if self.n == 0:
            self.first = float(v[0])
        else:       # the pair across the chunks' boundary
            self.down += int(self.final > float(v[0]))
            self.up += int(self.final < float(v[0]))
        self.down += int(np.count_nonzero(v[1:] < v[:-1]))
        self.up += int(np.count_nonzero(v[1:] > v[:-1]))
        lo, hi = float(np.fmin.reduce(v)), float(np.fmax.reduce(v))     # NaN: all NaN
        if lo == lo:
            self.min, self.max = min(self.min, lo), max(self.max, hi)
            if not (math.isfinite(lo) and math.isfinite(hi)):       # the finite ones apart
                finite = v[np.isfinite(v)]
                lo, hi = (finite.min(), finite.max()) if finite.size else (math.inf, -math.inf)
            self.fmin, self.fmax = min(self.fmin, float(lo)), max(self.fmax, float(hi))
        self.sum += float(np.sum(v))
        for tol, hit in self._below.items():
            at = v <= tol
            if hit[0] is None and at.any():
                hit[0] = self.n + int(np.argmax(at))
            hit[1] += int(np.count_nonzero(at))
        take = int(min(len(v), self.head - self.n_head))
        if take > 0:
            self._head.append(v[:take].copy())
            self.n_head += take
        rest = v[take:] if take > 0 else v
        if len(rest):
            self._tail.append(rest)     # chunks are never changed once sent: no copy
            self.n_tail += len(rest)
            while self._tail and self.n_tail - len(self._tail[0]) >= self.tail:
                self.n_tail -= len(self._tail.popleft())
        self.final = float(v[-1])
        self.n += len(v)

    @property
    def complete(self) -> bool:
        return self.n == self.n_head + self.n_tail

    def window(self, k0: int, k1: int) -> np.ndarray:
        """Records k0 <= k < k1 (0 <= k0 <= k1 <= n), if kept; else NotKept."""
        if self.complete:
            if self._full is None:
                self._full = np.concatenate([*self._head, *self._tail]) if self.n else np.empty(0)
            return self._full[k0:k1]
        head, tail = self._kept_ends()
        if k1 <= self.n_head:
            return head[k0:k1]
        start = self.n - self.n_tail
        if k0 >= start:
            return tail[k0 - start:k1 - start]
        raise NotKept(f"records {k0}..{k1 - 1} of {self.n:,}: a run this long keeps only its "
                      f"first {self.n_head:,} and last {self.n_tail:,} records in memory")

    def _kept_ends(self) -> tuple[np.ndarray, np.ndarray]:
        """(head, tail) as two arrays, joined once until the next record."""
        if self._ends is None:
            self._ends = (np.concatenate(self._head) if self._head else np.empty(0),
                          np.concatenate(self._tail) if self._tail else np.empty(0))
        return self._ends

    STATS = ("n", "first", "final", "min", "max", "fmin", "fmax", "sum", "down", "up")

    def state(self) -> tuple[dict, np.ndarray, np.ndarray]:
        """(statistics, head, tail): all it knows, for a recording at reduced resolution to
        carry the exact summary its claims need (`restored` reads it back)."""
        head, tail = self._kept_ends()
        stats = {k: getattr(self, k) for k in self.STATS}
        stats["below"] = [[t, first, count] for t, (first, count) in self._below.items()]
        return stats, head, tail

    @classmethod
    def restored(cls, stats: dict, head: np.ndarray, tail: np.ndarray) -> "KeptSeries":
        """The series `state` described: its head and tail as kept, its statistics exact."""
        k = cls(len(head), len(tail))
        for name in cls.STATS:
            setattr(k, name, type(getattr(k, name))(stats[name]))
        k._below = {float(t): [None if first is None else int(first), int(count)]
                    for t, first, count in stats["below"]}
        k._head = [np.asarray(head, dtype=np.float64)]
        k._tail = deque([np.asarray(tail, dtype=np.float64)])
        k.n_head, k.n_tail = len(head), len(tail)
        if k.n_head + k.n_tail > k.n:
            raise ValueError("a series' kept records outnumber its records")
        return k

    def below(self, tol: float) -> tuple[int | None, int]:
        """(first step at or below tol, how many records are), exact."""
        if float(tol) in self._below:
            first, count = self._below[float(tol)]
            return first, count
        at = self.window(0, self.n) <= tol
        return (int(np.argmax(at)) if at.any() else None), int(np.count_nonzero(at))


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
    _kept: dict[str, KeptSeries] = field(default_factory=dict)
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    records: int = 0
    # (first step, scale) each time the live ε scale changed: the run was altered by hand
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    keep: int | None = KEEP_RECORDS         # values kept exactly over all series; None: all
    tols: Mapping[str, Iterable[float]] = field(default_factory=dict)   # series -> tolerances
    every: int = 1                          # records per value of a reduced recording (reduce.py)
    _sampled: dict[str, KeptSeries] = field(default_factory=dict)   # and its buckets' last values

    def add(self, chunk: Chunk) -> None:
        note_lr_change(self.lr_changes, chunk)
        if chunk.every > 1:         # a recording at reduced resolution: its buckets' last records
            self.every = chunk.every
        into = self._sampled if chunk.every > 1 else self._kept
        for name, values in chunk.series.items():
            kept = into.get(name)
            if kept is None:
                share = (math.inf if self.keep is None
                         else max(MIN_KEEP, self.keep // (2 * max(1, len(chunk.series)))))
                tols = self.tols.get(name, ()) if into is self._kept else ()  # samples: none
                kept = into[name] = KeptSeries(share, share, tols)
            kept.add(values)
        self.snapshots.update(chunk.snapshots)
        self.records = max(self.records, chunk.stop)
        self.status = chunk.status.value
        if chunk.diverged_at is not None:
            self.diverged_at = chunk.diverged_at

    @property
    def exact(self) -> dict[str, KeptSeries]:
        """Every series' exact summary (what a recording at reduced resolution carries)."""
        return dict(self._kept)

    def restore(self, exact: Mapping[str, KeptSeries]) -> None:
        """The exact summary a recording at reduced resolution carries for this run: what its
        claims read, as if every record had been replayed."""
        self._kept = dict(exact)

    def kept(self, name: str) -> KeptSeries:
        if name not in self._kept and name in self._sampled:
            raise NotRecorded(f"the recording holds one value per {self.every:,} steps of "
                              f"{name!r} (min and max kept) and no exact summary of this run "
                              "(it was cut off before the run ended)")
        return self._kept[name]      # KeyError names the series, as the protocol asks

    def series(self, name: str) -> np.ndarray:
        """Every record of the series (NotKept for a long run: claims ask `kept(name)`)."""
        k = self.kept(name)
        return k.window(0, k.n)

    def samples(self, name: str) -> np.ndarray:
        """The values at `steps()`: every record, or at reduced resolution the last record of
        each bucket (what --csv writes)."""
        if self.every == 1:
            return self.series(name)
        k = self._sampled[name]
        return k.window(0, k.n)

    def series_names(self) -> list[str]:
        return list(self._kept or self._sampled)

    def steps(self) -> np.ndarray:
        """The steps with a record: every one, or the last of each bucket."""
        if self.every == 1:
            return np.arange(self.records)
        return np.minimum(np.arange(self.every - 1, self.records + self.every - 1, self.every),
                          self.records - 1)

    def final(self, name: str) -> float:
        kept = self._kept.get(name) or self._sampled.get(name)
        return kept.final if kept is not None else float("nan")

    @property
    def steps_per_second(self) -> float | None:
        if self.compute_seconds <= 0:
            return None
        return self.records / self.compute_seconds


class Summary:
    """Every run's RunSummary, fed chunk by chunk, and every trial's TrialSummary."""

    def __init__(self, runs, trials=(), *, keep: int | None = KEEP_RECORDS,
                 tols: Mapping[str, Iterable[float]] | None = None) -> None:
        """`keep`: values kept exactly per run (None: every record, for --csv); `tols`: per
        series, the tolerances claims ask the first step below (expect.claim_tolerances)."""
        self.runs = [
            RunSummary(r.index, r.label, r.group, r.values, r.steps, keep=keep,
                       tols=tols or {}) for r in runs
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
