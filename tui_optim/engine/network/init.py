"""Parameter initialisation, drawn from the run's generator (so init is part of the seed).

Fan-in m = inputs of the layer, fan-out n = its units:
  zeros; constant (scale); normal N(0, std²); uniform U(−scale, scale); xavier N(0, 1/m);
  he N(0, 2/m); normalized U(±√(6/(m+n))) (Glorot & Bengio); sparse: exactly k non-zero
  incoming weights per unit, N(0, 1/k) so a unit's input variance matches its inputs'.
Biases take `bias` (e.g. 0.1 keeps ReLUs alive); PReLU slopes start at `slope`; γ = 1, β = 0.
"""

import numpy as np
from . import codes as C
from ..rng import fill_normal, fill_uniform, normal, randbelow


def init_params(spec, theta, code, std, scale, sparse_k, bias, slope, rng):
    """Fill θ layer by layer. Plain NumPy over whole layers (drawn with the engine generator's
    fill_normal / fill_uniform, the same draws in the same order as one normal() per weight):
    it runs once per run, so it is not worth a compiled kernel of its own (that cost 2 to 4 s
    of cold compile)."""
    L = spec.shape[0]
    for l in range(L):
        r = spec[l]
        m = int(r[C.N_IN])
        n = int(r[C.N_OUT])
        nk = n * int(r[C.K])
        o = int(r[C.W])
        w = theta[o:o + m * nk]
        if code == C.I_SPARSE:
            w[:] = 0.0
            kk = min(int(sparse_k), m)
            rows = np.arange(m)
            sd = 1.0 / np.sqrt(kk)
            for j in range(nk):
                for t in range(kk):  # partial Fisher-Yates: kk distinct rows
                    s = t + int(randbelow(rng, m - t))
                    rows[t], rows[s] = rows[s], rows[t]
                    w[rows[t] * nk + j] = sd * normal(rng)
        elif code == C.I_ZEROS:
            w[:] = 0.0
        elif code == C.I_CONSTANT:
            w[:] = scale
        elif code in (C.I_NORMAL, C.I_XAVIER, C.I_HE):
            z = np.empty(m * nk)
            fill_normal(rng, z)
            if code == C.I_NORMAL:
                w[:] = std * z
            elif code == C.I_XAVIER:
                w[:] = z / np.sqrt(m)
            else:
                w[:] = z * np.sqrt(2.0 / m)
        else:  # uniform, normalized
            u = np.empty(m * nk)
            fill_uniform(rng, u)
            if code == C.I_UNIFORM:
                w[:] = scale * (2.0 * u - 1.0)
            else:
                w[:] = np.sqrt(6.0 / (m + n)) * (2.0 * u - 1.0)
        theta[r[C.B]:r[C.B] + nk] = bias
        if r[C.ACT] == C.PRELU and l < L - 1:
            theta[r[C.SLOPE]:r[C.SLOPE] + n] = slope
        if r[C.BN]:
            theta[r[C.GAMMA]:r[C.GAMMA] + nk] = 1.0
            theta[r[C.BETA]:r[C.BETA] + nk] = 0.0


def warm_up_init(rng) -> None:
    """Compile (or load) the generator functions init uses, so no init compiles mid-session."""
    fill_normal(rng, np.empty(1))
    fill_uniform(rng, np.empty(1))
    randbelow(rng, 2)
    normal(rng)
