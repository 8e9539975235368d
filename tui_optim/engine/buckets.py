"""Buckets of records in one pass: what a recording at reduced resolution keeps of each bucket
(tui_optim/reduce.py), reading each record once, every series of a chunk in one call (numpy's
reductions read them three times, and a call per series and piece was as costly again)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit_options import KERNEL


@njit(inline="always")
def _keep(x, lo, hi):
    """lo, hi after record x: NaN never wins (numpy's fmin and fmax)."""
    return (x if x < lo else lo), (x if x > hi else hi)


@njit(inline="always")
def _bucket(held, s, hn, v, i0, i1, last, bands, b):
    """Bucket b of series s: its held records held[s, :hn], then v[i0:i1]. Writes its last
    record and (min, max, sum), min and max skipping NaN (NaN only when all are); four lanes
    of each over v, so the loop is not one chain of dependent adds (the sum is drawn as the
    bucket's mean: its rounding is of no concern)."""
    lo0 = lo1 = lo2 = lo3 = np.inf
    hi0 = hi1 = hi2 = hi3 = -np.inf
    s0 = s1 = s2 = s3 = 0.0
    for j in range(hn):
        x = held[s, j]
        lo0, hi0 = _keep(x, lo0, hi0)
        s0 += x
    i = i0
    while i + 4 <= i1:
        x0, x1, x2, x3 = v[i], v[i + 1], v[i + 2], v[i + 3]
        lo0, hi0 = _keep(x0, lo0, hi0)
        lo1, hi1 = _keep(x1, lo1, hi1)
        lo2, hi2 = _keep(x2, lo2, hi2)
        lo3, hi3 = _keep(x3, lo3, hi3)
        s0 += x0
        s1 += x1
        s2 += x2
        s3 += x3
        i += 4
    while i < i1:
        x0 = v[i]
        lo0, hi0 = _keep(x0, lo0, hi0)
        s0 += x0
        i += 1
    lo = min(min(lo0, lo1), min(lo2, lo3))
    hi = max(max(hi0, hi1), max(hi2, hi3))
    if lo > hi:                 # nothing but NaN (inf and −inf compare as themselves)
        lo = hi = np.nan
    last[s, b] = v[i1 - 1] if i1 > i0 else held[s, hn - 1]
    bands[s, 0, b] = lo
    bands[s, 1, b] = hi
    bands[s, 2, b] = (s0 + s1) + (s2 + s3)


@njit(**KERNEL)
def fold_buckets(vs, pos, every, held, hn, ended, last, bands, nb):
    """Fold the records vs[s][pos:] of every series s into buckets of `every`, after the hn
    records already held per series (held[s, :hn]), writing buckets from nb on into last[s, b]
    and bands[s, :, b] until those are full. What does not make a whole bucket is held (when
    `ended`, it is the last, short bucket). Returns (pos, hn, nb): where it stopped in vs, the
    records now held, the buckets now written.

    vs: a tuple of S float64 arrays of one length m; held: (S, every); last: (S, B);
    bands: (S, 3, B)."""
    S = len(vs)
    m = vs[0].shape[0]
    room = last.shape[1] - nb
    have = hn + (m - pos)
    count = min(have // every, room)                    # whole buckets
    short = ended and count < room and have - count * every > 0
    stop = pos + count * every - hn if count else pos   # where the whole buckets end in v
    if short:
        stop = m
    for s in range(S):
        v = vs[s]
        q, h = pos, hn
        for b in range(nb, nb + count + (1 if short else 0)):
            i1 = min(q + every - h, m)
            _bucket(held, s, h, v, q, i1, last, bands, b)
            q, h = i1, 0
        if not short and count < room:                  # the rest is a bucket not yet whole
            for j in range(m - stop):
                held[s, h + j] = v[stop + j]
    if short:
        return m, 0, nb + count + 1
    if count < room:
        return m, (hn if count == 0 else 0) + (m - stop), nb + count
    return stop, 0, nb + count
