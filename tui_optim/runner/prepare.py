"""`python -m tui_optim.runner.prepare`: compile a scenario's kernels into numba's cache, in a
process of its own (runner/build.py explains why), reading (role, problem type, problem, runs)
as a pickle on stdin from its parent. Roles: "all" the problem's kernels, "rest" all but what
the engine module's compile_parts compiles, and "parts" that, silently, beside a "rest"
process; the other two print each engine step as "i<TAB>n<TAB>what". It compiles at the LLVM
level jit_options.OPT_LEVELS gives the problem type (use_opt_level)."""

from __future__ import annotations

import os
import pickle
import sys
from importlib import import_module


def main() -> int:
    from tui_optim.runner.build import _STEPPERS

    role, ptype, problem, runs = pickle.loads(sys.stdin.buffer.read())   # from our own parent
    use_opt_level(ptype)
    engine = import_module(_STEPPERS[ptype][0])
    if role == "parts":
        engine.compile_parts(ptype, problem, runs)
        return 0

    def step(i: int, n: int, what: str) -> None:
        print(f"{i}\t{n}\t{what}", flush=True)

    rest = {"parts": False} if role == "rest" else {}
    engine.warm_up(problem=problem, runs=runs, progress=step, **rest)
    return 0


def use_opt_level(ptype: str) -> None:
    """Have numba compile this process's kernels at jit_options.OPT_LEVELS[ptype] (when it
    names one, and NUMBA_OPT does not): before numba builds its code generator, which takes
    the level then (numba re-reads NUMBA_OPT at every compile for the rest)."""
    from tui_optim.engine.jit_options import OPT_LEVELS

    if ptype in OPT_LEVELS:
        os.environ.setdefault("NUMBA_OPT", str(OPT_LEVELS[ptype]))


if __name__ == "__main__":
    sys.exit(main())
