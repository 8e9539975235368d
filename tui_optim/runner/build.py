"""Turn a validated scenario run into an engine stepper: the one place that maps problem types
to engine classes, so the session never looks inside a stepper."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

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


def warm_up(problem: Any, runs: Any, progress: Callable[[int, int, str], None] | None = None) -> None:
    """Compile (or load from numba's cache) just the kernels these runs use. Every engine
    module has `warm_up(problem=, runs=, progress=)` taking the plain mappings."""
    module, _ = _STEPPERS[problem.type]
    import_module(module).warm_up(problem=problem.values, runs=[r.values for r in runs],
                                  progress=progress)
