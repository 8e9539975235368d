"""Axis ticks a student reads at a glance: round values (1-2-5 steps) on linear axes, whole
decades on log axes (labelled at a round stride, the others as unlabelled minor ticks).

Pure functions of the range, robust to NaN, infinities, zero width and extreme magnitudes;
every axis in the dashboard takes its ticks from here.
"""

from __future__ import annotations

import math

STEPS = (1.0, 2.0, 5.0, 10.0)
DECADE_STRIDES = (1, 2, 5, 10, 20, 50, 100, 200)


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest 1-2-5 step that puts at most `max_ticks` ticks on `span` (span > 0)."""
    raw = span / max(1, max_ticks - 1)
    if not (raw > 0 and math.isfinite(raw)):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    if mag == 0.0 or not math.isfinite(mag):      # below the smallest normal / above the largest
        return raw
    return next((m * mag for m in STEPS if m * mag >= raw * (1 - 1e-9)), 10 * mag)


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Round tick values inside [lo, hi]: multiples of a 1-2-5 step, at least two where the
    range allows (a zero-width range gets its one value; NaN or infinite bounds get none)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    if not math.isfinite(hi - lo):               # e.g. -1e308 .. 1e308: halve to stay finite
        return [v * 2 for v in nice_ticks(lo / 2, hi / 2, max_ticks)]
    step = nice_step(hi - lo, max(2, max_ticks))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    if last - first > 10 * max_ticks:            # the step underflowed against the magnitude
        return [lo, hi]
    ticks = [k * step for k in range(int(first), int(last) + 1)]
    # k * step carries float noise (0.30000000000000004): round to the step's own digits
    digits = max(0, -math.floor(math.log10(step)) + 1) if step < 1 else 0
    ticks = [round(t, digits) if digits < 300 else t for t in ticks]
    return [0.0 if t == 0 else t for t in ticks] or [lo, hi]


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels with one shared style, as short as the ticks allow: 0, 0.5, 1 / 2e-05, 4e-05."""
    if not ticks:
        return []
    finite = [abs(t) for t in ticks if t != 0 and math.isfinite(t)]
    big = max(finite, default=1.0)
    small = min(finite, default=1.0)
    if big >= 1e5 or small < 1e-3:
        out = []
        for t in ticks:
            if t == 0:
                out.append("0")
                continue
            s = f"{t:.3g}" if 1e-3 <= abs(t) < 1e5 else f"{t:.2g}"
            if "e" in s:
                mant, exp = s.split("e")
                s = f"{mant}e{int(exp)}"
            out.append(s)
        return out
    return [f"{t:.6g}" for t in ticks]


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
    if len(majors) >= 2:
        minors = [float(d) for d in range(first_decade, last_decade + 1) if d % stride != 0]
        return majors, [f"1e{int(p)}" for p in majors], minors if stride <= 10 else []
    if -307 <= lo and hi <= 307:
        # within about a decade: round values on the linear scale, placed at their logs
        vals = [v for v in nice_ticks(10 ** lo, 10 ** hi, max(2, max_ticks)) if v > 0]
        if len(vals) >= 2:
            return [math.log10(v) for v in vals], tick_labels(vals), []
    return majors, [f"1e{int(p)}" for p in majors], []
