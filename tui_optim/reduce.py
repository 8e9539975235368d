"""Reduced resolution: a long run recorded as buckets of K records, each kept as its last
record (exact), its min, max and sum, so a replay draws the run as the live trace did (the
trace's own buckets keep the same four numbers) and a spike survives in its bucket's max.

Buckets are aligned to the run's own record numbers (bucket b holds records bK .. bK + K - 1),
whatever the chunks the runner happened to send: a run's reduced chunks start at multiples of
K and hold whole buckets, but for the run's last bucket, cut short at its end.
"""

from __future__ import annotations

import numpy as np

from tui_optim.chunk import Chunk, Status

# A recording keeps every record while each of its runs has at most FULL_UP_TO steps; a longer
# one is recorded at about TARGET_BUCKETS buckets per run (`every_for`): 10^8 SGD steps in a
# few tens of MB instead of 6 GB, and every screen of the replay still holds a spike.
FULL_UP_TO = 1_000_000
TARGET_BUCKETS = 1 << 19


def every_for(steps: int) -> int:
    """The default records per bucket of a run of `steps` steps: 1 up to FULL_UP_TO, else the
    power of two giving at most TARGET_BUCKETS buckets (a power of two: the trace's buckets
    double in width, so they stay whole multiples of the recording's)."""
    if steps <= FULL_UP_TO:
        return 1
    every = 1
    while steps > every * TARGET_BUCKETS:
        every *= 2
    return every


def bucket_bands(values: np.ndarray, every: int) -> tuple[np.ndarray, np.ndarray]:
    """(last, bands) of records in buckets of `every` (the last bucket may be short):
    bands[:, b] = (min, max, sum) of bucket b; NaNs are skipped by min and max, as the trace
    skips them (engine/buckets.py, compiled: one pass over the records)."""
    from tui_optim.engine.buckets import bucket_bands as kernel    # numba: only when reducing

    v = np.ascontiguousarray(values, dtype=np.float64)
    b = -(-len(v) // every)
    last, bands = np.empty(b), np.empty((3, b))
    kernel(v, every, last, bands)
    return last, bands


class Reducer:
    """One run's chunks in, its reduced chunks out, in memory that stays small. Two things
    wait: the records of a bucket not yet whole (fewer than K per series), and whole buckets
    not yet sent, up to FRAME_BUCKETS: a recording flushes a frame per chunk it writes, and
    at reduced resolution a runner's chunk is a few hundred buckets, so flushing each was most
    of what recording cost. Sent at once: the run's first buckets (with the snapshots of its
    start), the buckets before a change of the live ε (so the change falls on its bucket), and
    everything when the run ends."""

    FRAME_BUCKETS = 8192

    def __init__(self, every: int) -> None:
        if every < 1:
            raise ValueError("every must be >= 1")
        self.every = every
        self._held: dict[str, np.ndarray] = {}      # the records of the bucket not yet whole
        self._pending: list[tuple[dict, dict]] = []  # (last, bands) of buckets not yet sent
        self._start = 0          # the first record not yet sent
        self._done = 0           # records in pending buckets
        self._scale = 1.0        # the live ε scale of the pending buckets
        self._snapshots: dict[str, np.ndarray] = {}
        self._sent = False
        self._first: dict[str, float] | None = None   # record 0, until sent (then {})

    def fold(self, chunk: Chunk) -> list[Chunk]:
        """The reduced chunks `chunk` completes (often none)."""
        k = self.every
        held = self._held_n()
        if chunk.start != self._start + self._done + held:
            raise ValueError(f"run {chunk.run}: a chunk starting at {chunk.start} after records "
                             f"up to {self._start + self._done + held}")
        out = []
        if chunk.lr_scale != self._scale and self._done:
            out.append(self._send(chunk.run, Status.RUNNING, None))
        self._scale = chunk.lr_scale
        self._snapshots = {**self._snapshots, **chunk.snapshots}     # the latest of each
        if self._first is None and chunk.start == 0 and chunk.n:
            self._first = {name: float(v[0]) for name, v in chunk.series.items()}
        ended = chunk.status != Status.RUNNING
        series = chunk.series or {name: np.empty(0) for name in self._held}
        last, bands, held_after, done = {}, {}, {}, 0
        for name, v in series.items():
            pieces, held_after[name] = self._pieces(self._held.get(name, v[:0]), v, ended)
            if pieces:
                parts = [bucket_bands(p, k) for p in pieces]
                last[name] = np.concatenate([p[0] for p in parts])
                bands[name] = np.concatenate([p[1] for p in parts], axis=1)
            done = sum(len(p) for p in pieces)         # the same for every series
        if done:
            self._pending.append((last, bands))
            self._done += done
        self._held = {name: h for name, h in held_after.items() if len(h)}
        if ended or not self._sent or self._done >= self.FRAME_BUCKETS * k:
            out.append(self._send(chunk.run, chunk.status, chunk.diverged_at))
        return out

    def _pieces(self, held: np.ndarray, v: np.ndarray, ended: bool
                ) -> tuple[list[np.ndarray], np.ndarray]:
        """(runs of records that are whole buckets, in order (and when the run has ended, its
        last short bucket), the records held after): the held records completed from v, then
        v's own whole buckets, read in place (copying a chunk was a third of the cost)."""
        k = self.every
        need = (k - len(held)) % k
        if len(held) + len(v) < k or (len(held) and len(v) < need):
            whole = np.concatenate([held, v])
            return ([whole] if ended and len(whole) else []), (v[:0] if ended else whole)
        pieces = [np.concatenate([held, v[:need]])] if len(held) else []
        body = need + (len(v) - need) // k * k
        if body > need:
            pieces.append(v[need:body])
        rest = v[body:]
        if ended and len(rest):
            pieces.append(rest)
        return pieces, (v[:0] if ended else rest.copy())

    def _send(self, run: int, status: Status, diverged_at: int | None) -> Chunk:
        parts = self._pending
        names = list(parts[0][0]) if parts else list(self._held)
        series = {name: np.concatenate([p[0][name] for p in parts]) if parts else np.empty(0)
                  for name in names}
        bands = {name: np.concatenate([p[1][name] for p in parts], axis=1) if parts
                 else np.empty((3, 0)) for name in names}
        sent = Chunk(run, self._start, self._done, series, self._snapshots, status, diverged_at,
                     self._scale, self.every, bands, self._first or {})
        self._start += self._done
        self._done, self._pending, self._snapshots, self._sent = 0, [], {}, True
        if self._first is not None:
            self._first = {}
        return sent

    def _held_n(self) -> int:
        return len(next(iter(self._held.values()))) if self._held else 0
