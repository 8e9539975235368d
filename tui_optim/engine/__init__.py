"""The engine: numerics only (numpy + numba). It knows nothing of files, threads or screens.

Every problem type provides a *stepper*: a plain Python object over plain float64 arrays whose
`advance(n)` runs n steps in one `@njit(cache=True, nogil=True)` kernel call and returns the
per-record series. The runner drives steppers; it never looks inside them.

    class Stepper(Protocol):
        series_names: tuple[str, ...]     # the names every advance() returns
        steps_done: int                   # records produced so far
        def advance(self, n: int) -> tuple[dict[str, np.ndarray], int | None]:
            # Up to n records. Returns (series, diverged_at). Each series has m values; m == n
            # unless the run went non-finite, in which case diverged_at is the absolute index of
            # the first non-finite record, that record is the last one returned, and the stepper
            # refuses to advance further.
        def snapshots(self) -> dict[str, np.ndarray]:
            # Arrays describing the state now (histograms, decision boundary). Static ones
            # (the surface grid) are returned on the first call only.
        def set_lr_scale(self, scale: float) -> None:
            # Multiply ε (on top of the schedule) from the next step on: the live `[`/`]` knob.

Every stepper module also has `warm_up(problem=None, runs=None, progress=None)`: compile (or
load from numba's cache) the kernels those runs will use, so the UI can show "compiling
kernels…" instead of freezing on the first step.

Record k is the state at θ_k before update k+1 (see tui_optim.chunk). Steppers are built from
plain mappings (the validated problem table and a run's resolved keys), a step budget and a seed.
All randomness comes from per-run generator state kept in arrays (engine.rng), so results do not
depend on how the run is cut into chunks.
"""
