"""Drop numba's cached kernels when any engine source they are built from changed.

numba keys a cached function on its own file's timestamp only: edit surfaces.py and the cached
generic_kernel (in surface_kernel.py), which has the old surfaces compiled into it, is silently
reused; edit layers.py and the network's cached forward and backward (model.py) are. So each
group of kernels (the surface kernels, the batch kernels, the network kernels) calls
`flush_stale(modules)` once at import, before any of its kernels runs. The sources a module's
kernels are built from are found, not listed: every `tui_optim.engine` module reachable from it
through its globals (modules it imports, and the modules of the functions and constants it
imports), transitively.
A stamp of those files' (path, mtime, size) per module sits next to numba's cache; when it
differs, that module's cached dispatchers are flushed once and recompile on first use.
"""

from __future__ import annotations

import hashlib
import os
import sys
import types
from pathlib import Path

from numba.core.registry import CPUDispatcher

_HERE = Path(__file__).resolve().parent
_PACKAGE = "tui_optim.engine"
_done: set[str] = set()


def reachable_modules(modules) -> list[types.ModuleType]:
    """`modules` (whatever package they are in) and every tui_optim.engine module their globals
    reach, transitively."""
    seen: dict[str, types.ModuleType] = {}
    given = {getattr(m, "__name__", "") for m in modules}
    stack = list(modules)
    while stack:
        m = stack.pop()
        name = getattr(m, "__name__", "")
        if name in seen or not (name in given or name == _PACKAGE
                                or name.startswith(_PACKAGE + ".")):
            continue
        seen[name] = m
        for obj in list(vars(m).values()):
            if isinstance(obj, types.ModuleType):
                stack.append(obj)
                continue
            owner = getattr(obj, "__module__", None)
            if isinstance(owner, str) and owner.startswith(_PACKAGE) and owner not in seen:
                mod = sys.modules.get(owner)
                if mod is not None:
                    stack.append(mod)
    return [seen[k] for k in sorted(seen)]


def source_files(modules) -> list[Path]:
    """The source files of reachable_modules(modules)."""
    files = []
    for m in reachable_modules(modules):
        f = getattr(m, "__file__", None)
        if f:
            files.append(Path(f).resolve())
    return sorted(set(files))


def _digest(files) -> str:
    h = hashlib.sha256()
    for f in files:
        try:
            st = os.stat(f)
            rel = f.relative_to(_HERE) if f.is_relative_to(_HERE) else f
        except (OSError, ValueError):
            continue
        h.update(f"{rel}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def _stamp_path(module, dispatchers) -> Path:
    return Path(dispatchers[0]._cache.cache_path) / f"tui_optim_{module.__name__}.stamp"


def _flush(module, dispatchers) -> None:
    for d in dispatchers:
        d._cache.flush()


def _module_dispatchers(m) -> list:
    """The compiled functions a module holds: its globals, and the values of its global dicts
    (kernels made per case by a factory, engine/batch.py)."""
    found = []
    for obj in vars(m).values():
        for o in (obj.values() if isinstance(obj, dict) else (obj,)):
            if isinstance(o, CPUDispatcher):
                found.append(o)
    return found


def flush_stale(modules) -> list[str]:
    """For `modules` and every engine module they reach, once per process each: flush that
    module's cached dispatchers if the sources reachable from *it* changed since its stamp was
    written. Stamps are per module, not per kernel group, because groups share modules (the
    surface and network kernels both use surfaces.py): a per-group stamp flushed the other
    group's freshly cached helpers the first time a group was used. Returns the names of the
    modules flushed. Never raises: at worst numba's own (file-local) check applies."""
    flushed: list[str] = []
    try:
        for m in reachable_modules(modules):
            if m.__name__ in _done:
                continue
            _done.add(m.__name__)
            dispatchers = [obj for obj in _module_dispatchers(m) if obj.__module__ == m.__name__
                           and getattr(getattr(obj, "_cache", None), "cache_path", None)]
            if not dispatchers:
                continue
            stamp = _stamp_path(m, dispatchers)
            digest = _digest(source_files([m]))
            if stamp.exists() and stamp.read_text() == digest:
                continue
            _flush(m, dispatchers)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest)
            flushed.append(m.__name__)
    except Exception:  # noqa: BLE001 - a read-only or odd cache must not stop the engine
        pass
    return flushed
