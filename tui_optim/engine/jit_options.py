"""The njit options of the engine, in one place, with the reason for each.

KERNEL: cached (a start after the first loads machine code instead of compiling), GIL released
(the dashboard's event loop keeps running while a kernel works), and `error_model="numpy"`
(division by zero gives inf/NaN, a teaching moment, instead of raising; it also lets loops over
many paths vectorize).

PER_STEP: KERNEL without numba's reference counting, for the functions the surface loops call
once or more per step and everything they call. Every array argument of such a call is
reference-counted with atomic increments and decrements; with a dozen arrays per step that was
most of the generic loop's time (momentum on Rosenbrock: 1.7 M steps/s with it, 6 M without,
measured). These functions never allocate (numba refuses to compile an allocation without the
runtime) and only read or write arrays their caller owns, so nothing needs counting.
"""

KERNEL = dict(cache=True, nogil=True, error_model="numpy")
PER_STEP = dict(KERNEL, _nrt=False)
