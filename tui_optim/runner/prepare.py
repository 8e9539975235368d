"""`python -m tui_optim.runner.prepare`: compile a scenario's kernels into numba's cache, in a
process of its own (runner/build.py explains why), reading (problem type, problem, runs, parts)
as a pickle on stdin from its parent, and printing each engine step as "i<TAB>n<TAB>what"; with
parts False, all but the engine module's PARTS, without running them (a second process compiles
those: given ("parts", problem type, ...), silently)."""

from __future__ import annotations

import pickle
import sys
from importlib import import_module


def main() -> int:
    from tui_optim.runner.build import _STEPPERS

    ptype, problem, runs, parts = pickle.loads(sys.stdin.buffer.read())   # from our own parent
    if ptype == "parts":
        import_module(_STEPPERS[problem][0]).compile_parts(problem)
        return 0
    module, _ = _STEPPERS[ptype]

    def step(i: int, n: int, what: str) -> None:
        print(f"{i}\t{n}\t{what}", flush=True)

    beside = {} if parts else {"parts": False}
    import_module(module).warm_up(problem=problem, runs=runs, progress=step, **beside)
    return 0


if __name__ == "__main__":
    sys.exit(main())
