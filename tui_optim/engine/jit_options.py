"""The njit options of the engine, in one place, with the reason for each; and how a kernel
takes other kernels as pointers (call_through_pointers).

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

# LLVM's optimization level for the kernels of a problem type, where it is not numba's default
# 3. numba reads it process-wide (NUMBA_OPT), so the processes that compile a type's kernels
# set it (runner/prepare.py). The network's kernels at 1 compiled 15 to 20 % sooner than at 3
# (measured interleaved, CPU time: train_steps 11.2 to 11.4 s against 12.5 to 13.9 s; the model
# 8.6 to 10.0 s against 11.4 to 12.4 s) and trained no slower (2-64-64-3 MLP 322 to 466 k
# samples/s against 270 to 355 k; with batch norm 251 to 337 k against 179 to 272 k). The level
# never changes a result: without fast-math LLVM keeps IEEE arithmetic as written at every level.
# The surface kernels keep 3: their loops are the ones measured against C.
OPT_LEVELS = {"network": 1, "chain": 1}

# This module's interpreted copy (engine/interpreted.py) runs the kernels as plain Python.
INTERPRETED = __name__.partition(".")[0] != "tui_optim"


def twin(numpy_version):
    """Decorate a kernel whose element loops are too slow in Python: the interpreted tier runs
    `numpy_version` instead, the same arithmetic on every element in the same order, a row (or a
    whole array) per numpy operation. Tests compare the two bit for bit. The compiled tier is
    untouched. `numpy_version.loops` is the kernel's own Python, for the cases it leaves to it."""
    def choose(kernel):
        if not INTERPRETED:
            return kernel
        numpy_version.loops = kernel
        return numpy_version
    return choose


def call_through_pointers(kernel, fns, args):
    """kernel(*functions, *args) for `fns`, pairs (njit function, numba signature string), each
    function passed as a pointer (numba's first-class function type) instead of linked in:
    numba optimizes a kernel's callees again inside it, so a kernel that links big ones
    compiles for seconds after them, on one core (the network's train_steps: 7.5 s after
    forward and backward, measured). Through pointers they compile side by side, each once.
    `kernel` compiles for these argument types alone (compile_through_pointers) and is never
    specialized on the functions: that would link them after all."""
    if not INTERPRETED:
        compile_through_pointers(kernel, fns, args)
    return kernel(*(f for f, _ in fns), *args)


def compile_through_pointers(kernel, fns, args):
    """Compile kernel(*functions, *args) as call_through_pointers calls it, without compiling
    the functions: what a process compiling kernels beside theirs does. Once: a pointer kernel
    has one set of argument types."""
    if kernel.overloads:
        return
    from numba import typeof, types

    pointers = (types.FunctionType(full_signature(sig)) for _, sig in fns)
    kernel.compile((*pointers, *(typeof(a) for a in args)))
    kernel.disable_compile()


def compile_pointers(fns):
    """Compile each of `fns` (pairs as call_through_pointers takes them) as a kernel taking it
    calls it: what a process compiling them beside that kernel does."""
    for f, signature in fns:
        f.compile(full_signature(signature))


def full_signature(signature):
    """numba's Signature of a signature string, return type included: how a function passed
    as a pointer is compiled, and so cached (numba's cache keys on what it is given)."""
    from numba.core.sigutils import normalize_signature

    args, ret = normalize_signature(signature)
    return ret(*args)
