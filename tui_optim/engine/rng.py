"""Per-run random numbers whose whole state is a uint64 array.

xoshiro256** (Blackman and Vigna), seeded through splitmix64. The state is four uint64 words
in a plain array, so a kernel can carry it across calls: a run draws the same numbers however it
is cut into chunks, and no global generator is touched (runs stay independent and reproducible).
Normals come from Box-Muller using two uniforms per draw (no cached spare, so the state is just
the four words).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .jit_options import PER_STEP, twin

_M64 = (1 << 64) - 1


def seed_state(seed: int) -> np.ndarray:
    """A fresh generator state (uint64[4]) from an int, via splitmix64 (never all zero)."""
    x = int(seed) & _M64
    words = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & _M64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        words.append(z ^ (z >> 31))
    if not any(words):
        words[0] = 1
    return np.array(words, dtype=np.uint64)


@njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(**PER_STEP)
def next_u64(s):
    """Advance the state and return the next 64-bit output."""
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return result


@njit(**PER_STEP)
def uniform(s):
    """A float64 uniform on [0, 1) with 53 random bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(**PER_STEP)
def normal(s):
    """A standard normal draw (Box-Muller, two uniforms per draw)."""
    u1 = 1.0 - uniform(s)  # in (0, 1]: log is finite
    u2 = uniform(s)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit(**PER_STEP)
def randbelow(s, n):
    """An int in [0, n) (Lemire's multiply-shift on the top 32 bits; n < 2**32)."""
    x = next_u64(s) >> np.uint64(32)
    return np.int64((x * np.uint64(n)) >> np.uint64(32))


def _draws(s, count):
    """`count` outputs of next_u64 on Python ints (numpy's uint64 scalars are ten times slower),
    the state written back: the interpreted twins' generator."""
    s0, s1, s2, s3 = (int(v) for v in s)
    out = []
    for _ in range(count):
        x = (s1 * 5) & _M64
        out.append((((((x << 7) | (x >> 57)) & _M64) * 9) & _M64))
        t = (s1 << 17) & _M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & _M64
    s[:] = np.array([s0, s1, s2, s3], dtype=np.uint64)
    return out


def _fill_uniform_ints(s, out):
    out[:] = [(x >> 11) * (1.0 / 9007199254740992.0) for x in _draws(s, out.shape[0])]


def _fill_normal_ints(s, out):
    u = _draws(s, 2 * out.shape[0])
    for i in range(out.shape[0]):
        u1 = 1.0 - (u[2 * i] >> 11) * (1.0 / 9007199254740992.0)
        u2 = (u[2 * i + 1] >> 11) * (1.0 / 9007199254740992.0)
        out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@twin(_fill_uniform_ints)
@njit(cache=True, nogil=True)
def fill_uniform(s, out):
    for i in range(out.shape[0]):
        out[i] = uniform(s)


@twin(_fill_normal_ints)
@njit(cache=True, nogil=True)
def fill_normal(s, out):
    for i in range(out.shape[0]):
        out[i] = normal(s)


@njit(**PER_STEP)
def shuffle(s, a):
    """Fisher-Yates shuffle of an int64 array in place."""
    for i in range(a.shape[0] - 1, 0, -1):
        j = randbelow(s, i + 1)
        tmp = a[i]
        a[i] = a[j]
        a[j] = tmp
