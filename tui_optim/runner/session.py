"""A session advances every run of a scenario chunk by chunk and emits the chunk stream.

It owns what makes runs reproducible and controllable: seeds (through the scenario's resolved
runs), chunk sizing (each round of kernel calls takes about a tenth of a second, so pause and
stop feel instant and the UI gets fresh data often), pause/step/speed (a Pacer), the live ε
knob, and divergence (a non-finite record ends that run with status DIVERGED; others go on).
Results never depend on chunk sizes: every bit of engine state lives in the steppers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from tui_optim.chunk import Chunk, Outcome, Status
from tui_optim.runner.build import FastKernels, make_stepper, warm_up
from tui_optim.runner.executor import ExecutorSpec, Pending, first_trials, start_trials
from tui_optim.runner.pacing import PacedControls, Pacer

# Wall time one round of kernel calls (one chunk per active run) aims for. Short enough that
# pause and stop feel instant; long enough that the engine thread's per-round Python work (which
# competes with the dashboard for the GIL) stays small: on fast surface kernels the dashboard kept
# 50 % of headless throughput with 0.03 s rounds and 74 % with 0.1 s (measured).
ROUND_SECONDS = 0.1
# A chunk's output block should stay in cache, and small enough for the allocator to reuse
# instead of mapping fresh pages each call: plain SGD on Rosenbrock headless ran at 27 M
# records/s with chunks of up to 2^20 records and 55-62 M with 2^15 (2^13..2^16 all 53 M+).
MAX_CHUNK = 1 << 15
# The first round is small: its cost is what sizes the next ones. Smaller still on the
# interpreted tier, where a network step can take 50 ms: data within a second of the start.
FIRST_CHUNK = 16
FIRST_CHUNK_INTERPRETED = 2


class _SnapshotClock:
    """When to take a run's snapshots (histograms, decision grid): they can cost more than a
    chunk of training, so between the first and the last chunk they are taken only when at
    least SNAPSHOT_SECONDS, and ten times their own cost, have passed."""

    SNAPSHOT_SECONDS = 0.1

    def __init__(self, runs: int) -> None:
        self._last = [0.0] * runs
        self._cost = [0.0] * runs

    def due(self, run: int) -> bool:
        wait = max(self.SNAPSHOT_SECONDS, 10.0 * self._cost[run])
        return time.perf_counter() - self._last[run] >= wait

    def take(self, run: int, snapshot: Callable[[], dict]) -> dict:
        t0 = time.perf_counter()
        out = snapshot()
        self._last[run] = time.perf_counter()
        self._cost[run] = self._last[run] - t0
        return out


@dataclass(frozen=True)
class RunInfo:
    index: int
    label: str
    group: str
    steps: int
    values: Mapping[str, Any]
    tol: float = 1e-6       # trials only: the loss their steps_to_tol counts steps to


def run_infos(specs: Any) -> tuple[RunInfo, ...]:
    """What a Source tells of its runs (or trials): the RunSpecs without their engine."""
    return tuple(RunInfo(r.index, r.label, r.group, r.steps, r.values, r.tol) for r in specs)


def _kernel_kinds(trials: Any) -> list[Any]:
    """One trial of each kind the kernels tell apart (the same keys, the same words, the same
    numbers zero or not): warming up these warms up all of a sweep of thousands."""
    kinds: dict[Any, Any] = {}
    for t in trials:
        sig = tuple(sorted((k, (v == 0) if isinstance(v, (int, float)) else repr(v))
                           for k, v in t.values.items()))
        kinds.setdefault(sig, t)
    return list(kinds.values())


def default_speed(scenario: Any) -> float | None:
    """Dashboard speed at start: the scenario's own, else so the longest run takes ~5 s."""
    if getattr(scenario, "speed", None):
        return float(scenario.speed)
    longest = max((r.steps for r in scenario.runs), default=1)
    return max(1.0, longest / 5.0)


class Session(PacedControls):
    """Live runs of a scenario: the Source (runner/source.py) of the dashboard and headless."""

    is_replay = False

    def __init__(self, scenario: Any, *, speed: float | None = None,
                 executor: ExecutorSpec = ExecutorSpec(), tiered: bool = False) -> None:
        """tiered: start the runs at once on the interpreted tier and move them to the compiled
        kernels when those are loaded (or compiled, on a first start) in the background; the
        dashboard's way. Else compile() waits for the kernels (headless). Same numbers."""
        self.scenario = scenario
        self.tiered = tiered
        self._fast: FastKernels | None = None   # kernels loading while the runs go interpreted
        self.runs = run_infos(scenario.runs)
        self.trials = run_infos(scenario.trials)
        self.executor = executor
        self.pacer = Pacer(speed)
        self._steppers: list[Any] | None = None
        self._pending: Pending | None = None
        self._lr_scale = [1.0] * len(self.runs)
        # the UI thread's ε knob against this thread publishing or replacing a stepper
        self._scale_lock = threading.Lock()
        # Seconds spent inside kernels per run: headless reports steps/s from it.
        self.compute_seconds = [0.0] * len(self.runs)

    def reopen(self) -> "Session":
        return Session(self.scenario, speed=self.speed, executor=self.executor,
                       tiered=self.tiered)

    # -- setup ------------------------------------------------------------------------------
    def compile(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        """Compile (or load from numba's cache) the kernels, then build every run's stepper.
        Tiered: have the kernels load in the background; each run's stepper is built on the
        interpreted tier when it first advances (the first run's data need not wait for the
        others' data sets)."""
        # The engine's warm-up (loading or compiling kernels) reports its own steps, then ours.
        kernel_runs = list(self.scenario.runs) + _kernel_kinds(self.scenario.trials)
        self._steppers = [None] * len(self.runs)
        if self.tiered:
            self._fast = FastKernels(self.scenario.problem, kernel_runs, progress)
            self._fast.start()
            if not self.runs:
                self._fast.go()             # trials only: nothing to show until they run
            return
        warm_up(self.scenario.problem, kernel_runs, progress)
        total = len(self.runs)
        for i, run in enumerate(self.scenario.runs):
            if progress:
                progress(i, total, f"building {run.label}")
            self._stepper(i)
        if progress:
            progress(total, total, "ready")

    def _stepper(self, i: int) -> Any:
        """Run i's stepper, built on first use (on the tier the session is on)."""
        assert self._steppers is not None
        stepper = self._steppers[i]
        if stepper is None:
            stepper = make_stepper(self.scenario.problem, self.scenario.runs[i],
                                   interpreted=self.interpreted)
            with self._scale_lock:
                stepper.set_lr_scale(self._lr_scale[i])
                self._steppers[i] = stepper
        return stepper

    @property
    def interpreted(self) -> bool:
        """Whether the runs are on the interpreted tier (their kernels still loading)."""
        return self._fast is not None

    def _to_compiled_tier(self) -> None:
        """At a round's boundary, once the kernels are loaded: every run's state to the
        compiled kernels (engine.interpreted.to_compiled); nothing recorded changes."""
        from tui_optim.engine.interpreted import to_compiled

        assert self._steppers is not None
        with self._scale_lock:
            # one call for all: what runs share (a surface and its map) stays shared
            self._steppers = to_compiled(self._steppers)
        self._fast = None

    # -- the live ε knob ----------------------------------------------------------------------
    def scale_lr(self, run: int, factor: float) -> float:
        """Multiply run `run`'s ε by `factor` from its next step on; returns the total scale."""
        with self._scale_lock:
            self._lr_scale[run] *= factor
            if self._steppers is not None and self._steppers[run] is not None:
                self._steppers[run].set_lr_scale(self._lr_scale[run])
            return self._lr_scale[run]

    def lr_scale(self, run: int) -> float:
        return self._lr_scale[run]

    # -- the stream ---------------------------------------------------------------------------
    def chunks(self, should_stop: Callable[[], bool] = lambda: False
               ) -> Iterator[Chunk | Outcome]:
        """Yield chunks of the watched runs and the outcomes of the trials (as they finish,
        in any order) until every run and trial has ended, or until stopped.

        On stop (pacer.stop() or should_stop()), every unfinished run gets an empty chunk with
        status STOPPED, and every unfinished trial a STOPPED outcome, so consumers always see
        how each ended.
        """
        if self._steppers is None:
            self.compile()
        trials_left = set(range(len(self.trials)))
        try:
            yield from self._stream(should_stop, trials_left)
        finally:            # a stop, an error, Ctrl-C: the workers' remaining tasks are dropped
            if self._pending is not None:
                self._pending.cancel()
                self._pending = None

    def _stream(self, should_stop: Callable[[], bool], trials_left: set[int]
                ) -> Iterator[Chunk | Outcome]:
        assert self._steppers is not None
        stopped = lambda: should_stop() or self.pacer.stopped      # noqa: E731
        active = [i for i, st in enumerate(self._steppers)
                  if st is None or st.steps_done < self.runs[i].steps]
        per_record: float | None = None  # kernel seconds per record per round, measured
        wanted = FIRST_CHUNK_INTERPRETED if self.interpreted else FIRST_CHUNK
        snaps = _SnapshotClock(len(self.runs))
        pending = None
        rounds = 0
        while active or (trials_left and pending is None) or (pending is not None
                                                               and not pending.done):
            if self._fast is not None and self._fast.ready(0.0 if active else 0.05):
                self._to_compiled_tier()
            if trials_left and pending is None and self._fast is None:
                first, per_trial = first_trials(self.scenario.problem, self.scenario.trials)
                for o in first:
                    trials_left.discard(o.trial)
                    yield o
                pending = self._pending = start_trials(
                    self.executor, self.scenario.problem, self.scenario.trials, per_trial,
                    len(first))
            if pending is not None and not self.pacer.paused:     # paused: results wait too
                for o in pending.poll(0.0 if active else 0.1):
                    trials_left.discard(o.trial)
                    yield o
            if not active:
                if stopped():
                    yield from self._stopped_trials(trials_left)
                    return
                if self.pacer.paused and pending is not None:
                    time.sleep(0.05)
                continue
            granted = self.pacer.grant(wanted, should_stop)
            if granted == 0:
                for i in active:
                    st = self._steppers[i]
                    yield self._empty(i, st.steps_done if st else 0, Status.STOPPED)
                yield from self._stopped_trials(trials_left)
                return
            kernel_seconds = 0.0
            for i in list(active):
                stepper = self._stepper(i)
                start = stepper.steps_done
                n = min(granted, self.runs[i].steps - start)
                t0 = time.perf_counter()
                with np.errstate(all="ignore"):     # the interpreted tier: inf/NaN as numba's
                    series, diverged_at = stepper.advance(n)
                dt = time.perf_counter() - t0
                kernel_seconds += dt
                self.compute_seconds[i] += dt
                if diverged_at is not None:
                    status = Status.DIVERGED
                elif stepper.steps_done >= self.runs[i].steps:
                    status = Status.DONE
                else:
                    status = Status.RUNNING
                if status is not Status.RUNNING:
                    active.remove(i)
                take = start == 0 or status is not Status.RUNNING or self.pacer.paused or snaps.due(i)
                with np.errstate(all="ignore"):
                    snapshots = snaps.take(i, stepper.snapshots) if take else {}
                yield Chunk(i, start, stepper.steps_done - start, series, snapshots, status,
                            diverged_at, self._lr_scale[i])
            rounds += 1
            if rounds == 1 and self._fast is not None:
                # the first data is out: load the kernels now (this thread makes way for them)
                self._fast.go(threading.get_native_id())
            if granted == wanted:
                # Only full (unthrottled) rounds tell the true cost of a record. Grow at most
                # eightfold a round, so a slow kernel never gets a huge first chunk.
                per_record = max(1e-9, kernel_seconds / granted)
                wanted = int(min(MAX_CHUNK, 8 * wanted, max(1, ROUND_SECONDS / per_record)))

    @staticmethod
    def _stopped_trials(left: set[int]) -> Iterator[Outcome]:
        for i in sorted(left):
            yield Outcome(i, 0, Status.STOPPED, {})

    def _empty(self, run: int, start: int, status: Status) -> Chunk:
        names = getattr(self._steppers[run], "series_names", ()) if self._steppers else ()
        return Chunk(run, start, 0, {k: np.empty(0) for k in names}, {}, status)
