"""The chunk: the one thing that crosses from the runner to every consumer, live or replayed.

A chunk carries `n` consecutive records of one run. Record k is the state at parameters θ_k,
*before* update k+1: `loss[k] = f(θ_k)`, `grad_norm[k] = ‖∇f(θ_k)‖`, `x.i[k] = θ_k[i]`,
`lr[k]` the rate update k+1 uses. A run of N steps therefore yields N records, 0..N-1.
Series names are dotted and stable (`loss`, `layer.3.grad_norm`); a pane is a choice of names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np


def buckets(n: int, every: int) -> int:
    """Buckets of `every` that n records fill (the last may be short)."""
    return -(-n // every)


class Status(str, Enum):
    RUNNING = "running"
    DONE = "done"
    DIVERGED = "diverged"
    STOPPED = "stopped"


@dataclass(frozen=True, eq=False)
class Chunk:
    run: int
    start: int
    n: int
    series: dict[str, np.ndarray]
    snapshots: dict[str, np.ndarray] = field(default_factory=dict)
    status: Status = Status.RUNNING
    # For DIVERGED: the index of the first non-finite record (it is the chunk's last record).
    diverged_at: int | None = None
    # The live ε scale (`[`/`]` in the dashboard) these records were made with; 1: the
    # scenario's own ε. Recorded, so a replay and its report say the run was altered.
    lr_scale: float = 1.0
    # Records per value. 1: every record. K > 1, a recording at reduced resolution
    # (reduce.py): the records fall in buckets of K (start + bK .. start + bK + K - 1, the last
    # one cut at the chunk's end); series[name][b] is the record at the last step of bucket b,
    # exact, and bands[name][:, b] the bucket's (min, max, sum), so spikes survive.
    every: int = 1
    bands: dict[str, np.ndarray] = field(default_factory=dict)
    # At reduced resolution, on a run's first chunk: record 0 of each series, which no bucket
    # keeps (panes draw the initialization, "at the first step").
    first: dict[str, float] = field(default_factory=dict)

    @property
    def stop(self) -> int:
        """One past the last record index in this chunk."""
        return self.start + self.n

    @property
    def buckets(self) -> int:
        """Values per series: n, or the n records' buckets of `every`."""
        return buckets(self.n, self.every)

    def __post_init__(self) -> None:
        for name, values in self.series.items():
            if len(values) != self.buckets:
                raise ValueError(f"series {name!r} has {len(values)} values, chunk has n={self.n}"
                                 + (f" in buckets of {self.every}" if self.every > 1 else ""))


def note_lr_change(changes: list[tuple[int, float]], chunk: Chunk) -> None:
    """Append (first step, scale) when `chunk` was made at another live ε scale than the last
    one noted: how a consumer learns that a run was altered by hand, and from when."""
    now = changes[-1][1] if changes else 1.0
    if chunk.n and chunk.lr_scale != now:
        changes.append((chunk.start, chunk.lr_scale))


@dataclass(frozen=True, eq=False)
class Outcome:
    """What a trial (a run kept as its result only, `keep = "result"`) sends instead of chunks:
    one per trial, when it has ended. Sweeps of thousands of runs need their results, not
    every record, and a worker on another machine sends back a few numbers, not megabytes.

    `metrics`: `first.S`, `final.S`, and `min.S` and `max.S` (of the finite records) for every
    series S the run records, and `steps_to_tol`: the first step whose loss is at most the trial's `tol`
    (inf: not within its steps).
    """

    trial: int
    steps: int                      # records made (all of the planned steps unless it diverged)
    status: Status
    metrics: dict[str, float]
    diverged_at: int | None = None
    seconds: float = 0.0            # kernel time, for steps/s in reports


def grew(status: str, first_loss: float, final_loss: float) -> bool:
    """Diverged, or ended with a loss above (or NaN) where it started: how a sweep tells the
    unstable runs, since within a few hundred steps few of them overflow."""
    return status == Status.DIVERGED.value or not final_loss <= first_loss


def outcome_kind(o: Outcome) -> str:
    """What became of a trial, on its loss (a network's: the training loss): "stopped" before
    its end, "grew" (diverged, or ended above where it started, even if it got to its tol on
    the way), "reached" its tol, or "neither" within its steps."""
    if o.status not in (Status.DONE, Status.DIVERGED):
        return "stopped"
    name = "train_loss" if "final.train_loss" in o.metrics else "loss"
    if grew(o.status.value, o.metrics.get(f"first.{name}", math.nan),
            o.metrics.get(f"final.{name}", math.nan)):
        return "grew"
    return "reached" if math.isfinite(o.metrics.get("steps_to_tol", math.inf)) else "neither"
