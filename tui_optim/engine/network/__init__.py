"""Networks: small MLPs trained by exact backprop, and the gradient-flow chains (curriculum
16-28).

    codes        integer codes (activations, losses, inits) and array layouts
    layers       dense, batch norm (train/eval, running averages), activations with inverted
                 dropout and skip connections fused in, tanh to float64 accuracy
    losses       softmax cross-entropy, binary cross-entropy, MSE
    model        the flat-θ network: Layout, forward, backward, loss_grad, masks
    init         zeros, constant, normal, uniform, xavier, he, normalized, sparse
    datasets     seeded synthetic sets, CSV, split, standardization
    instruments  per-layer stats, histograms, boundary grid, validation, gradient check,
                 sharpness (power iteration on finite-difference Hessian-vector products)
    train        the training kernel (many steps per call; optimizers and schedules are
                 engine.optimizers / engine.schedules on the flat θ)
    chain        ChainStepper: diag(a, b) chains and the deep product ŷ = x w₁⋯w_l
    stepper      NetworkStepper, warm_up()

Import `tui_optim.engine.network.stepper` for the steppers. Importing the package checks that
the cached kernels are not stale (engine/cache_guard.py); nothing compiles until used.
"""

from . import chain, init, instruments, layers, losses, model, train  # noqa: E402
from ..cache_guard import flush_stale  # noqa: E402

# Before any kernel runs: numba would reuse a cached kernel whose callees' sources changed.
flush_stale([layers, losses, model, init, instruments, train, chain])
