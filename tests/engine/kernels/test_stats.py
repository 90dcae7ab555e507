"""Per-species summaries: the skill summary against the recorder's former numpy code, bit for bit;
the species sums against a plain loop over the rows; the kernel's flavours alike."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import N_GENES
from evosim.engine import state as st
from evosim.engine.kernels.stats import species_summaries
from tests.helpers import Agents, named


def skill_summary(species, skill, n, n_species, build=species_summaries):
    """The skill part of :func:`species_summaries` (mean, p90, max) for these rows."""
    a = named(st.Agents, {"species": species, "skill": skill})
    return build(a, np.zeros((1, 1), np.uint8), n, n_species)[5:]


def numpy_summary(species: np.ndarray, skill: np.ndarray, n_species: int):
    """The reference, the recorder's numpy code before the kernel (one lexsort by species and
    skill): mean by ``np.bincount``, the percentile interpolated as ``lo (1 - f) + hi f``."""
    counts = np.bincount(species, minlength=n_species)
    mean, p90, top = (np.full(n_species, np.nan) for _ in range(3))
    z = skill.astype(np.float64)
    sums = np.bincount(species, weights=z, minlength=n_species)
    zs = z[np.lexsort((z, species))]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    mean[has] = sums[has] / counts[has]
    pos = 0.9 * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    frac = pos - lo
    base = starts[has]
    p90[has] = zs[base + lo] * (1 - frac) + zs[base + hi] * frac
    top[has] = zs[base + counts[has] - 1]
    return mean, p90, top


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skill_summary_is_the_former_numpy_code_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n, n_species = 5000, 40
    species = rng.integers(0, n_species - 5, n).astype(np.int32)  # species 35..39 have no member
    species[:3] = 36  # ... but 36 has three (a short run), and 38 one
    species[3] = 38
    skill = rng.gamma(2.0, 4.0, n).astype(np.float32)
    skill[rng.random(n) < 0.2] = 0.0  # ties
    got = skill_summary(species, skill, n, n_species)
    want = numpy_summary(species, skill, n_species)
    for g, w in zip(got, want):
        assert g.dtype == np.float64
        assert np.array_equal(g, w, equal_nan=True)
    assert np.isnan(got[0][35]) and got[2][38] == np.float64(skill[3])
    for s in (0, 36):  # and it is numpy's 90th percentile (up to the interpolation's last bit)
        assert got[1][s] == pytest.approx(
            np.percentile(skill[species == s].astype(np.float64), 90), rel=1e-12
        )


def test_skill_summary_reads_only_the_live_rows():
    species = np.array([0, 0, 1, 1], np.int32)
    skill = np.array([1.0, 3.0, 5.0, 100.0], np.float32)
    mean, p90, top = skill_summary(species, skill, 3, 2)  # row 3 is not live
    assert mean.tolist() == [2.0, 5.0] and top.tolist() == [3.0, 5.0]
    assert p90[0] == pytest.approx(1.0 + 0.9 * 2.0)


def test_peaks_and_extinctions_against_numpy():
    """Peaks raised and new extinctions stamped as the former numpy code did, ids ascending;
    a species already stamped and one never alive beyond ``n_species`` are left alone."""
    from evosim.engine.kernels.stats import peaks_and_extinctions

    rng = np.random.default_rng(3)
    for _ in range(50):
        cap = int(rng.integers(1, 40))
        n = int(rng.integers(0, cap + 1))
        alive = rng.integers(0, 3, cap).astype(np.int64) * rng.integers(0, 2, cap)
        peak = rng.integers(0, 4, cap).astype(np.int64)
        destruction = np.where(rng.random(cap) < 0.3, 7, -1).astype(np.int64)
        want_peak, want_dest = peak.copy(), destruction.copy()
        np.maximum(want_peak[:n], alive[:n], out=want_peak[:n])
        want_ids = np.flatnonzero((alive[:n] == 0) & (want_dest[:n] < 0))
        want_dest[want_ids] = 12
        got = peaks_and_extinctions(alive, peak, destruction, n, 12)
        assert got.tolist() == want_ids.tolist()
        assert peak.tolist() == want_peak.tolist()
        assert destruction.tolist() == want_dest.tolist()


def test_skill_summary_on_short_runs_and_many_ties():
    """The in-place selection on runs of 1 to ~40 skills, sorted, reversed, few distinct values."""
    rng = np.random.default_rng(7)
    for trial in range(400):
        n_species = int(rng.integers(1, 6))
        n = int(rng.integers(0, 200))
        species = rng.integers(0, n_species, n).astype(np.int32)
        skill = rng.integers(0, 3 if trial % 2 else 1000, n).astype(np.float32)
        if trial % 3 == 1:
            skill = np.sort(skill)
        elif trial % 3 == 2:
            skill = np.sort(skill)[::-1].copy()
        got = skill_summary(species, skill, n, n_species)
        want = numpy_summary(species, skill, n_species)
        for g, w in zip(got, want):
            assert np.array_equal(g, w, equal_nan=True), trial


def test_species_sums_add_each_gene_in_row_order():
    """Counts, gene sums and sums of squares, agents on land, energy: equal to a plain loop in
    row order, bit for bit (float sums depend on the order of their terms)."""
    rng = np.random.default_rng(5)
    n, n_species, side = 3000, 7, 16
    ag = Agents(n, capacity=n + 10)
    ag.species[:n] = rng.integers(0, n_species - 1, n)  # the last species has no members
    ag.genome[:n] = rng.random((n, N_GENES)).astype(ag.genome.dtype)
    ag.energy[:n] = rng.random(n) * 50
    ag.x[:n] = rng.integers(0, side, n)
    ag.y[:n] = rng.integers(0, side, n)
    habitat = rng.integers(0, 2, (side, side)).astype(np.uint8)
    got = species_summaries(named(st.Agents, ag.kw()), habitat, n, n_species)
    count, s1, s2, on_land, e_sum = got[:5]
    want = [np.zeros(n_species, np.int64), np.zeros((n_species, N_GENES)),
            np.zeros((n_species, N_GENES)), np.zeros(n_species, np.int64), np.zeros(n_species)]  # fmt: skip
    for i in range(n):
        s = ag.species[i]
        want[0][s] += 1
        for g in range(N_GENES):
            v = float(ag.genome[i, g])
            want[1][s, g] += v
            want[2][s, g] += v * v
        want[3][s] += habitat[ag.y[i], ag.x[i]]
        want[4][s] += ag.energy[i]
    for got, w in zip((count, s1, s2, on_land, e_sum), want, strict=True):
        assert got.dtype == w.dtype and got.tobytes() == w.tobytes()
    assert count[-1] == 0 and count.sum() == n


@pytest.mark.parametrize("build", ["two tasks in turn", "two tasks on threads"])
def test_species_summaries_flavours_are_byte_identical(build):
    """The two tasks run in turn (the serial flavour) and on numba's threads (the parallel one):
    the same bytes (each task writes its own arrays)."""
    fn = {
        "two tasks in turn": species_summaries.serial,
        "two tasks on threads": species_summaries.parallel,
    }[build]
    rng = np.random.default_rng(11)
    n, n_species, side = 4000, 9, 8
    ag = Agents(n, capacity=n + 5)
    ag.species[:n] = rng.integers(0, n_species - 2, n)
    ag.genome[:n] = rng.random((n, N_GENES)).astype(ag.genome.dtype)
    ag.skill[:n] = rng.gamma(2.0, 3.0, n).astype(ag.skill.dtype)
    ag.energy[:n] = rng.random(n) * 40
    ag.x[:n] = rng.integers(0, side, n)
    ag.y[:n] = rng.integers(0, side, n)
    habitat = rng.integers(0, 2, (side, side)).astype(np.uint8)
    a = named(st.Agents, ag.kw())
    want = species_summaries.serial(a, habitat, n, n_species)
    skill_before = ag.skill.copy()
    got = fn(a, habitat, n, n_species)
    assert len(got) == 8
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.tobytes() == w.tobytes()
    assert ag.skill.tobytes() == skill_before.tobytes()  # the selection works on a copy
    assert np.isnan(got[5][-1]) and got[0][-1] == 0 and got[0].sum() == n
