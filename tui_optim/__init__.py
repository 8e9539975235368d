"""tui_optim: watch optimizers and small networks learn, live in the terminal.

Data flows one way (see docs/architecture.md):
scenario file -> Scenario -> runner (engine in a thread) -> Chunk stream -> trace / recorder / summary.
"""

import os as _os
from pathlib import Path as _Path

__version__ = "0.1.0"


def _point_numba_cache_somewhere_writable() -> None:
    """numba caches compiled kernels next to their module; in a read-only site-packages that
    fails silently and every start recompiles. Point it at a user cache folder instead.
    Must run before numba is imported, hence here."""
    if "NUMBA_CACHE_DIR" in _os.environ or _os.access(_Path(__file__).parent, _os.W_OK):
        return
    base = _os.environ.get("XDG_CACHE_HOME") or str(_Path.home() / ".cache")
    _os.environ["NUMBA_CACHE_DIR"] = str(_Path(base) / "tui-optim" / "numba")


_point_numba_cache_somewhere_writable()
