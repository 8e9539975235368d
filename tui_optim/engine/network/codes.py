"""Integer codes and array layouts shared by the network kernels.

Kernels dispatch on small integers (never on functions or jitclasses) so that one cached
compilation serves every activation, loss and init; the names and codes are the catalog's
(engine/catalog.py).
"""

from .. import catalog, series

# --- activations, losses, inits: names and codes from the catalog ----------------------
ACTIVATIONS = catalog.codes(catalog.ACTIVATIONS)
LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU, PRELU, ELU, MAXOUT = (ACTIVATIONS[n] for n in (
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout"))
LOSSES = catalog.codes(catalog.LOSSES)
CROSS_ENTROPY, BCE, MSE = (LOSSES[n] for n in ("cross_entropy", "bce", "mse"))
INITS = catalog.codes(catalog.INITS)
I_ZEROS, I_CONSTANT, I_NORMAL, I_UNIFORM, I_XAVIER, I_HE, I_NORMALIZED, I_SPARSE = (INITS[n] for n in (
    "zeros", "constant", "normal", "uniform", "xavier", "he", "normalized", "sparse"))

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
