"""Axis ticks a student reads at a glance: round values (1-2-5 steps) on linear axes, whole
decades on log axes at a round stride (the decades skipped are returned as minor positions).

Pure functions of the range, robust to NaN, infinities, zero width and extreme magnitudes;
the line plots take their ticks from here.
"""

from __future__ import annotations

import math

STEPS = (1.0, 2.0, 5.0, 10.0)
DECADE_STRIDES = (1, 2, 5, 10, 20, 50, 100, 200)


def _steps_near(log_span: float, max_ticks: int) -> list[float]:
    """1-2-5 steps from about the span (one tick) down to span / (4·max_ticks), coarsest
    first; the span is given as its log10, so a range as wide as the floats has one too."""
    e = min(308, math.ceil(log_span))
    out = [10.0 ** (e - k) * m for k in range(0, 4 + int(math.log10(max(4 * max_ticks, 10))))
           for m in (1.0, 0.5, 0.2)]
    return [st for st in out if st > 0 and math.isfinite(st)]


def _log_span(lo: float, hi: float) -> float:
    return math.log10(hi / 2 - lo / 2) + math.log10(2.0)


def _count(lo: float, hi: float, step: float) -> int:
    return int(math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1)


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Round tick values inside [lo, hi]: the multiples of the finest 1-2-5 step that gives
    2 to `max_ticks` of them; where no round step does (-1..1 in 2), the coarsest that gives
    at least 2. A zero-width range gets its one value, a NaN or infinite bound none."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    max_ticks = max(2, max_ticks)
    steps = _steps_near(_log_span(lo, hi), max_ticks)
    fits = [st for st in steps if 2 <= _count(lo, hi, st) <= max_ticks]
    step = fits[-1] if fits else next((st for st in steps if _count(lo, hi, st) >= 2), steps[-1])
    first = math.ceil(lo / step - 1e-9)
    ticks = [(first + k) * step for k in range(max(1, _count(lo, hi, step)))]
    ticks = [t for t in ticks if lo - 1e-9 * abs(step) <= t <= hi + 1e-9 * abs(step)] or [lo, hi]
    # (first + k) * step carries float noise (0.30000000000000004): round to the step's digits
    k = math.floor(math.log10(step))
    if -300 < k < 0:
        ticks = [round(t, -k + 1) for t in ticks]
    return [0.0 if t == 0 else t for t in ticks]


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels in one style, with just the digits that tell neighbouring ticks apart:
    0 / 20 / 40, 0.1 / 0.2, 2e-5 / 4e-5, 1.23456e5 / 1.23457e5."""
    if not ticks:
        return []
    diffs = [abs(b - a) for a, b in zip(ticks, ticks[1:]) if b != a]
    step = min(diffs) if diffs else (abs(ticks[0]) or 1.0)
    k = math.floor(math.log10(step)) if step > 0 and math.isfinite(step) else 0
    big = max(abs(t) for t in ticks)
    if big < 1e5 and (big == 0 or step >= 1e-3):
        decimals = max(0, -k)
        if decimals and all(abs(t * 10 ** (decimals - 1) - round(t * 10 ** (decimals - 1))) < 1e-6
                            for t in ticks):
            decimals -= 1
        return [f"{t:.{decimals}f}" if t != 0 else "0" for t in ticks]
    top = math.floor(math.log10(big)) if big > 0 else 0
    digits = max(1, top - k + 1)
    out = []
    for t in ticks:
        if t == 0:
            out.append("0")
            continue
        mant, exp = f"{t:.{digits - 1}e}".split("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        out.append(f"{mant}e{int(exp)}")
    return out


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[list[float], list[str], list[float]]:
    """Ticks for a log axis drawn on log10 values in [lo, hi]: (major positions, their labels
    `1e-3`, minor positions). Majors are whole decades at a round stride; when the stride skips
    decades, the skipped ones are minor ticks. Less than a decade: 1-2-5 values inside it."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [], [], []
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo
    stride = next((k for k in DECADE_STRIDES if span / k <= max(1, max_ticks - 1)), 500)
    first_decade, last_decade = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    majors = [float(d) for d in range(first_decade, last_decade + 1) if d % stride == 0]
    while len(majors) < 2 and stride > 1 and last_decade > first_decade:
        # the stride skipped all but one of several decades: the next rounder stride down
        stride = max(k for k in DECADE_STRIDES if k < stride)
        majors = [float(d) for d in range(first_decade, last_decade + 1) if d % stride == 0]
    if len(majors) >= 2:
        minors = [float(d) for d in range(first_decade, last_decade + 1) if d % stride != 0]
        return majors, [f"1e{int(p)}" for p in majors], minors if stride <= 10 else []
    if -307 <= lo and hi <= 307:
        # within about a decade: round values on the linear scale, placed at their logs
        vals = [v for v in nice_ticks(10 ** lo, 10 ** hi, max(2, max_ticks)) if v > 0]
        if len(vals) >= 2:
            return [math.log10(v) for v in vals], tick_labels(vals), []
    return majors, [f"1e{int(p)}" for p in majors], []
