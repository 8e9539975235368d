"""Reduced resolution: a long run recorded as buckets of K records, each kept as its last
record (exact), its min, max and sum, so a replay draws the run as the live trace did (the
trace's own buckets keep the same four numbers) and a spike survives in its bucket's max.

Buckets are aligned to the run's own record numbers (bucket b holds records bK .. bK + K - 1),
whatever the chunks the runner happened to send: a run's reduced chunks start at multiples of
K and hold whole buckets, but for the run's last bucket, cut short at its end.
"""

from __future__ import annotations

import time

import numpy as np

from tui_optim.chunk import Chunk, Status

# A recording keeps every record while each of its runs has at most FULL_UP_TO steps; a longer
# one is recorded at about TARGET_BUCKETS buckets per run (`every_for`), and never fewer than
# MIN_EVERY records a bucket (a bucket is four numbers: in buckets of 4 nothing is saved):
# 10^8 SGD steps in about 110 MB instead of 6 GB, and every screen of the replay still holds
# a spike.
FULL_UP_TO = 1_000_000
TARGET_BUCKETS = 1 << 19
MIN_EVERY = 64


def every_for(steps: int) -> int:
    """The default records per bucket of a run of `steps` steps: 1 up to FULL_UP_TO, else the
    power of two (at least MIN_EVERY) giving at most TARGET_BUCKETS buckets (a power of two:
    the trace's buckets double in width, so they stay whole multiples of the recording's)."""
    if steps <= FULL_UP_TO:
        return 1
    every = MIN_EVERY
    while steps > every * TARGET_BUCKETS:
        every *= 2
    return every


class Reducer:
    """One run's chunks in, its reduced chunks out, in memory that stays small. Two things
    wait: the records of a bucket not yet whole (fewer than K per series), and whole buckets
    not yet sent, up to FRAME_BUCKETS or FRAME_SECONDS old (what a crash may lose): a
    recording flushes a frame per chunk it writes, and at reduced resolution a runner's chunk
    is a few hundred buckets, so flushing each was most of what recording cost. Sent at once: the run's first buckets (with the snapshots of its
    start), the buckets before a change of the live ε (so the change falls on its bucket), and
    everything when the run ends. The buckets are folded by engine/buckets.py, every series of
    a chunk in one call."""

    FRAME_BUCKETS = 8192
    FRAME_SECONDS = 1.0

    def __init__(self, every: int, frame_buckets: int | None = None) -> None:
        if every < 1:
            raise ValueError("every must be >= 1")
        self.every = every
        self.frame_buckets = frame_buckets or self.FRAME_BUCKETS
        self._names: list[str] = []
        self._held = np.empty((0, every))           # per series, the bucket not yet whole
        self._hn = 0                                # ... its records so far
        self._last = np.empty((0, 0))               # per series, the buckets not yet sent
        self._bands = np.empty((0, 3, 0))
        self._nb = 0                                # ... how many
        self._records = 0                           # ... and their records
        self._start = 0                             # the first record not yet sent
        self._scale = 1.0                           # the live ε scale of the buckets pending
        self._snapshots: dict[str, np.ndarray] = {}
        self._sent = False
        self._since = 0.0                           # when the oldest pending bucket was made
        self._first: dict[str, float] | None = None   # record 0, until sent (then {})

    def fold(self, chunk: Chunk) -> list[Chunk]:
        """The reduced chunks `chunk` completes (often none)."""
        from tui_optim.engine.buckets import fold_buckets   # numba: only when reducing

        at = self._start + self._records + self._hn
        if chunk.start != at:
            raise ValueError(f"run {chunk.run}: a chunk starting at {chunk.start} after records "
                             f"up to {at}")
        if not self._names and chunk.series:
            self._names = list(chunk.series)
            S = len(self._names)
            self._held = np.empty((S, self.every))
            self._last = np.empty((S, self.frame_buckets))
            self._bands = np.empty((S, 3, self.frame_buckets))
        out = []
        if chunk.lr_scale != self._scale and self._nb:
            out.append(self._send(chunk.run, Status.RUNNING, None))
        self._scale = chunk.lr_scale
        self._snapshots = {**self._snapshots, **chunk.snapshots}     # the latest of each
        if self._first is None and chunk.start == 0 and chunk.n:
            self._first = {name: float(v[0]) for name, v in chunk.series.items()}
        ended = chunk.status != Status.RUNNING
        if self._names:
            empty = np.empty(0)
            vs = tuple(np.ascontiguousarray(chunk.series.get(name, empty), dtype=np.float64)
                       for name in self._names)
            pos, m = 0, chunk.n
            while pos < m or (ended and self._hn):
                left = self._hn + m - pos
                pos, self._hn, self._nb = fold_buckets(vs, pos, self.every, self._held,
                                                       self._hn, ended, self._last,
                                                       self._bands, self._nb)
                self._records += left - (self._hn + m - pos)
                if self._nb < self.frame_buckets:
                    break
                if pos < m or (ended and self._hn):        # full, and more to fold
                    out.append(self._send(chunk.run, Status.RUNNING, None))
        if self._nb and not self._since:
            self._since = time.monotonic()
        if (ended or not self._sent or self._nb >= self.frame_buckets
                or (self._nb and time.monotonic() - self._since >= self.FRAME_SECONDS)):
            out.append(self._send(chunk.run, chunk.status, chunk.diverged_at))
        return out

    def _send(self, run: int, status: Status, diverged_at: int | None) -> Chunk:
        nb = self._nb
        series = {name: self._last[i, :nb].copy() for i, name in enumerate(self._names)}
        bands = {name: self._bands[i, :, :nb].copy() for i, name in enumerate(self._names)}
        sent = Chunk(run, self._start, self._records, series, self._snapshots, status,
                     diverged_at, self._scale, self.every, bands, self._first or {})
        self._start += self._records
        self._nb = self._records = 0
        self._snapshots, self._sent, self._since = {}, True, 0.0
        if self._first is not None:
            self._first = {}
        return sent
