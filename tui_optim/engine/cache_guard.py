"""Drop numba's cached surface kernels when any engine source they are built from changed.

numba keys a cached function on its own file's timestamp only: edit surfaces.py and the cached
advance_kernel (in surface_kernel.py), which inlined the old surfaces, is silently reused. Here a
stamp of every source file's (mtime, size) sits next to the cache; when it differs, every cached
dispatcher of these modules is flushed once and recompiles on first use.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba.core.registry import CPUDispatcher

_HERE = Path(__file__).resolve().parent
_SOURCES = ("rng.py", "surfaces.py", "data_surfaces.py", "sparse_coding.py", "schedules.py",
            "optimizers.py", "lbfgs.py", "linalg.py", "surface_kernel.py", "batch.py")
_done: set[str] = set()


def _digest() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        try:
            st = os.stat(_HERE / name)
        except OSError:
            continue
        h.update(f"{name}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def flush_stale(modules, name: str) -> None:
    """Flush the cached dispatchers of `modules` if the engine sources changed since the stamp
    `name` was written. Never raises: at worst numba's own (file-local) check applies."""
    if name in _done:
        return
    _done.add(name)
    try:
        dispatchers = [obj for m in modules for obj in vars(m).values()
                       if isinstance(obj, CPUDispatcher) and obj.__module__ == m.__name__
                       and getattr(getattr(obj, "_cache", None), "cache_path", None)]
        if not dispatchers:
            return
        stamp = Path(dispatchers[0]._cache.cache_path) / f"tui_optim_{name}.stamp"
        digest = _digest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        for d in dispatchers:
            d._cache.flush()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except Exception:  # noqa: BLE001 - a read-only or odd cache must not stop the engine
        pass
