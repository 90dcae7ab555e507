"""Counter-based random numbers keyed by (seed, tick, agent id, purpose, k).

A draw is a pure function of its key, so a run is bit-identical whatever the
order in which agents are processed or the number of threads, and a resumed
run needs no generator state beyond the seed. The hash is the SplitMix64
finaliser (Steele, Lea & Flood 2014) applied once per key word, which passes
BigCrush when used this way as a counter-based generator.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from evosim.engine.kernels.conf import JIT, kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(inline="always", **JIT)
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", **JIT)
def hash64(seed, tick, agent_id, purpose, k):
    """64-bit hash of the key (all integers); the raw stream word."""
    h = _mix(np.uint64(seed) + _GOLDEN)
    h = _mix(h ^ (np.uint64(tick) + _GOLDEN))
    h = _mix(h ^ (np.uint64(agent_id) + _GOLDEN))
    return _mix(h ^ ((np.uint64(purpose) << _S32) + np.uint64(k) + _GOLDEN))


@nb.njit(inline="always", **JIT)
def uniform(seed, tick, agent_id, purpose, k):
    """Uniform float64 in [0, 1) for the key."""
    return np.float64(hash64(seed, tick, agent_id, purpose, k) >> _S11) * _TO_UNIT


@nb.njit(inline="always", **JIT)
def normal(seed, tick, agent_id, purpose, k):
    """Standard normal for the key (Box-Muller on draws 2k and 2k+1)."""
    u1 = 1.0 - uniform(seed, tick, agent_id, purpose, 2 * k)  # (0, 1]
    u2 = uniform(seed, tick, agent_id, purpose, 2 * k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@nb.njit(inline="always", **JIT)
def gumbel(seed, tick, agent_id, purpose, k):
    """Standard Gumbel(0, 1) for the key."""
    u = 1.0 - uniform(seed, tick, agent_id, purpose, k)  # (0, 1]
    return -math.log(-math.log(u)) if u < 1.0 else 37.0


@kernel
def uniform_array(seed, tick, ids, purpose, k):
    """Vector of uniforms, one per id (used by tests and Python-side code)."""
    out = np.empty(ids.shape[0], np.float64)
    for i in range(ids.shape[0]):
        out[i] = uniform(seed, tick, ids[i], purpose, k)
    return out


@kernel
def normal_array(seed, tick, ids, purpose, k):
    """Vector of standard normals, one per id."""
    out = np.empty(ids.shape[0], np.float64)
    for i in range(ids.shape[0]):
        out[i] = normal(seed, tick, ids[i], purpose, k)
    return out
