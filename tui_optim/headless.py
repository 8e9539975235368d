"""Headless mode: drive a session (or a replay) to the end without a screen.

Progress goes to stderr, the summary table and claim verdicts to stdout, and the exit status
says whether the scenario's claims hold (0), a claim failed (1), or the run was interrupted (130
for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). Each stops the runs cleanly: whatever was recorded
is still written (replay, JSON, CSV), with a `stopped` marker for every unfinished run.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Iterable, TextIO

from tui_optim.chunk import Chunk, Outcome, Status, outcome_kind
from tui_optim.expect import claim_tolerances, evaluate
from tui_optim.runner.build import PREPARING
from tui_optim.report import cut_off, status_text, write_csv, write_json, write_results
from tui_optim.summary import KEEP_RECORDS, Summary

EXIT_OK, EXIT_CLAIM_FAILED, EXIT_INTERRUPTED = 0, 1, 130


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP (an SSH drop) handled as Ctrl-C is: stop the runs, keep and write what
    was recorded, exit 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_status(interrupt: KeyboardInterrupt) -> int:
    return 128 + interrupt.signum if isinstance(interrupt, Interrupted) else EXIT_INTERRUPTED


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP interrupt a headless run like Ctrl-C (main thread only)."""
    import signal

    def handler(signum, frame):
        raise Interrupted(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


class Progress:
    """A one-line progress bar on a terminal; silent when stderr is not one (CI, pipes)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(1, total)
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0
        self._t0 = time.perf_counter()

    def update(self, done: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        frac = min(1.0, done / self.total)
        width = 30
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        rate = done / max(now - self._t0, 1e-9)
        self.stream.write(f"\r[{bar}] {100 * frac:5.1f}%  {done:,} records  {_si(rate)}/s ")
        self.stream.flush()

    def say(self, text: str) -> None:
        """Replace the line with `text` (what the engine is doing before the first record)."""
        if self.enabled:
            self.stream.write(f"\r{text[:100]}\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _si(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def _num(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def format_table(summary: Summary) -> str:
    header = ("run", "steps", "final loss", "‖g‖", "status", "steps/s")
    rows = [
        (r.label, str(r.records), _num(r.final("loss")), _num(r.final("grad_norm")),
         status_text(r), _si(r.steps_per_second))
        for r in summary.runs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    right = {1, 2, 3, 5}

    def line(cells: Iterable[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line("-" * w for w in widths), *(line(r) for r in rows)])


def format_trials(trials) -> list[str]:
    """One line per group of trials: how many reached their tolerance (and how fast), how many
    grew or diverged, how many did neither, how many were stopped (chunk.outcome_kind)."""
    groups: dict[str, list] = {}
    for t in trials:
        groups.setdefault(t.group, []).append(t)
    lines = []
    for group, ts in groups.items():
        kinds = [outcome_kind(t.outcome()) for t in ts]
        steps = sorted(t.metrics["steps_to_tol"] for t, k in zip(ts, kinds) if k == "reached")
        parts = [f"{group}: {len(ts):,} trials"]
        if steps:
            parts.append(f"{len(steps):,} reached loss ≤ {ts[0].tol:g} "
                         f"(median {int(steps[len(steps) // 2])} steps)")
        parts.append(f"{kinds.count('grew'):,} grew or diverged")
        parts.append(f"{kinds.count('neither'):,} did neither in {ts[0].planned_steps:,} steps"
                     if steps else f"{kinds.count('neither'):,} did not")
        if kinds.count("stopped"):
            parts.append(f"{kinds.count('stopped'):,} stopped before their end")
        lines.append(" · ".join(parts))
    return lines


def format_verdicts(verdicts, cut: Iterable = ()) -> str:
    """The verdicts; on a recording that ends early, said first: the claims describe only the
    steps it holds."""
    lines = [f"recording ends at step {r.records:,} of {r.planned_steps:,} for {r.label!r}: "
             "cut off" for r in cut]
    if not verdicts:
        return "\n".join(lines + ["claims: none"])
    held = sum(v.holds for v in verdicts)
    on = " (on a cut-off recording: only the steps it holds)" if cut else ""
    lines.append(f"claims{on}: {held} of {len(verdicts)} hold")
    for v in verdicts:
        mark = "PASS" if v.holds else "FAIL"
        lines.append(f"  {mark}  {v.claim}")
        lines.append(f"        {v.error or v.measured}")
    return "\n".join(lines)


def reduced_note(every: int) -> str:
    return (f"recorded at reduced resolution: one value per {every:,} steps (each bucket's last "
            "value, min, max and mean); claims read the exact summary recorded with each run")


def drive(source, *, recorder=None, out: TextIO | None = None, err: TextIO | None = None,
          json_path: Path | None = None, csv_path: Path | None = None,
          results_path: Path | None = None) -> int:
    """Run `source` (a Session or a Replayer) to its end and report; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    scenario = source.scenario
    trials = source.trials
    # flat memory: a long run keeps its start and end, and what its claims ask (summary.py);
    # --csv writes every record, so it keeps them all
    summary = Summary(source.runs, trials, keep=None if csv_path is not None else KEEP_RECORDS,
                      tols=claim_tolerances(scenario.expects))
    if recorder is not None:
        recorder.share(summary)
    progress = Progress(sum(r.steps for r in (*source.runs, *trials)), err)
    interrupted: KeyboardInterrupt | None = None
    try:
        # Only a cold start is worth a word: it compiles for half a minute.
        source.compile(lambda i, n, what: progress.say(what) if what.startswith(PREPARING)
                       else None)
        for chunk in source.chunks():
            summary.add(chunk)
            if recorder is not None:
                recorder.write(chunk)
            progress.update(summary.records)
    except KeyboardInterrupt as stop:
        interrupted = stop
        source.stop()
        for run in summary.runs:
            if run.status == Status.RUNNING.value:
                summary.add(Chunk(run.index, run.records, 0, {}, {}, Status.STOPPED))
                if recorder is not None:
                    recorder.write_stopped(run.index)
        for trial in summary.trials:
            if trial.status == Status.RUNNING.value:
                stopped = Outcome(trial.index, 0, Status.STOPPED, {})
                summary.add(stopped)
                if recorder is not None:
                    recorder.write(stopped)
    finally:
        progress.update(summary.records, force=True)
        progress.close()
        if recorder is not None:
            recorder.close()
    summary.set_compute_seconds(source.compute_seconds)
    every = getattr(source, "every", 1)       # a replay of a recording at reduced resolution
    for run, exact in getattr(source, "exact", {}).items():
        summary.runs[run].restore(exact)
    verdicts = [] if interrupted is not None else evaluate(scenario.expects, summary.records_all)
    print(f"{scenario.title}  ({scenario.name})", file=out)
    if summary.runs:
        print(format_table(summary), file=out)
    if summary.trials:
        print("\n".join(format_trials(summary.trials)), file=out)
    print(file=out)
    cut = [r for r in summary.runs if cut_off(r)] if interrupted is None else []
    if every > 1:
        print(reduced_note(every), file=out)
    print("interrupted: claims not checked" if interrupted is not None
          else format_verdicts(verdicts, cut), file=out)
    if json_path is not None:
        extra = {"trials": format_trials(summary.trials)} if summary.trials else {}
        if every > 1:
            extra["resolution"] = reduced_note(every)
        write_json(summary.runs, verdicts, scenario, json_path, interrupted is not None, **extra)
    if csv_path is not None:
        write_csv(summary.runs, csv_path)
    if results_path is not None:
        write_results(summary.records_all, results_path)
    if interrupted is not None:
        return exit_status(interrupted)
    return EXIT_OK if all(v.holds for v in verdicts) else EXIT_CLAIM_FAILED
