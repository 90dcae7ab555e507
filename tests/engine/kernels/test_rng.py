"""The counter-based generator: a pure function of (seed, tick, id, purpose, k)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evosim.defaults import (
    RNG_CAP,
    RNG_INIT_ENERGY,
    RNG_INIT_GENOME,
    RNG_INIT_POSITION,
    RNG_MOVE,
    RNG_MUTATE,
)
from evosim.engine.kernels import rng

M64 = (1 << 64) - 1
N = 200_000
IDS = np.arange(N, dtype=np.int64)


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def reference_hash(seed: int, tick: int, agent_id: int, purpose: int, k: int) -> int:
    """SplitMix64 finaliser chained over the key words, written out in plain Python."""
    g = 0x9E3779B97F4A7C15
    h = _mix((seed + g) & M64)
    h = _mix(h ^ ((tick + g) & M64))
    h = _mix(h ^ ((agent_id + g) & M64))
    return _mix(h ^ (((purpose << 32) + k + g) & M64))


@pytest.mark.parametrize(
    "key",
    [
        (0, 0, 0, 0, 0),
        (1, 2, 3, 4, 5),
        (7, 100, 123456789, RNG_MUTATE, 6),
        (2**63 - 1, 99_999_999, 2**40, 7, 17),
    ],
)
def test_hash_matches_the_documented_splitmix_chain(key):
    assert int(rng.hash64(*key)) == reference_hash(*key)
    assert rng.uniform(*key) == (reference_hash(*key) >> 11) * 2.0**-53


def test_same_key_same_value_and_scalar_equals_vector():
    a = rng.uniform_array(5, 17, IDS[:1000], RNG_MOVE, 2)
    b = rng.uniform_array(5, 17, IDS[:1000], RNG_MOVE, 2)
    assert np.array_equal(a, b)
    assert all(rng.uniform(5, 17, int(i), RNG_MOVE, 2) == a[i] for i in range(0, 1000, 97))
    n1 = rng.normal_array(5, 17, IDS[:1000], RNG_MUTATE, 3)
    assert np.array_equal(n1, rng.normal_array(5, 17, IDS[:1000], RNG_MUTATE, 3))
    assert rng.normal(5, 17, 10, RNG_MUTATE, 3) == n1[10]
    # a draw does not depend on which other ids are drawn with it, or in which order
    perm = np.random.default_rng(0).permutation(1000)
    assert np.array_equal(rng.uniform_array(5, 17, IDS[:1000][perm], RNG_MOVE, 2), a[perm])


def _ks(u: np.ndarray) -> float:
    s = np.sort(u)
    n = len(s)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - s), np.max(s - (i - 1) / n)))


def _chi2(u: np.ndarray, bins: int) -> float:
    counts = np.bincount((u * bins).astype(np.int64), minlength=bins)
    exp = len(u) / bins
    return float(((counts - exp) ** 2 / exp).sum())


@pytest.mark.parametrize("purpose", [RNG_INIT_POSITION, RNG_MOVE, RNG_MUTATE])
def test_uniform_is_uniform(purpose):
    u = rng.uniform_array(11, 3, IDS, purpose, 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 0.002
    assert _ks(u) < 1.63 / math.sqrt(N)  # KS test at the 1% level
    assert _chi2(u, 100) < 160  # 99 degrees of freedom: p ~ 1e-4
    bits = (u * 2**20).astype(np.int64)
    for b in range(20):
        share = ((bits >> b) & 1).mean()
        assert abs(share - 0.5) < 5 * math.sqrt(0.25 / N), f"bit {b}"


def _independent(a: np.ndarray, b: np.ndarray) -> None:
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / math.sqrt(len(a))
    joint = (a * 10).astype(np.int64) * 10 + (b * 10).astype(np.int64)
    counts = np.bincount(joint, minlength=100)
    exp = len(a) / 100
    assert ((counts - exp) ** 2 / exp).sum() < 160


@pytest.mark.parametrize(
    "other",
    [
        dict(purpose=RNG_MUTATE),  # another purpose
        dict(purpose=RNG_CAP),
        dict(k=1),  # another draw of the same purpose
        dict(tick=4),  # the next tick
        dict(seed=12),  # another seed
    ],
)
def test_streams_are_independent(other):
    key = dict(seed=11, tick=3, purpose=RNG_MOVE, k=0)
    a = rng.uniform_array(key["seed"], key["tick"], IDS, key["purpose"], key["k"])
    key.update(other)
    b = rng.uniform_array(key["seed"], key["tick"], IDS, key["purpose"], key["k"])
    _independent(a, b)


def test_neighbouring_ids_are_independent():
    u = rng.uniform_array(1, 1, IDS, RNG_MOVE, 0)
    _independent(u[:-1], u[1:])
    # init purposes of the same founder are independent of each other
    a = rng.uniform_array(0, 0, IDS, RNG_INIT_POSITION, 0)
    b = rng.uniform_array(0, 0, IDS, RNG_INIT_ENERGY, 0)
    c = rng.uniform_array(0, 0, IDS, RNG_INIT_GENOME, 0)
    _independent(a, b)
    _independent(a, c)


def test_normal_moments_and_independence_across_genes():
    z0 = rng.normal_array(3, 9, IDS, RNG_MUTATE, 0)
    z1 = rng.normal_array(3, 9, IDS, RNG_MUTATE, 1)  # the next gene (draws 2 and 3)
    for z in (z0, z1):
        assert np.isfinite(z).all()
        assert abs(z.mean()) < 5 / math.sqrt(N)
        assert abs(z.std() - 1.0) < 0.01
        assert abs((z**3).mean()) < 0.05  # symmetric
        assert abs((z**4).mean() - 3.0) < 0.1  # normal kurtosis
        assert abs((np.abs(z) < 1.0).mean() - 0.682689) < 0.005
    assert abs(np.corrcoef(z0, z1)[0, 1]) < 5 / math.sqrt(N)


def test_gumbel_moments():
    n = 40_000
    g = np.array([rng.gumbel(2, 5, i, RNG_MUTATE, 0) for i in range(n)])
    assert np.isfinite(g).all()
    euler_gamma = 0.5772156649015329
    assert abs(g.mean() - euler_gamma) < 5 * math.sqrt(math.pi**2 / 6 / n)
    assert abs(g.var() - math.pi**2 / 6) < 0.1
    # CDF exp(-exp(-x)) at 0 is 1/e
    assert abs((g < 0).mean() - math.exp(-1)) < 0.01


def test_keys_at_their_limits():
    ids = np.array([0, 2**31, 2**62, 2**63 - 1], np.int64)
    u = rng.uniform_array(2**63 - 1, 100_000_000, ids, RNG_CAP, 2**20)
    assert ((u >= 0) & (u < 1)).all() and len(set(u.tolist())) == 4
