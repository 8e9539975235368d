"""Turn a validated scenario run into an engine stepper: the one place that maps problem types
to engine classes, so the session never looks inside a stepper."""

from __future__ import annotations

import time
from contextlib import contextmanager
from importlib import import_module
from typing import Any, Callable, Iterator

# problem type -> (module, stepper class). Imported lazily: a surface scenario never pays for
# loading (or compiling) the network kernels.
_STEPPERS = {
    "surface": ("tui_optim.engine.surface_stepper", "SurfaceStepper"),
    "network": ("tui_optim.engine.network.stepper", "NetworkStepper"),
    "chain": ("tui_optim.engine.network.stepper", "ChainStepper"),
}


def make_stepper(problem: Any, run: Any) -> Any:
    """A fresh stepper for `run` (a RunSpec) on `problem` (a ProblemSpec)."""
    module, cls = _STEPPERS[problem.type]
    stepper_cls = getattr(import_module(module), cls)
    return stepper_cls(problem.values, run.values, run.steps, run.seed)


LOADING = "loading kernels…"
PREPARING = "preparing fast kernels (first start only)"

# Seconds a cold start of each problem type took, measured idle on a 2-core AMD EPYC
# (bench_surfaces: all surface kernels 12.6-15.2 s; a network scenario about a minute and a
# half). The first cold start on a machine estimates from these; later ones from what this
# machine measured last time (COSTS_FILE).
DEFAULT_COSTS = {"surface": 15.0, "network": 90.0, "chain": 30.0}
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


def warm_up(problem: Any, runs: Any, progress: Callable[[int, int, str], None] | None = None) -> None:
    """Load from numba's cache (or compile) just the kernels these runs use. Every engine
    module has `warm_up(problem=, runs=, progress=)` taking the plain mappings. progress(i, n,
    label) says "loading kernels…" while numba loads from its cache; once it really compiles,
    "preparing fast kernels (first start only): run 2 of 3", in words a first-time user
    understands (never a numba function name). A cold start's duration is remembered, so the
    next one can say how long it will take (compile_estimate)."""
    module, _ = _STEPPERS[problem.type]
    report = progress or (lambda i, n, what: None)
    state: dict[str, Any] = {"i": 0, "n": 1, "what": "", "since": None}

    def label() -> str:
        if state["since"] is None:
            return LOADING
        return f"{PREPARING}: {state['what']}" if state["what"] else PREPARING

    def engine_step(i: int, n: int, what: str) -> None:
        state.update(i=i, n=n, what=f"{what} of {n}" if what.startswith("run ") else what)
        report(i, n, label())

    def compiling(name: str) -> None:
        if state["since"] is None:
            state["since"] = time.monotonic()
            report(state["i"], state["n"], label())

    report(0, 1, LOADING)
    with _on_numba_compile(compiling):
        import_module(module).warm_up(problem=problem.values, runs=[r.values for r in runs],
                                      progress=engine_step)
    if state["since"] is not None:
        _remember_cost(problem.type, time.monotonic() - state["since"])


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
