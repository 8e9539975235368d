"""The files a run's numbers are written to: every series as CSV, the summary and claims as JSON.

Headless runs write them from the `Summary` (every record of a short run); the dashboard's `x` writes the same
formats from what its screen holds (`TracedRun`: every step of a short run, exact samples of a
long one). Both kinds of run answer the same questions: index, label, group, records,
planned_steps, status, diverged_at, steps_per_second, steps(), series(name), series_names(),
final(name).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tui_optim.chunk import Status
from tui_optim.engine.series import higher_is_better
from tui_optim.outputs import whole, write_text
from tui_optim.summary import NotRecorded
from tui_optim.trace import Trace


def status_text(run) -> str:
    if run.status == Status.DIVERGED.value and run.diverged_at is not None:
        text = f"diverged at step {run.diverged_at}"
    elif cut_off(run):
        text = f"cut off at {run.records:,} of {run.planned_steps:,}"
    else:
        text = run.status
    return text + "".join(f", ε × {scale:g} from step {step} (live)"
                          for step, scale in run.lr_changes)


def cut_off(run) -> bool:
    """A run that ended neither done nor diverged: stopped, or a recording that ends early."""
    return run.status not in (Status.DONE.value, Status.DIVERGED.value)


def summary_rows(runs: Sequence) -> list[dict[str, Any]]:
    return [
        {
            "label": r.label,
            "group": r.group,
            "steps": r.records,
            "final_loss": r.final("loss"),
            "grad_norm": r.final("grad_norm"),
            "status": r.status,
            "planned_steps": r.planned_steps,
            "cut_off": cut_off(r),
            "diverged_at": r.diverged_at,
            "steps_per_s": r.steps_per_second,
            "lr_changes": [{"step": step, "scale": scale} for step, scale in r.lr_changes],
        }
        for r in runs
    ]


def write_csv(runs: Sequence, path: Path) -> None:
    """One row per run and recorded step: run, label, step, then every series (blank where a
    run has no such series). A recording at reduced resolution has a row per bucket: its last
    step and its records there."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run.series_names() if n not in names]
    with whole(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["run", "label", "step", *names])
        for run in runs:
            values = getattr(run, "samples", run.series)     # at reduced resolution: buckets'
            cols = [values(n) if n in run.series_names() else None for n in names]
            for k, step in enumerate(run.steps().tolist()):
                w.writerow([run.index, run.label, step, *(
                    repr(float(c[k])) if c is not None and k < len(c) else "" for c in cols)])


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def write_json(runs: Sequence, verdicts, scenario, path: Path, interrupted: bool,
               **extra: Any) -> None:
    """The summary table and the claims' verdicts; `extra` keys are added at the top level."""
    report = {
        "scenario": {"name": scenario.name, "title": scenario.title,
                     "file": str(scenario.path) if scenario.path else None},
        "interrupted": interrupted,
        "cut_off": any(cut_off(r) for r in runs),
        "runs": [{k: _jsonable(v) for k, v in row.items()} for row in summary_rows(runs)],
        "expect": [
            {"claim": v.claim, "check": v.check, "holds": v.holds, "measured": v.measured,
             "error": v.error}
            for v in verdicts
        ],
        "ok": all(v.holds for v in verdicts) and not interrupted,
        **extra,
    }
    write_text(path, json.dumps(report, indent=2) + "\n")


# metrics a results table reports, final and best (the largest for HIGHER_IS_BETTER)
RESULT_SERIES = ("loss", "train_loss", "val_loss", "accuracy", "grad_norm")
RESULT_FORMATS = (".csv", ".parquet")


def _cell_value(v: Any) -> Any:
    """A hyperparameter as one table cell: numbers, strings and booleans as they are, lists and
    tables as their text."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return json.dumps(v, default=str) if isinstance(v, (dict, list, tuple)) else str(v)


def result_rows(runs: Sequence) -> list[dict[str, Any]]:
    """One row per run: which run, how it ended, the hyperparameters that differ between the
    runs (the sweep's axes, plus optimizer and lr), and the final and best of each metric."""
    keys = sorted({k for r in runs for k in r.values})
    varying = [k for k in keys if k in ("optimizer", "lr") or len(
        {json.dumps(_cell_value(r.values.get(k)), default=str) for r in runs}) > 1]
    varying = [k for k in varying if k not in ("seed", "steps")] + ["seed"]
    rows = []
    for r in runs:
        metrics = getattr(r, "metrics", None)          # a trial (summary.TrialSummary)
        row: dict[str, Any] = {("run" if metrics is None else "trial"): r.index,
                               "label": r.label, "group": r.group,
                               "status": r.status, "steps": r.records,
                               "planned_steps": r.planned_steps, "diverged_at": r.diverged_at,
                               "seconds": r.compute_seconds}
        row.update({k: _cell_value(r.values.get(k)) for k in varying})
        for name in RESULT_SERIES:
            best_kind = "max" if higher_is_better(name) else "min"
            if metrics is not None:
                if f"final.{name}" in metrics:
                    row[f"final_{name}"] = metrics[f"final.{name}"]
                    row[f"best_{name}"] = metrics.get(f"{best_kind}.{name}", math.nan)
                continue
            if name not in r.series_names():
                continue
            kept = getattr(r, "kept", None)         # a long headless run: its running statistics
            try:
                k = kept(name) if kept is not None else None
            except NotRecorded:     # a reduced recording cut off: its last record is exact
                row[f"final_{name}"], row[f"best_{name}"] = r.final(name), math.nan
                continue
            if k is not None and k.n and not k.complete:
                row[f"final_{name}"] = k.final
                best = k.fmax if best_kind == "max" else k.fmin
                row[f"best_{name}"] = best if math.isfinite(best) else math.nan
                continue
            values = np.asarray(r.series(name), dtype=float)
            finite = values[np.isfinite(values)]
            row[f"final_{name}"] = float(values[-1]) if len(values) else math.nan
            best = getattr(finite, best_kind)() if len(finite) else math.nan
            row[f"best_{name}"] = float(best)
        if metrics is not None:
            row["tol"] = r.tol
            row["steps_to_tol"] = metrics.get("steps_to_tol", math.nan)
        rows.append(row)
    return rows


def write_results(runs: Sequence, path: Path) -> None:
    """The results table as CSV or Parquet (by the file's extension), for pandas and friends."""
    rows = result_rows(runs)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with whole(path) as tmp:
        if path.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({c: [row.get(c) for row in rows] for c in columns}), tmp)
            return
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, columns)
            w.writeheader()
            for row in rows:
                w.writerow({c: repr(v) if isinstance(v, float) else v for c, v in row.items()})


class TracedRun:
    """One run as the dashboard holds it: every record while it fits the trace's buckets, then
    the exact value at the last step of each bucket (never an average)."""

    def __init__(self, trace: Trace, run, compute_seconds: float = 0.0) -> None:
        self.index, self.label, self.group = run.index, run.label, run.group
        self.values, self.planned_steps = run.values, run.steps
        self.records = trace.records(run.index)
        self.lr_changes = trace.lr_changes(run.index)
        status, self.diverged_at = trace.status(run.index)
        self.status = status.value
        self.compute_seconds = compute_seconds
        self._samples = {name: trace.samples(run.index, name) for name in trace.names(run.index)}
        firsts = [s for s, _ in self._samples.values()]
        self._steps = np.unique(np.concatenate(firsts)) if firsts else np.zeros(0, np.int64)

    @property
    def every_step(self) -> bool:
        """True when the trace still holds every record (each series has one per step)."""
        return len(self._steps) == self.records and all(
            len(s) == self.records for s, _ in self._samples.values())

    @property
    def steps_per_second(self) -> float | None:
        return self.records / self.compute_seconds if self.compute_seconds > 0 else None

    def steps(self) -> np.ndarray:
        return self._steps

    def series_names(self) -> list[str]:
        return list(self._samples)

    def series(self, name: str) -> np.ndarray:
        """Values at `steps()` (NaN where this series has no record at that step)."""
        steps, values = self._samples[name]      # KeyError names the series, as expect asks
        if len(steps) == len(self._steps):
            return values
        out = np.full(len(self._steps), np.nan)
        out[np.searchsorted(self._steps, steps)] = values
        return out

    def final(self, name: str) -> float:
        if name not in self._samples:
            return float("nan")
        values = self._samples[name][1]
        return float(values[-1]) if len(values) else float("nan")
