"""Executors: where trials (runs kept as results) are computed, in batches, in any order.

- `local` (the default): the first two trials run here and the second times the rest; if they
  would take more than POOL_WORTH seconds, the others go to a pool of processes, one per core,
  else they run here too (starting processes costs more than a small sweep).
- `dask`: a Dask cluster: a scheduler's address (`--scheduler tcp://HOST:PORT`, or
  TUI_OPTIM_SCHEDULER), or a local cluster of N worker processes (`--workers N`). Dask re-runs
  the tasks of a worker that is lost.

Every task is `trials.run_batch(problem, [(trial, RunSpec), ...])`: the same stepper as a
watched run, so an outcome is equal bit for bit wherever it was computed. `Pending.poll`
returns what has finished; `Pending.cancel` drops the rest (Ctrl-C, q, a restart).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from tui_optim.chunk import Outcome
from tui_optim.errors import UserError
from tui_optim.runner.trials import run_batch

# A pool is worth starting when the trials left would take longer than this here: starting
# one (processes, imports, kernels from the cache) took about 1.5 s on 2 cores.
POOL_WORTH = 4.0
# A task aims at this much work: results arrive often, and overhead per task stays small.
TASK_SECONDS = 0.5
INLINE_TASK_SECONDS = 0.05      # in the session's own thread, between rounds of watched runs
MAX_BATCH = 1024
MAX_INLINE_BATCH = 64           # here, between rounds of watched runs: a stop waits for one batch
# Times a local pool is restarted after a worker died before the sweep gives up.
POOL_RETRIES = 3
SCHEDULER_ENV = "TUI_OPTIM_SCHEDULER"


class ExecutorError(UserError):
    """An executor that cannot be used (bad scheduler address, unreachable cluster): exit 2."""


@dataclass(frozen=True)
class ExecutorSpec:
    """How trials are computed: chosen on the command line, kept by a restart."""

    kind: str = "local"             # "local" | "inline" | "dask"
    workers: int | None = None      # local: processes (None: one per core); dask: local cluster
    address: str | None = None      # dask: a running scheduler


def _host_port(address: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    try:
        where = urlsplit(address)
        scheme, host, port = where.scheme, where.hostname, where.port
    except ValueError:
        scheme = host = port = None
    if not scheme or not host or not port:
        raise ExecutorError(f"scheduler address {address!r}: expected tcp://HOST:PORT")
    return host, port


def executor_spec(scheduler: str | None, workers: int | None) -> ExecutorSpec:
    """The spec from `--scheduler`/`--workers` (and TUI_OPTIM_SCHEDULER); checks the address."""
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address is not None:
        _host_port(address)
        return ExecutorSpec("dask", address=address)
    if workers is not None:
        if workers < 1:
            raise ExecutorError(f"--workers {workers}: expected at least 1")
        return ExecutorSpec("dask", workers=workers)
    return ExecutorSpec()


def check_reachable(spec: ExecutorSpec, timeout: float = 5.0) -> None:
    """A scheduler address that nothing answers at is a clear error before anything runs."""
    if spec.kind != "dask" or spec.address is None:
        return
    import socket

    host, port = _host_port(spec.address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise ExecutorError(f"cannot reach the Dask scheduler at {spec.address}: "
                            f"{e.strerror or e}") from None


def plan_batches(n: int, per_trial: float, workers: int, seconds: float,
                 most: int = MAX_BATCH) -> list[range]:
    """Consecutive trials in tasks of about `seconds` each (at most `most`), at least 4 tasks
    a worker."""
    size = min(most, max(1, math.ceil(n / (4 * max(1, workers)))),
               max(1, int(seconds / max(per_trial, 1e-9))))
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


_LAUNCH = threading.Lock()       # one launch at a time: the swap below is process-wide


@contextmanager
def _launching() -> Iterator[None]:
    """While starting worker processes:
    - multiprocessing hands sys.stderr's file descriptor to its helper processes, and a
      dashboard's sys.stderr is Textual's capture (no descriptor): the real one meanwhile;
    - a new worker re-imports the parent's `__main__` (a user's script without a
      `__name__ == "__main__"` guard would run again in every worker): a blank one meanwhile.
    """
    import types

    with _LAUNCH:
        saved_err, saved_main = sys.stderr, sys.modules.get("__main__")
        try:
            ok = saved_err is not None and saved_err.fileno() >= 0
        except (AttributeError, OSError, ValueError):
            ok = False
        if not ok:
            sys.stderr = sys.__stderr__
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.stderr = saved_err
            if saved_main is not None:
                sys.modules["__main__"] = saved_main


def _quiet_worker() -> None:
    """A worker's own output (numba's warnings, say) must not draw over a dashboard."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


class Pending:
    """Batches of trials in flight."""

    def poll(self, timeout: float) -> list[Outcome]:
        """Outcomes finished since the last call, waiting up to `timeout` s for one."""
        raise NotImplementedError

    @property
    def done(self) -> bool:
        raise NotImplementedError

    def cancel(self) -> None:
        """Drop what has not finished and release the workers."""


class _Inline(Pending):
    """One batch per poll, in the calling thread."""

    def __init__(self, problem: Any, trials: Sequence[Any], batches: list[range]) -> None:
        self.problem, self.trials, self.batches = problem, trials, list(reversed(batches))

    def poll(self, timeout: float) -> list[Outcome]:
        if not self.batches:
            return []
        b = self.batches.pop()
        return run_batch(self.problem, [(i, self.trials[i]) for i in b])

    @property
    def done(self) -> bool:
        return not self.batches

    def cancel(self) -> None:
        self.batches = []


class _Pool(Pending):
    """A local process pool; a worker that dies breaks the pool, so the unfinished batches go
    to a new one (up to POOL_RETRIES times)."""

    def __init__(self, problem: Any, trials: Sequence[Any], batches: list[range],
                 workers: int) -> None:
        self.problem, self.trials, self.workers = problem, trials, workers
        self.left = {b.start: b for b in batches}
        self.retries = 0
        self._start()

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # forkserver: workers fork from a clean process, not from a threaded dashboard
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["tui_optim.runner.trials"])
        with _launching():
            self.pool = ProcessPoolExecutor(self.workers, mp_context=ctx,
                                            initializer=_quiet_worker)
            self.futures = {
                self.pool.submit(run_batch, self.problem, [(i, self.trials[i]) for i in b]):
                    b.start for b in self.left.values()}

    def poll(self, timeout: float) -> list[Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if not self.futures:
            return []
        finished, _ = wait(self.futures, timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[Outcome] = []
        broken = False
        for f in finished:
            key = self.futures.pop(f)
            try:
                out.extend(f.result())
                self.left.pop(key, None)
            except BrokenProcessPool:
                broken = True
        if broken:
            self.retries += 1
            if self.retries > POOL_RETRIES:
                self.cancel()
                raise RuntimeError(f"the sweep's worker processes died {self.retries} times "
                                   "(out of memory?); giving up")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start()
        return out

    @property
    def done(self) -> bool:
        return not self.left

    def cancel(self) -> None:
        self.left = {}
        self.futures = {}
        pool = self.pool
        running = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in running:           # a batch still running: stop it now
            p.kill()


class _Dask(Pending):
    """Tasks on a Dask cluster; the scheduler re-runs a lost worker's tasks."""

    def __init__(self, spec: ExecutorSpec, problem: Any, trials: Sequence[Any],
                 plan: Callable[[int], list[range]]) -> None:
        """`plan(workers)`: the batches, once the cluster says how many workers it has."""
        from distributed import Client, LocalCluster

        self.cluster = self.client = None
        self.futures: list = []
        try:
            if spec.address is not None:
                self.client = Client(spec.address, timeout="10s", set_as_default=False)
            else:
                with _launching():
                    self.cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1,
                                                processes=True, dashboard_address=None,
                                                silence_logs=logging.ERROR)
                self.client = Client(self.cluster, set_as_default=False)
            workers = sum(self.client.nthreads().values()) or 1
            problem_f = self.client.scatter(problem, broadcast=True)
            self.futures = [self.client.submit(run_batch, problem_f,
                                               [(i, trials[i]) for i in b], pure=False)
                            for b in plan(workers)]
        except BaseException as e:
            self.cancel()           # whatever was started is stopped again
            if isinstance(e, (OSError, TimeoutError)):
                where = (f"the Dask scheduler at {spec.address}" if spec.address
                         else "a local Dask cluster")
                raise ExecutorError(f"cannot reach {where}: "
                                    f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") \
                    from None
            raise

    def poll(self, timeout: float) -> list[Outcome]:
        end = time.monotonic() + timeout
        while True:         # by the futures' own state: no default client involved
            finished = [f for f in self.futures if f.done()]
            if finished or time.monotonic() >= end:
                break
            time.sleep(0.02)
        out: list[Outcome] = []
        for f in finished:
            self.futures.remove(f)
            out.extend(f.result())
        return out

    @property
    def done(self) -> bool:
        return not self.futures

    def cancel(self) -> None:
        futures, self.futures = self.futures, []
        for close in (lambda: futures and self.client.cancel(futures),
                      lambda: self.client and self.client.close(),
                      lambda: self.cluster and self.cluster.close()):
            try:
                close()
            except Exception:       # a scheduler or cluster already gone: go on closing
                pass


def first_trials(problem: Any, trials: Sequence[Any]) -> tuple[list[Outcome], float]:
    """The first two trials, here: they show at once, and the second (past any one-time
    setup) times the rest. Returns their outcomes and the seconds a trial takes."""
    outcomes, per_trial = [], 0.0
    for i in range(min(2, len(trials))):
        t0 = time.perf_counter()
        (outcome,) = run_batch(problem, [(i, trials[i])])
        outcomes.append(outcome)
        # per planned step: a trial that diverged at once says little about the others
        per_trial = (time.perf_counter() - t0) * trials[i].steps / max(1, outcome.steps)
    return outcomes, per_trial


def start_trials(spec: ExecutorSpec, problem: Any, trials: Sequence[Any],
                 per_trial: float, skip: int = 2) -> Pending:
    """The trials after the first `skip`, where `spec` says (`per_trial`: first_trials')."""
    n = max(0, len(trials) - skip)
    workers = spec.workers or os.cpu_count() or 1
    here = spec.kind == "inline" or (spec.kind == "local" and (
        workers < 2 or per_trial * n < POOL_WORTH))

    def plan(workers: int) -> list[range]:
        # here: short batches, so a dashboard's watched runs between them keep moving
        return [range(b.start + skip, b.stop + skip) for b in
                plan_batches(n, per_trial, 1 if here else workers,
                             INLINE_TASK_SECONDS if here else TASK_SECONDS,
                             MAX_INLINE_BATCH if here else MAX_BATCH)]

    if here or n == 0:
        return _Inline(problem, trials, plan(1))
    if spec.kind == "dask":         # batches for the cluster's workers, not this machine's cores
        return _Dask(spec, problem, trials, plan)
    return _Pool(problem, trials, plan(workers), workers)
