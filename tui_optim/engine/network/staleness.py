"""Drop the network package's cached kernels when any source they are built from changed.

numba keys a cached function on its own file's timestamp only: edit layers.py and the cached
train_steps (train.py), which has the old layers compiled into it, is silently reused. So a
stamp of every source file's (mtime, size) — this package and the engine modules its kernels
call (rng, optimizers, schedules and what those call) — sits next to the cache; when it
differs, every cached dispatcher of the package is flushed once and recompiles on first use.
Must run before any kernel of the package is called in the process (stepper.py does it at
import).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba.core.registry import CPUDispatcher

_HERE = Path(__file__).resolve().parent
_ENGINE = ("rng.py", "optimizers.py", "schedules.py", "lbfgs.py", "linalg.py", "surfaces.py",
           "data_surfaces.py")
_done = False


def _digest() -> str:
    h = hashlib.sha256()
    files = sorted(_HERE.glob("*.py")) + [_HERE.parent / n for n in _ENGINE]
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        h.update(f"{f.name}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def flush_if_stale(modules) -> bool:
    """Flush every cached dispatcher of `modules` if the sources changed since the last stamp.
    Returns True when it flushed. Never raises: at worst numba's own file-local check applies."""
    global _done
    if _done:
        return False
    _done = True
    try:
        dispatchers = [obj for m in modules for obj in vars(m).values()
                       if isinstance(obj, CPUDispatcher) and obj.__module__ == m.__name__
                       and getattr(getattr(obj, "_cache", None), "cache_path", None)]
        if not dispatchers:
            return False
        stamp = Path(dispatchers[0]._cache.cache_path) / "tui_optim_network.stamp"
        digest = _digest()
        if stamp.exists() and stamp.read_text() == digest:
            return False
        for d in dispatchers:
            d._cache.flush()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
        return True
    except Exception:  # noqa: BLE001 - a read-only or odd cache must not stop the engine
        return False
