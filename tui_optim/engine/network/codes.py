"""Integer codes and array layouts shared by the network kernels.

Kernels dispatch on small integers (never on functions or jitclasses) so that one cached
compilation serves every activation, loss and init; the Python side maps names to codes here.
"""

from .. import series

# --- activations -------------------------------------------------------------------------
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, PRELU, ELU, MAXOUT = range(8)
ACTIVATIONS = {
    "linear": LINEAR, "sigmoid": SIGMOID, "tanh": TANH, "relu": RELU,
    "leaky_relu": LEAKY_RELU, "prelu": PRELU, "elu": ELU, "maxout": MAXOUT,
}

# --- losses ------------------------------------------------------------------------------
CROSS_ENTROPY, BCE, MSE = range(3)
LOSSES = {"cross_entropy": CROSS_ENTROPY, "bce": BCE, "mse": MSE}

# --- inits -------------------------------------------------------------------------------
I_ZEROS, I_CONSTANT, I_NORMAL, I_UNIFORM, I_XAVIER, I_HE, I_NORMALIZED, I_SPARSE = range(8)
INITS = {
    "zeros": I_ZEROS, "constant": I_CONSTANT, "normal": I_NORMAL, "uniform": I_UNIFORM,
    "xavier": I_XAVIER, "he": I_HE, "normalized": I_NORMALIZED, "sparse": I_SPARSE,
}

# --- per-layer spec columns (int64 array, one row per layer) ----------------------------
# Offsets point into the flat parameter vector (W, B, SLOPE, GAMMA, BETA, P0, P1), the float
# work buffer (Z .. DIN), the int buffer (ARG) or the batch-norm state (BNS).
(N_IN, N_OUT, K, ACT, BN, SKIP, W, B, SLOPE, GAMMA, BETA, Z, U, ZH, A, H, MASK, DC, DCW, ARG,
 DZ, DU, DH, BNS, P0, P1, IN, DIN) = range(28)
NCOL = 28

# --- layer float hyperparameters (fh array) ----------------------------------------------
FH_LEAKY, FH_ELU, FH_DROPOUT, FH_DROPCONNECT, FH_WD, FH_BN_MOM, FH_BN_EPS = range(7)
NFH = 7

# --- forward modes -----------------------------------------------------------------------
EVAL = 0        # running batch-norm statistics, no dropout: an example's output is its own
TRAIN = 1       # batch statistics, the sampled dropout / DropConnect masks
PROBE = 2       # batch statistics, no masks (histograms, sharpness): deterministic

# --- per-layer series, in kernel column order --------------------------------------------
# spread: mean over the batch of the std across a layer's units (0 when the units are identical)
LAYER_SERIES = series.LAYER
NLS = len(LAYER_SERIES)
# train_loss: evaluation-mode loss on the whole training set (with val_loss, the gap);
# epoch: passes over the training data so far
GLOBAL_SERIES = series.NETWORK
NGS = len(GLOBAL_SERIES)
