"""Turn a validated scenario run into an engine stepper: the one place that maps problem types
to engine classes, so the session never looks inside a stepper."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from importlib import import_module
from typing import Any, Callable, Iterator

import numpy as np

# problem type -> (module, stepper class). Imported lazily: a surface scenario never pays for
# loading (or compiling) the network kernels.
_STEPPERS = {
    "surface": ("tui_optim.engine.surface_stepper", "SurfaceStepper"),
    "network": ("tui_optim.engine.network.stepper", "NetworkStepper"),
    "chain": ("tui_optim.engine.network.stepper", "ChainStepper"),
}
# problem type -> (the engine module whose kernels every run of that type calls: none of them in
# numba's cache means a first start (surely_cold); whether its stepper module compiles some
# kernels in a second process (compile_parts), known here without importing numba)
_KERNELS = {"surface": ("surface_kernel", True), "network": ("network.train", True),
            "chain": ("network.chain", False)}


def make_stepper(problem: Any, run: Any, *, interpreted: bool = False) -> Any:
    """A fresh stepper for `run` (a RunSpec) on `problem` (a ProblemSpec): compiled, or on the
    interpreted tier (engine/interpreted.py: the same bits, no numba, no compile)."""
    module, cls = _STEPPERS[problem.type]
    if interpreted:
        from tui_optim.engine import interpreted as tier

        with np.errstate(all="ignore"):
            return getattr(tier.module(module.removeprefix("tui_optim.engine.")), cls)(
                problem.values, run.values, run.steps, run.seed)
    stepper_cls = getattr(import_module(module), cls)
    return stepper_cls(problem.values, run.values, run.steps, run.seed)


class FastKernels:
    """Loads the compiled kernels some runs use (warm_up) in a thread of its own while those runs
    go on interpreted. `ready()` says when they can move over; it raises what loading raised."""

    HOLD_SECONDS = 0.5

    def __init__(self, problem: Any, runs: Any,
                 progress: Callable[[int, int, str], None] | None) -> None:
        self._args = (problem, runs, progress)
        self._stops = _stops[0]     # a stop from here on (quit, restart) cancels the loading
        self._go = threading.Event()
        self._done = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="fast-kernels", daemon=True)
        self._runs_thread: int | None = None    # the thread running the interpreted runs
        self._compiling = False
        self._way = threading.Lock()
        self._made_way = False

    def start(self) -> None:
        """Begin loading after go(), or HOLD_SECONDS from now: numba's import competes for the
        GIL with the first interpreted round, whose data should come first."""
        if not self._thread.is_alive() and not self._done.is_set():
            self._thread.start()

    def go(self, runs_thread: int | None = None) -> None:
        """Load now; `runs_thread` (a native thread id) runs the interpreted runs meanwhile."""
        self._runs_thread = runs_thread
        self._go.set()
        self._make_way()

    def _make_way(self) -> None:
        """While a first start compiles, the thread of the interpreted runs
        gives way to them (RUNS_NICENESS nicer, the most there is): on 2 cores a network's
        kernels came 0.2 to 1.6 s sooner than at 10 nicer (13.9 to 16.7 s against 14.7 to
        16.9 s, 16_init_histograms, measured in pairs). Its interpreted runs move at a fraction
        of a step a second meanwhile; a surface's keep their pace (a step takes microseconds).
        An unprivileged thread cannot be made less nice again: it stays so for its session,
        which tells only on a busy machine, where the screen then goes first. Linux only:
        elsewhere a thread id is not a process id to renice."""
        tid = self._runs_thread
        if not self._compiling or tid is None or sys.platform != "linux":
            return
        with self._way:
            if self._made_way:
                return
            self._made_way = True
        try:
            os.setpriority(os.PRIO_PROCESS, tid,
                           os.getpriority(os.PRIO_PROCESS, tid) + RUNS_NICENESS)
        except OSError:             # the thread has ended: nothing to make way for
            pass

    def _load(self) -> None:
        problem, runs, progress = self._args
        self._go.wait(self.HOLD_SECONDS)

        def report(i: int, n: int, what: str) -> None:
            if what.startswith(PREPARING) and not self._compiling:
                self._compiling = True
                self._make_way()
            if progress:
                progress(i, n, what)

        try:
            warm_up(problem, runs, report, stops=self._stops)
            if progress:
                progress(1, 1, FAST_READY)
        except BaseException as exc:        # noqa: BLE001 - handed to the session's thread
            self._error = exc
            if progress:                    # and said, should every run have ended already
                progress(1, 1, f"{FAST_FAILED}: {exc}")
        finally:
            self._done.set()

    def ready(self, wait: float = 0.0) -> bool:
        if not self._done.wait(wait):
            return False
        if self._error is not None:
            raise self._error
        return True


LOADING = "loading kernels…"
RUNS_NICENESS = 19          # FastKernels._make_way
PREPARING = "preparing fast kernels (first start only)"
FAST_READY = "fast kernels ready"          # the runs move to the compiled tier now
FAST_FAILED = "the fast kernels failed"

# Seconds a cold start of each problem type took, measured idle on a 2-core AMD EPYC
# (Session.compile: a surface scenario 6 to 12 s, a network scenario 10 to 14 s, each compile
# split over two processes; a chain 4 to 5 s, 2026-12-02). The first cold start on a machine
# estimates from these; later ones from what this machine measured last time (COSTS_FILE).
DEFAULT_COSTS = {"surface": 10.0, "network": 12.0, "chain": 5.0}
COSTS_FILE = "compile-seconds.json"


def _costs_path():
    from pathlib import Path

    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tui-optim")) / COSTS_FILE


def compile_estimate(ptype: str) -> tuple[float, bool]:
    """(seconds, measured): how long preparing this problem type's kernels takes, as last
    measured on this machine (True), else the figure measured on ours (False)."""
    import json

    try:
        measured = json.loads(_costs_path().read_text())
        return float(measured[ptype]), True
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_COSTS.get(ptype, 30.0), False


def _remember_cost(ptype: str, seconds: float) -> None:
    import json

    from tui_optim.outputs import write_text

    path = _costs_path()
    try:
        measured = json.loads(path.read_text()) if path.exists() else {}
        measured[ptype] = round(seconds, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(measured) + "\n")       # whole: tabs of `serve` start together
    except (OSError, ValueError, TypeError):
        pass                # an estimate for next time: never worth an error


class _CompileNeeded(Exception):
    """Raised from numba's compile event: this process must not compile (see warm_up)."""


_children: set[subprocess.Popen] = set()      # preparing processes, stopped on quit
_stops = [0]                                   # how many times stop_preparing was called


def stop_preparing() -> None:
    """Stop every process preparing kernels, and any warm-up on its way to starting one (the
    dashboard quits or restarts): numba writes a cache entry only when it is whole, so what
    they finished is kept and the rest is not."""
    _stops[0] += 1
    for child in list(_children):
        child.kill()


def surely_cold(problem_type: str) -> bool:
    """No kernel of this problem type was ever cached here (the first start after installing):
    then the compile can begin at once, without importing numba here first to find out (that
    look took 1.1 s of a core, measured on a network's cold start). Read off the compiled files
    where numba's cache locators put them (`NUMBA_CACHE_DIR/<folder>_<sha1 of its path>`, else
    the module's `__pycache__`); a cache that holds some still goes through warm_up's look."""
    import hashlib
    from pathlib import Path

    import tui_optim

    module, _ = _KERNELS[problem_type]
    source = Path(os.path.abspath(os.path.dirname(tui_optim.__file__)), "engine",
                  *module.split(".")).with_suffix(".py")
    root = os.environ.get("NUMBA_CACHE_DIR")
    folder = (Path(root, f"{source.parent.name}_"
                         f"{hashlib.sha1(str(source.parent).encode()).hexdigest()}")
              if root else source.parent / "__pycache__")
    return not any(folder.glob(f"{source.stem}.*.nbc"))     # (an index alone: a flush wrote it)


def warm_up(problem: Any, runs: Any, progress: Callable[[int, int, str], None] | None = None,
            *, stops: int | None = None) -> None:
    """Load from numba's cache (or compile) just the kernels these runs use. Every engine
    module has `warm_up(problem=, runs=, progress=)` taking the plain mappings.

    A compile runs in a child process (runner/prepare.py) that fills numba's cache, never in
    this one: numba holds the GIL through LLVM for seconds at a time, which froze the
    dashboard and kept `q` waiting for a minute. This process tries its cache first (unless
    surely_cold); at the first miss it stops, has the child compile, then loads what it cached.
    progress(i, n, label) says "loading kernels…" meanwhile, and "preparing fast kernels
    (first start only): run 2 of 3" during a compile, in words a first-time user understands.
    A cold start's duration is remembered (compile_estimate). `stops`: stop_preparing's count
    when the caller began (a stop since then starts no compile); by default, now."""
    report = progress or (lambda i, n, what: None)
    report(0, 1, LOADING)
    stops = _stops[0] if stops is None else stops      # stop_preparing calls counted since
    if not surely_cold(problem.type):
        try:
            _warm_up_here(problem, runs, report, refuse_compile=True)
            return
        except _CompileNeeded:
            pass
        except Exception:               # numba may wrap our exception in its own errors
            if not _compile_refused[0]:
                raise
    since = time.monotonic()
    report(0, 1, PREPARING)
    _prepare_in_child(problem, runs, report, lambda: _stops[0] != stops)
    _remember_cost(problem.type, time.monotonic() - since)
    report(0, 1, LOADING)
    # what the child cached loads here; anything it could not cache (an unwritable cache
    # folder) compiles here after all, as it did before
    _warm_up_here(problem, runs, report, refuse_compile=False)


_compile_refused = [False]


def _warm_up_here(problem: Any, runs: Any, report: Callable[[int, int, str], None], *,
                  refuse_compile: bool) -> None:
    module, _ = _STEPPERS[problem.type]
    _compile_refused[0] = False

    def compiling(name: str) -> None:
        if refuse_compile:
            _compile_refused[0] = True
            raise _CompileNeeded(name)
        report(0, 1, PREPARING)

    with _on_numba_compile(compiling):
        import_module(module).warm_up(problem=problem.values, runs=[r.values for r in runs],
                                      progress=lambda i, n, what: None)


def _prepare_in_child(problem: Any, runs: Any, report: Callable[[int, int, str], None],
                      stopped: Callable[[], bool]) -> None:
    """Run the engine's warm-up in `python -m tui_optim.runner.prepare`, relaying its steps;
    not at all once `stopped()`. Beside it, on the other core, a second one runs the engine
    module's compile_parts (the network's model and update; the update a surface's generic loop
    calls, and its Hessian rows), which the first never calls."""
    import pickle

    if stopped():
        raise RuntimeError("preparing the kernels stopped")
    started: list[subprocess.Popen] = []
    try:
        split = _KERNELS[problem.type][1]
        job = (problem.type, dict(problem.values), [dict(r.values) for r in runs])
        child = _start_child(pickle.dumps(("rest" if split else "all", *job)), stopped)
        started.append(child)
        if split:
            started.append(_start_child(pickle.dumps(("parts", *job)), stopped, quiet=True))
        # to load the kernels after, ready while they start: the engine, and numba's registries
        # (its first load from the cache imports them: 0.26 s, measured)
        import_module(_STEPPERS[problem.type][0])
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
        for raw in child.stdout:                         # "i<TAB>n<TAB>what" per engine step
            i, n, what = raw.decode("utf-8", "replace").rstrip("\n").split("\t", 2)
            label = f"{what} of {n}" if what.startswith("run ") else what
            report(int(i), int(n), f"{PREPARING}: {label}")
        for c in started:
            c.wait()
    finally:
        _reap(started)          # stopped, or a failure here
    for c in started:
        if c.returncode != 0:
            raise _failure(c)


def prepare_all(progress: Callable[[float], None] | None = None) -> float:
    """Compile every kernel a scenario can call into numba's cache (`tui-optim prepare`: once
    after installing, and every first start then loads instead of compiling), in two processes
    side by side: every surface kernel; the network and chain kernels (about as much work;
    splitting either as a first start does put three processes on two cores and kept the
    surface kernels waiting for one).
    progress(seconds so far) about once a second. Returns the seconds it took; raises
    RuntimeError when a process failed (its last line of error in the message)."""
    import pickle

    since = time.monotonic()
    children: list[subprocess.Popen] = []
    try:
        for job in (("all", "surface", None, None), ("all", "network", None, None)):
            children.append(_start_child(pickle.dumps(job), lambda: False))
        said = 0
        while any(c.poll() is None for c in children):     # a few lines each: no pipe fills
            time.sleep(0.1)
            if progress and time.monotonic() - since >= said + 1:
                said += 1
                progress(time.monotonic() - since)
    finally:
        _reap(children)         # stopped
    for c in children:
        if c.returncode != 0:
            raise _failure(c)
    return time.monotonic() - since


def _reap(children: list[subprocess.Popen]) -> None:
    """Kill (when still running) and wait for each of `children`, and forget them."""
    for c in children:
        _children.discard(c)
        if c.poll() is None:
            c.kill()
            c.wait()


def _failure(child: subprocess.Popen) -> RuntimeError:
    """What a compile process that ended badly said last (a quiet one: its status)."""
    err = (child.stderr.read().decode("utf-8", "replace").strip().splitlines()
           if child.stderr else [])
    return RuntimeError("preparing the kernels stopped" + (f": {err[-1]}" if err else
                                                           f" (status {child.returncode})"))


def _start_child(job: bytes, stopped: Callable[[], bool], quiet: bool = False
                 ) -> subprocess.Popen:
    """`python -m tui_optim.runner.prepare` given `job` on its stdin, killed on stop_preparing
    (and by the kernel, should this process die); `quiet`: its output is not read (a pipe
    nobody reads would stop it once full)."""
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    child = subprocess.Popen([sys.executable, "-m", "tui_optim.runner.prepare"],
                             stdin=subprocess.PIPE, stdout=out, stderr=out,
                             preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    _children.add(child)
    if stopped():                   # stopped while it started: stop_preparing missed it
        child.kill()
    try:
        child.stdin.write(job)
        child.stdin.close()
    except BrokenPipeError:         # killed meanwhile: its status says so
        pass
    return child


def _die_with_parent() -> None:
    """In the child: SIGKILL when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


@contextmanager
def _on_numba_compile(callback: Callable[[str], None]) -> Iterator[None]:
    """Call callback(function name) whenever numba compiles (its "numba:compile" event fires
    only on a cache miss, after the cache was tried)."""
    from numba.core import event

    class Listener(event.Listener):
        def on_start(self, ev: Any) -> None:
            callback(getattr(ev.data["dispatcher"].py_func, "__name__", "kernel"))

        def on_end(self, ev: Any) -> None:
            pass

    with event.install_listener("numba:compile", Listener()):
        yield
