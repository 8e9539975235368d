"""Trials: runs kept as their result only (`keep = "result"`), computed to the end in one go.

A trial is an ordinary run (the same stepper, the same bits as when it is watched), reduced as
it goes to a few numbers per series (`Outcome.metrics`), so its memory is one chunk however long
it runs. `run_batch` is what an executor sends to a worker: a picklable function of picklable
specs, returning picklable outcomes.
"""

from __future__ import annotations

import math
import time
from typing import Any, Sequence

import numpy as np

from tui_optim.chunk import Outcome, Status
from tui_optim.runner.build import make_stepper

# Records per kernel call: bounded memory however many steps a trial has.
TRIAL_CHUNK = 1 << 15


class _Reduction:
    """first, final, min and max (of the finite records) of every series, and the first step with
    loss ≤ tol, folded in chunk by chunk: what a watched run's claims would measure."""

    def __init__(self, tol: float) -> None:
        self.tol = tol
        self.first: dict[str, float] = {}
        self.final: dict[str, float] = {}
        self.min: dict[str, float] = {}
        self.max: dict[str, float] = {}
        self.steps_to = math.inf

    def add(self, start: int, series: dict[str, np.ndarray]) -> None:
        for name, values in series.items():
            if not len(values):
                continue
            self.first.setdefault(name, float(values[0]))
            self.final[name] = float(values[-1])
            finite = values[np.isfinite(values)]
            if finite.size:
                self.min[name] = min(self.min.get(name, math.inf), float(finite.min()))
                self.max[name] = max(self.max.get(name, -math.inf), float(finite.max()))
        loss = series.get("loss")
        if math.isinf(self.steps_to) and loss is not None:
            hits = np.flatnonzero(loss <= self.tol)
            if hits.size:
                self.steps_to = float(start + hits[0])

    def metrics(self) -> dict[str, float]:
        out = {"steps_to_tol": self.steps_to}
        for kind, values in (("first", self.first), ("final", self.final), ("min", self.min),
                             ("max", self.max)):
            out.update({f"{kind}.{name}": v for name, v in values.items()})
        return out


def run_trial(problem: Any, spec: Any, trial: int) -> Outcome:
    """Run `spec` (a RunSpec) on `problem` to its end; its Outcome as trial number `trial`."""
    stepper = make_stepper(problem, spec)
    reduction = _Reduction(spec.tol)
    diverged_at = None
    seconds = 0.0
    while stepper.steps_done < spec.steps and diverged_at is None:
        start = stepper.steps_done
        t0 = time.perf_counter()
        series, diverged_at = stepper.advance(min(TRIAL_CHUNK, spec.steps - start))
        seconds += time.perf_counter() - t0
        if stepper.steps_done == start:
            break
        reduction.add(start, series)
    status = Status.DIVERGED if diverged_at is not None else Status.DONE
    return Outcome(trial, stepper.steps_done, status, reduction.metrics(), diverged_at, seconds)


def run_batch(problem: Any, batch: Sequence[tuple[int, Any]]) -> list[Outcome]:
    """The outcomes of (trial number, RunSpec) pairs: one executor task."""
    return [run_trial(problem, spec, i) for i, spec in batch]
