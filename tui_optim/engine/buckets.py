"""Buckets of records in one pass: what a recording at reduced resolution keeps of each bucket
(tui_optim/reduce.py), at the cost of reading each record once (numpy's reductions read them
three times, and were most of what recording a long run cost)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit_options import KERNEL


@njit(**KERNEL)
def bucket_bands(v, every, last, bands):
    """For bucket b = records b·every .. b·every + every − 1 of v (the last one may be short):
    last[b] = its last record, bands[:, b] = (min, max, sum) of its records, min and max
    skipping NaN as numpy's fmin and fmax do (NaN only when all are NaN). Four lanes of each,
    so the loop is not one long chain of dependent adds (the sum is drawn as a bucket's mean,
    its rounding is of no concern).

    v: (n,) float64; last: (⌈n / every⌉,); bands: (3, ⌈n / every⌉)."""
    n = v.shape[0]
    inf = np.inf
    for b in range(last.shape[0]):
        i0 = b * every
        i1 = min(i0 + every, n)
        lo0 = lo1 = lo2 = lo3 = inf
        hi0 = hi1 = hi2 = hi3 = -inf
        s0 = s1 = s2 = s3 = 0.0
        i = i0
        while i + 4 <= i1:
            x0, x1, x2, x3 = v[i], v[i + 1], v[i + 2], v[i + 3]
            lo0 = x0 if x0 < lo0 else lo0
            lo1 = x1 if x1 < lo1 else lo1
            lo2 = x2 if x2 < lo2 else lo2
            lo3 = x3 if x3 < lo3 else lo3
            hi0 = x0 if x0 > hi0 else hi0
            hi1 = x1 if x1 > hi1 else hi1
            hi2 = x2 if x2 > hi2 else hi2
            hi3 = x3 if x3 > hi3 else hi3
            s0 += x0
            s1 += x1
            s2 += x2
            s3 += x3
            i += 4
        while i < i1:
            x0 = v[i]
            lo0 = x0 if x0 < lo0 else lo0
            hi0 = x0 if x0 > hi0 else hi0
            s0 += x0
            i += 1
        lo = min(min(lo0, lo1), min(lo2, lo3))
        hi = max(max(hi0, hi1), max(hi2, hi3))
        if lo > hi:         # no record that is not NaN (inf and −inf compare as themselves)
            lo = hi = np.nan
        last[b] = v[i1 - 1]
        bands[0, b] = lo
        bands[1, b] = hi
        bands[2, b] = (s0 + s1) + (s2 + s3)
