"""Turn a validated scenario run into an engine stepper: the one place that maps problem types
to engine classes, so the session never looks inside a stepper."""

from __future__ import annotations

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
COMPILING = "compiling kernels (first start only, cached afterwards)…"


def warm_up(problem: Any, runs: Any, progress: Callable[[int, int, str], None] | None = None) -> None:
    """Load from numba's cache (or compile) just the kernels these runs use. Every engine
    module has `warm_up(problem=, runs=, progress=)` taking the plain mappings. progress(i, n,
    label) says "loading kernels…" until numba really compiles one, then "compiling …" with
    the function's name: a warm start should not claim to compile, a cold one should say why
    it takes half a minute."""
    module, _ = _STEPPERS[problem.type]
    report = progress or (lambda i, n, what: None)
    state = {"i": 0, "n": 1, "compiling": False}

    def engine_step(i: int, n: int, what: str) -> None:
        state.update(i=i, n=n)
        report(i, n, f"{COMPILING if state['compiling'] else LOADING} {what}")

    def compiling(name: str) -> None:
        state["compiling"] = True
        report(state["i"], state["n"], f"{COMPILING} {name}")

    report(0, 1, LOADING)
    with _on_numba_compile(compiling):
        import_module(module).warm_up(problem=problem.values, runs=[r.values for r in runs],
                                      progress=engine_step)


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
