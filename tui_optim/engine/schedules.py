"""Learning-rate schedules ε(t), t = number of updates done, chosen by an integer code.

Parameters live in a float64 array `p` = [warmup, k0, k1] (meaning per schedule below), built by
`schedule_params` from a scenario's `schedule = { name = ..., ... }` table.

    constant      ε
    step          ε · factor^⌊t/every⌋                       k0 = every, k1 = factor (0.5)
    exponential   ε · rate^t                                 k0 = rate
    inverse_time  ε / (1 + k t)                              k0 = k
    cosine        min + ½(ε − min)(1 + cos(π min(t, P)/P))   k0 = min_lr (0), k1 = period P (run steps)
    cyclic        cosine over t mod P, P = ⌈steps/cycles⌉   k0 = min_lr (0), k1 = P
    linear        ε + (final − ε)·t/until, then final        k0 = final_lr, k1 = until

Warm-up (any schedule): for t < warmup the rate is multiplied by t/warmup, so it grows linearly
from 0 (the first update of a warmed-up run does not move; the usual convention).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numba import njit

from . import catalog
from .jit_options import PER_STEP
from .scalar import ipow

CODES = catalog.codes(catalog.SCHEDULES)
BY_NAME = catalog.by_name(catalog.SCHEDULES)
CONSTANT, STEP, EXPONENTIAL, INVERSE_TIME, COSINE, CYCLIC, LINEAR = (
    CODES[n] for n in ("constant", "step", "exponential", "inverse_time", "cosine", "cyclic",
                       "linear"))


def schedule_params(schedule: Mapping | None, steps: int) -> tuple[int, np.ndarray]:
    """(code, params) for a schedule table (None or {} is constant), its keys completed from
    the catalog (engine/catalog.py)."""
    s = dict(schedule or {})
    name = s.pop("name", None) or "constant"
    if name not in BY_NAME:
        raise ValueError(f"unknown schedule {name!r}")
    v = catalog.complete(BY_NAME[name], s, steps, what=f"schedule {name!r}")
    code = CODES[name]
    p = np.zeros(3)
    p[0] = float(v["warmup"])
    if code == STEP:
        p[1], p[2] = float(v["every"]), float(v["factor"])
    elif code in (EXPONENTIAL, INVERSE_TIME):
        p[1] = float(v["rate" if code == EXPONENTIAL else "k"])
    elif code == COSINE:
        p[1], p[2] = float(v["min_lr"]), float(v["period"])
    elif code == CYCLIC:
        p[1] = float(v["min_lr"])
        p[2] = float(max(1, math.ceil(steps / int(v["cycles"]))))
    elif code == LINEAR:
        p[1], p[2] = float(v["final_lr"]), float(v["until"])
    return code, p


@njit(**PER_STEP)
def lr_at(code, p, lr, t):
    """ε(t) for base rate lr after t updates."""
    if code == CONSTANT:
        e = lr
    elif code == STEP:
        e = lr * np.power(p[2], np.floor(t / max(p[1], 1.0)))
    elif code == EXPONENTIAL:
        e = lr * ipow(p[1], t)
    elif code == INVERSE_TIME:
        e = lr / (1.0 + p[1] * t)
    elif code == COSINE:
        P = max(p[2], 1.0)
        tt = min(float(t), P)
        e = p[1] + 0.5 * (lr - p[1]) * (1.0 + np.cos(np.pi * tt / P))
    elif code == CYCLIC:
        P = max(p[2], 1.0)
        tt = t - P * np.floor(t / P)
        e = p[1] + 0.5 * (lr - p[1]) * (1.0 + np.cos(np.pi * tt / P))
    elif code == LINEAR:
        if t >= p[2]:
            e = p[1]
        else:
            e = lr + (p[1] - lr) * t / p[2]
    else:
        e = np.nan
    if t < p[0]:
        e *= t / p[0]
    return e
