"""The bounded in-memory history the dashboard panes read.

The worker thread `ingest`s chunks; the UI thread reads `view`s. Memory per series is fixed
(`capacity` buckets) however long a run lasts: when the buckets are full, neighbouring pairs
merge and the bucket width doubles. Each bucket keeps count, sum, min, max and last value, so
a decimated view still knows where the spikes were. Version counters let a pane skip redrawing
when nothing it shows has changed. No textual import here: headless tools may use it too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from tui_optim.chunk import Chunk, Outcome, Status, note_lr_change

DEFAULT_CAPACITY = 2048


@dataclass(frozen=True)
class View:
    """A decimated series: what a pane hands to the plotter (at most `max_points` long)."""

    steps: np.ndarray   # centre step of each point
    mean: np.ndarray    # average over the point's records (the drawn line)
    lo: np.ndarray      # min over the point's records (bands, spikes)
    hi: np.ndarray      # max over the point's records
    last: float         # the most recent value (nan if none)

    def __len__(self) -> int:
        return len(self.steps)


EMPTY_VIEW = View(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), float("nan"))


class Series:
    """One series of one run in fixed memory: `capacity` buckets of `width` records each."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.width = 1            # records per full bucket
        self.used = 0             # buckets in use (the last may be partial)
        self.count = np.zeros(capacity, np.int64)
        self.first = np.zeros(capacity, np.int64)   # step of each bucket's first record
        self.sum = np.zeros(capacity)
        self.min = np.zeros(capacity)
        self.max = np.zeros(capacity)
        self.last_in = np.zeros(capacity)
        self.n = 0                # records seen
        self.last = float("nan")
        self.first_value = float("nan")   # record 0's value (the initialization's picture)

    def _merge_pairs(self) -> None:
        h = self.used // 2
        for arr, how in ((self.count, "sum"), (self.sum, "sum"), (self.min, "min"),
                         (self.max, "max"), (self.first, "first"), (self.last_in, "last")):
            pairs = arr[: 2 * h].reshape(h, 2)
            if how == "sum":
                merged = pairs.sum(axis=1)
            elif how == "min":
                merged = np.fmin(pairs[:, 0], pairs[:, 1])
            elif how == "max":
                merged = np.fmax(pairs[:, 0], pairs[:, 1])
            elif how == "first":
                merged = pairs[:, 0].copy()
            else:
                merged = pairs[:, 1].copy()
            arr[:h] = merged
        self.used = h
        self.width *= 2

    def append(self, start: int, values: np.ndarray, every: int = 1,
               bands: np.ndarray | None = None, n: int | None = None,
               first: float | None = None) -> None:
        """Add consecutive records starting at step `start` (vectorized, no per-record loop),
        or, at reduced resolution, n records in buckets of `every`: `values` the buckets'
        last records, `bands` their (min, max, sum), `first` record 0 if this is the run's
        first chunk (chunk.Chunk). A diverging run's sums overflow to inf and its NaNs stay
        NaN: values, not warnings."""
        v = np.asarray(values, dtype=np.float64)
        if every == 1:
            lo = hi = sums = v
            n = len(v)
            first = float(v[0]) if len(v) else None
        else:
            lo, hi, sums = np.asarray(bands, dtype=np.float64)
            if self.n == 0:
                self.width = max(self.width, every)     # a bucket never splits a recorded one
        if self.n == 0 and first is not None:
            self.first_value = first
        with np.errstate(over="ignore", invalid="ignore"):
            self._append(start, every, n, v, lo, hi, sums)

    def _append(self, start: int, unit: int, n: int, last: np.ndarray, lo: np.ndarray,
                hi: np.ndarray, sums: np.ndarray) -> None:
        """Fold blocks of `unit` records (the last may be short: n records in all) into the
        buckets, each bucket `width // unit` blocks."""
        blocks = len(last)
        short = unit * blocks - n           # records the last block lacks

        def records(i: int, j: int) -> int:
            """Records in blocks i..j-1."""
            return (j - i) * unit - (short if j == blocks else 0)

        i = 0
        while i < blocks:
            per = self.width // unit
            if self.used and self.count[self.used - 1] < self.width:
                b = self.used - 1
                k = min((self.width - int(self.count[b])) // unit, blocks - i)
                sl = slice(i, i + k)
                self.count[b] += records(i, i + k)
                self.sum[b] += sums[sl].sum()
                self.min[b] = np.fmin(self.min[b], np.fmin.reduce(lo[sl]))
                self.max[b] = np.fmax(self.max[b], np.fmax.reduce(hi[sl]))
                self.last_in[b] = last[i + k - 1]
                i += k
                continue
            if self.used == self.capacity:
                self._merge_pairs()
                continue
            full = min((blocks - i) // per, self.capacity - self.used)
            if full:
                sl = slice(i, i + full * per)
                out = slice(self.used, self.used + full)
                self.count[out] = self.width
                if i + full * per == blocks:        # its last block may be short
                    self.count[self.used + full - 1] -= short
                self.first[out] = start + i * unit + np.arange(full) * self.width
                self.sum[out] = sums[sl].reshape(full, per).sum(axis=1)
                self.min[out] = np.fmin.reduce(lo[sl].reshape(full, per), axis=1)
                self.max[out] = np.fmax.reduce(hi[sl].reshape(full, per), axis=1)
                self.last_in[out] = last[sl].reshape(full, per)[:, -1]
                self.used += full
                i += full * per
            else:   # fewer than a bucket's blocks left: open a partial bucket
                b = self.used
                sl = slice(i, blocks)
                self.count[b] = records(i, blocks)
                self.first[b] = start + i * unit
                self.sum[b] = sums[sl].sum()
                self.min[b] = np.fmin.reduce(lo[sl])
                self.max[b] = np.fmax.reduce(hi[sl])
                self.last_in[b] = last[-1]
                self.used += 1
                i = blocks
        if blocks:
            self.n = start + n
            self.last = float(last[-1])

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values): the exact record at the last step of every bucket (every record
        while the buckets are one wide)."""
        u = self.used
        return self.first[:u] + self.count[:u] - 1, self.last_in[:u].copy()

    def view(self, max_points: int) -> View:
        """Average groups of buckets down to at most `max_points` points (min/max kept)."""
        u = self.used
        if u == 0 or max_points < 1:
            return View(EMPTY_VIEW.steps, EMPTY_VIEW.mean, EMPTY_VIEW.lo, EMPTY_VIEW.hi, self.last)
        g = -(-u // max_points)     # buckets per point
        m = -(-u // g)
        pad = m * g - u
        cnt = self.count[:u]
        s = self.sum[:u]
        if pad:
            cnt = np.concatenate([cnt, np.zeros(pad, np.int64)])
            s = np.concatenate([s, np.zeros(pad)])
        cnt = cnt.reshape(m, g).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            mean = s.reshape(m, g).sum(axis=1) / np.maximum(cnt, 1)
        first = self.first[:u:g]
        steps = first + (cnt - 1) / 2.0
        lo_src, hi_src = self.min[:u], self.max[:u]
        if pad:
            lo_src = np.concatenate([lo_src, np.full(pad, np.nan)])
            hi_src = np.concatenate([hi_src, np.full(pad, np.nan)])
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduce(lo_src.reshape(m, g), axis=1)
            hi = np.fmax.reduce(hi_src.reshape(m, g), axis=1)
        return View(steps.astype(np.float64), mean, lo, hi, self.last)


@dataclass
class RunTrace:
    """Everything the panes know about one run."""

    series: dict[str, Series] = field(default_factory=dict)
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    status: Status = Status.RUNNING
    diverged_at: int | None = None
    records: int = 0            # records received (the current step count)
    version: int = 0
    lr_changes: list = field(default_factory=list)    # (step, live ε scale), as in summary


class Trace:
    """Per run: bounded series, latest snapshots, status. Thread-safe: one writer, many readers."""

    def __init__(self, n_runs: int = 0, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._runs: list[RunTrace] = [RunTrace() for _ in range(n_runs)]
        self._outcomes: dict[int, Outcome] = {}      # trial -> its outcome
        self._arrived: list[Outcome] = []            # the same, in the order they came
        self.outcomes_version = 0
        self.version = 0

    # -- writing (worker thread) -------------------------------------------------------------
    def _run(self, i: int) -> RunTrace:
        while len(self._runs) <= i:
            self._runs.append(RunTrace())
        return self._runs[i]

    def ingest(self, chunk: Chunk | Outcome) -> None:
        """Fold one chunk into the history of its run, or keep a trial's outcome."""
        if isinstance(chunk, Outcome):
            with self._lock:
                self._outcomes[chunk.trial] = chunk
                self._arrived.append(chunk)
                self.outcomes_version += 1
                self.version += 1
            return
        with self._lock:
            rt = self._run(chunk.run)
            if chunk.start < rt.records and chunk.start == 0 and chunk.n:
                # The run started over (restart or seek back to 0): forget its history.
                rt.series.clear()
                rt.snapshots.clear()
            for name, values in chunk.series.items():
                s = rt.series.get(name)
                if s is None:
                    s = rt.series[name] = Series(self.capacity)
                s.append(chunk.start, values, chunk.every, chunk.bands.get(name), chunk.n,
                         chunk.first.get(name))
            for name, arr in chunk.snapshots.items():
                rt.snapshots[name] = np.array(arr, copy=True)
            note_lr_change(rt.lr_changes, chunk)
            rt.records = chunk.start + chunk.n
            rt.status = Status(chunk.status)
            if chunk.status == Status.DIVERGED:
                rt.diverged_at = chunk.diverged_at if chunk.diverged_at is not None else chunk.stop - 1
            self.version += 1
            rt.version = self.version

    def reset(self, n_runs: int | None = None) -> None:
        with self._lock:
            n = len(self._runs) if n_runs is None else n_runs
            self._runs = [RunTrace() for _ in range(n)]
            self._outcomes = {}
            self._arrived = []
            self.outcomes_version += 1
            self.version += 1

    # -- reading (UI thread) -----------------------------------------------------------------
    def outcomes(self) -> dict[int, Outcome]:
        """The trials' outcomes received so far (a copy: the engine keeps adding)."""
        with self._lock:
            return dict(self._outcomes)

    def outcome(self, trial: int) -> Outcome | None:
        with self._lock:
            return self._outcomes.get(trial)

    @property
    def n_outcomes(self) -> int:
        return len(self._outcomes)

    def outcomes_since(self, k: int) -> list[Outcome]:
        """The outcomes after the first k to arrive: a reader keeps its place, and 20,000
        trials are not copied on every frame."""
        with self._lock:
            return self._arrived[k:]

    @property
    def n_runs(self) -> int:
        return len(self._runs)

    def run_version(self, run: int) -> int:
        with self._lock:
            return self._runs[run].version if run < len(self._runs) else 0

    def view(self, run: int, name: str, max_points: int) -> View:
        with self._lock:
            if run >= len(self._runs):
                return EMPTY_VIEW
            s = self._runs[run].series.get(name)
            return s.view(max_points) if s is not None else EMPTY_VIEW

    def samples(self, run: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Exact (steps, values) of one series: see `Series.samples`."""
        with self._lock:
            s = self._runs[run].series.get(name) if run < len(self._runs) else None
            return s.samples() if s is not None else (np.zeros(0, np.int64), np.zeros(0))

    def last(self, run: int, name: str) -> float:
        return self._end(run, name, "last")

    def first(self, run: int, name: str) -> float:
        return self._end(run, name, "first_value")

    def _end(self, run: int, name: str, which: str) -> float:
        with self._lock:
            if run >= len(self._runs):
                return float("nan")
            s = self._runs[run].series.get(name)
            return getattr(s, which) if s is not None else float("nan")

    def names(self, run: int) -> list[str]:
        with self._lock:
            return list(self._runs[run].series) if run < len(self._runs) else []

    def snapshot(self, run: int, name: str) -> np.ndarray | None:
        with self._lock:
            if run >= len(self._runs):
                return None
            return self._runs[run].snapshots.get(name)

    def snapshot_names(self, run: int) -> list[str]:
        with self._lock:
            return list(self._runs[run].snapshots) if run < len(self._runs) else []

    def status(self, run: int) -> tuple[Status, int | None]:
        with self._lock:
            if run >= len(self._runs):
                return Status.RUNNING, None
            rt = self._runs[run]
            return rt.status, rt.diverged_at

    def lr_changes(self, run: int) -> list[tuple[int, float]]:
        with self._lock:
            return list(self._runs[run].lr_changes) if run < len(self._runs) else []

    def records(self, run: int) -> int:
        with self._lock:
            return self._runs[run].records if run < len(self._runs) else 0

    def layers(self, run: int, series: str) -> list[int]:
        """Layer indices i for which `layer.i.<series>` exists (series or snapshot), sorted."""
        out = set()
        with self._lock:
            if run >= len(self._runs):
                return []
            rt = self._runs[run]
            for name in list(rt.series) + list(rt.snapshots):
                parts = name.split(".")
                if len(parts) == 3 and parts[0] == "layer" and parts[2] == series and parts[1].isdigit():
                    out.add(int(parts[1]))
        return sorted(out)


def status_text(status: Status, diverged_at: int | None) -> str:
    """How a run's status reads to a user: `diverged at step 13`."""
    if status == Status.DIVERGED:
        return f"diverged at step {diverged_at}" if diverged_at is not None else "diverged"
    return status.value
