"""The interpreted tier: the engine's own kernel source, run by Python without numba.

A first start would otherwise show nothing while numba compiles for tens of seconds, and even a
warm start spends most of a second importing numba. So every engine module can be loaded a second
time, under the package `PACKAGE` from the same files, in which

- `numba.njit` is the identity: a kernel call runs the kernel's own Python, the same operations
  in the same order on the same float64 arrays, hence the same bits as the compiled kernel (the
  tests compare tier-switched runs with compiled runs for every optimizer, surface and network
  feature);
- `math` and numpy's scalar functions give numba's IEEE results (inf, nan) where Python raises
  (an overflow in `math.exp`, a float divided by zero), since a diverging run is a lesson;
- a few leaf kernels whose element loops are slow in Python run their numpy twin instead: the
  same sums in the same order, a row at a time (`jit_options.twin`).

Nothing here imports numba, and neither do the copies. `module(name)` gives the interpreted copy
of `tui_optim.engine.<name>`; `to_compiled` hands a run over to the compiled tier (the session
does, at a round's boundary, once runner/build.FastKernels has loaded the kernels).
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np

PACKAGE = "tui_optim_interpreted"
_ENGINE = Path(__file__).resolve().parent        # tui_optim/engine


# -- numba's semantics where Python's differ ------------------------------------------------------

def _ieee(fn, name):
    """fn with IEEE results instead of Python's OverflowError / ValueError / ZeroDivisionError
    (numba's `error_model="numpy"`): overflow gives ±inf, a domain error nan (or -inf for a log
    of zero), as libm does."""
    def wrapped(*args):
        try:
            return fn(*args)
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            if name.startswith("log") and args and args[0] == (-1 if name == "log1p" else 0):
                return -math.inf
            return math.nan
    wrapped.__name__ = name
    return wrapped


def _math_module() -> types.ModuleType:
    m = types.ModuleType("math")
    for name in dir(math):
        obj = getattr(math, name)
        setattr(m, name, _ieee(obj, name) if callable(obj) else obj)
    return m


# numpy's own exp, log, ... use SIMD code chosen by CPU (AVX-512 on some); numba calls libm, as
# Python's math does. So on a scalar these go to math (libm), on an array to numpy (the engine's
# plain-NumPy setup code, which runs the same in both tiers).
_LIBM = ("exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "tanh", "arctan",
         "sinh", "cosh", "arcsin", "arccos", "arctan2", "power")


def _numpy_module() -> types.ModuleType:
    m = types.ModuleType("numpy")
    m.__getattr__ = lambda name: getattr(np, name)    # the rest is numpy itself, looked up lazily
    lib = _math_module()
    for name in _LIBM:
        scalar = getattr(lib, {"arctan": "atan", "arcsin": "asin", "arccos": "acos",
                               "arctan2": "atan2", "power": "pow"}.get(name, name))
        setattr(m, name, _scalar_or_array(scalar, getattr(np, name)))
    return m


def _scalar_or_array(scalar, ufunc):
    def call(*args, **kw):
        if not kw and all(isinstance(a, (float, int, np.floating, np.integer)) for a in args):
            return np.float64(scalar(*(float(a) for a in args)))
        return ufunc(*args, **kw)
    call.__name__ = ufunc.__name__
    return call


def _njit(*args, **kwargs):
    """numba.njit's signatures (@njit, @njit(...), njit(f)), doing nothing."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f


class _Dispatcher:
    """Stands for numba's CPUDispatcher type (cache_guard looks for instances: there are none)."""


def _numba_module(name: str) -> types.ModuleType:
    m = types.ModuleType(name)
    m.njit = m.jit = _njit
    m.CPUDispatcher = _Dispatcher
    return m


_REPLACED = {"math": _math_module(), "numpy": _numpy_module()}


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    """`__import__` for the copies: numba is a stand-in, math and numpy have numba's semantics,
    everything else (relative imports land in PACKAGE) is the ordinary import."""
    if level == 0:
        root = name.partition(".")[0]
        if root == "numba":
            return _numba_module(name)
        if name in _REPLACED:
            return _REPLACED[name]
    return builtins.__import__(name, globals, locals, fromlist, level)


_BUILTINS = dict(vars(builtins), __import__=_import)


# -- loading the copies --------------------------------------------------------------------------

class _Loader(importlib.machinery.SourceFileLoader):
    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__["__builtins__"] = _BUILTINS
        code = self.get_code(module.__name__)
        with np.errstate(all="ignore"):
            exec(code, module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds PACKAGE.engine[.x[.y]] in tui_optim/engine's files; PACKAGE itself is empty."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = []
            return spec
        prefix = PACKAGE + ".engine"
        if fullname != prefix and not fullname.startswith(prefix + "."):
            return None
        parts = fullname[len(prefix):].lstrip(".").split(".") if fullname != prefix else []
        base = _ENGINE.joinpath(*parts)
        if (base / "__init__.py").exists():
            return importlib.util.spec_from_file_location(
                fullname, base / "__init__.py", loader=_Loader(fullname, str(base / "__init__.py")),
                submodule_search_locations=[str(base)])
        file = base.with_suffix(".py")
        if file.exists():
            return importlib.util.spec_from_file_location(
                fullname, file, loader=_Loader(fullname, str(file)))
        return None


_FINDER = _Finder()


def module(name: str) -> types.ModuleType:
    """The interpreted copy of `tui_optim.engine.<name>` (e.g. "surface_stepper",
    "network.stepper"), loaded once."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)   # before PathFinder, which would load them as they are
    return importlib.import_module(f"{PACKAGE}.engine.{name}")


def is_interpreted(module_name: str) -> bool:
    """Whether a module of this name is one of the interpreted copies."""
    return module_name.partition(".")[0] == PACKAGE


def _compiled(module_name: str) -> types.ModuleType:
    return importlib.import_module("tui_optim" + module_name[len(PACKAGE):])


def to_compiled(obj, _memo=None):
    """The same object graph on the compiled tier: every instance, function or class of an
    interpreted module becomes its namesake in the real module, sharing the very same arrays
    (the state of a run is its arrays; the classes only carry code). `obj` must not be used
    afterwards. Containers are rebuilt, shared objects stay shared."""
    memo = {} if _memo is None else _memo
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, (np.ndarray, np.generic, np.random.Generator, str, bytes, int, float,
                        complex, bool, type(None), types.ModuleType)):
        return obj
    if isinstance(obj, (types.FunctionType, type)):
        mod = getattr(obj, "__module__", "") or ""
        if not is_interpreted(mod):
            return obj
        name = getattr(obj, "loops", obj).__qualname__      # a twin stands for its kernel
        target = _compiled(mod)
        for part in name.split("."):
            target = getattr(target, part)
        memo[key] = target
        return target
    if isinstance(obj, list):
        out = memo[key] = []
        out.extend(to_compiled(v, memo) for v in obj)
        return out
    if isinstance(obj, dict):
        out = memo[key] = {}
        out.update((to_compiled(k, memo), to_compiled(v, memo)) for k, v in obj.items())
        return out
    if isinstance(obj, (tuple, set, frozenset)) and type(obj) in (tuple, set, frozenset):
        out = memo[key] = type(obj)(to_compiled(v, memo) for v in obj)
        return out
    cls = type(obj)
    if not is_interpreted(cls.__module__):
        raise TypeError(f"cannot hand {cls.__name__} over to the compiled tier")
    new = object.__new__(to_compiled(cls, memo))
    memo[key] = new
    new.__dict__.update({k: to_compiled(v, memo) for k, v in vars(obj).items()})
    return new
