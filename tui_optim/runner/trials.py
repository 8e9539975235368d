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


from tui_optim.chunk import Outcome, Status
from tui_optim.runner.build import make_stepper
from tui_optim.summary import KeptSeries

# Records per kernel call: bounded memory however many steps a trial has.
TRIAL_CHUNK = 1 << 15


def _metrics(kept: dict[str, KeptSeries], tol: float) -> dict[str, float]:
    """Outcome.metrics from a trial's running statistics (the finite records' least and
    largest): what a watched run's claims would measure."""
    loss = kept.get("loss")
    first = loss.below(tol)[0] if loss is not None else None
    out = {"steps_to_tol": math.inf if first is None else float(first)}
    for name, k in kept.items():
        out[f"first.{name}"], out[f"final.{name}"] = k.first, k.final
        if k.fmin <= k.fmax:            # some record was finite
            out[f"min.{name}"], out[f"max.{name}"] = k.fmin, k.fmax
    return out


def run_trial(problem: Any, spec: Any, trial: int) -> Outcome:
    """Run `spec` (a RunSpec) on `problem` to its end; its Outcome as trial number `trial`."""
    stepper = make_stepper(problem, spec)
    kept: dict[str, KeptSeries] = {}    # no records kept: statistics only
    tols = {"loss": (spec.tol,)}
    diverged_at = None
    seconds = 0.0
    while stepper.steps_done < spec.steps and diverged_at is None:
        start = stepper.steps_done
        t0 = time.perf_counter()
        series, diverged_at = stepper.advance(min(TRIAL_CHUNK, spec.steps - start))
        seconds += time.perf_counter() - t0
        if stepper.steps_done == start:
            break
        for name, values in series.items():
            if name not in kept:
                kept[name] = KeptSeries(0, 0, tols.get(name, ()))
            kept[name].add(values)
    status = Status.DIVERGED if diverged_at is not None else Status.DONE
    return Outcome(trial, stepper.steps_done, status, _metrics(kept, spec.tol), diverged_at,
                   seconds)


def run_batch(problem: Any, batch: Sequence[tuple[int, Any]]) -> list[Outcome]:
    """The outcomes of (trial number, RunSpec) pairs: one executor task."""
    return [run_trial(problem, spec, i) for i, spec in batch]
