"""Parameter initialisation, drawn from the run's generator (so init is part of the seed).

Fan-in m = inputs of the layer, fan-out n = its units:
  zeros; constant (scale); normal N(0, std²); uniform U(−scale, scale); xavier N(0, 1/m);
  he N(0, 2/m); normalized U(±√(6/(m+n))) (Glorot & Bengio); sparse: exactly k non-zero
  incoming weights per unit, N(0, 1/k) so a unit's input variance matches its inputs'.
Biases take `bias` (e.g. 0.1 keeps ReLUs alive); PReLU slopes start at `slope`; γ = 1, β = 0.
"""

import numpy as np
from numba import njit

from . import codes as C
from ..rng import normal, randbelow, uniform


@njit(cache=True, nogil=True, error_model="numpy")
def init_params(spec, theta, code, std, scale, sparse_k, bias, slope, rng):
    L = spec.shape[0]
    for l in range(L):
        r = spec[l]
        m = r[C.N_IN]
        n = r[C.N_OUT]
        nk = n * r[C.K]
        o = r[C.W]
        if code == C.I_SPARSE:
            for q in range(m * nk):
                theta[o + q] = 0.0
            kk = min(sparse_k, m)
            rows = np.arange(m)
            sd = 1.0 / np.sqrt(kk)
            for j in range(nk):
                for t in range(kk):  # partial Fisher-Yates: kk distinct rows
                    s = t + randbelow(rng, m - t)
                    tmp = rows[t]
                    rows[t] = rows[s]
                    rows[s] = tmp
                    theta[o + rows[t] * nk + j] = sd * normal(rng)
        else:
            for q in range(m * nk):
                if code == C.I_ZEROS:
                    v = 0.0
                elif code == C.I_CONSTANT:
                    v = scale
                elif code == C.I_NORMAL:
                    v = std * normal(rng)
                elif code == C.I_UNIFORM:
                    v = scale * (2.0 * uniform(rng) - 1.0)
                elif code == C.I_XAVIER:
                    v = normal(rng) / np.sqrt(m)
                elif code == C.I_HE:
                    v = normal(rng) * np.sqrt(2.0 / m)
                else:  # normalized
                    v = np.sqrt(6.0 / (m + n)) * (2.0 * uniform(rng) - 1.0)
                theta[o + q] = v
        for q in range(nk):
            theta[r[C.B] + q] = bias
        if r[C.ACT] == C.PRELU and l < L - 1:
            for q in range(n):
                theta[r[C.SLOPE] + q] = slope
        if r[C.BN]:
            for q in range(nk):
                theta[r[C.GAMMA] + q] = 1.0
                theta[r[C.BETA] + q] = 0.0
