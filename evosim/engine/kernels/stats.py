"""Per-species summaries for the time series."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import N_GENES
from evosim.engine.kernels.conf import JIT, kernel


@kernel
def peaks_and_extinctions(alive, peak, destruction, n_species, tick):
    """Raise each species' ``peak`` to its ``alive`` count; stamp ``destruction`` = ``tick`` on
    the species left without members that have none yet. Returns the ids stamped now, ascending."""
    k = 0
    for s in range(n_species):
        if alive[s] > peak[s]:
            peak[s] = alive[s]
        k += (alive[s] == 0) & (destruction[s] < 0)
    out = np.empty(k, np.int64)
    k = 0
    if out.shape[0] > 0:
        for s in range(n_species):
            if alive[s] == 0 and destruction[s] < 0:
                destruction[s] = tick
                out[k] = s
                k += 1
    return out


@nb.njit(**JIT)
def _species_sums(a, habitat, n, count, s1, s2, on_land, e_sum):
    """Per species, over the live agents ``a[:n]``, into the zeroed arrays: count, gene sums and
    sums of squares, agents on land (``habitat``), energy sum; each sum in row order."""
    species = a.species
    genome = a.genome
    energy = a.energy
    x = a.x
    y = a.y
    n_genes = N_GENES  # (the genome's columns, as a constant: LLVM unrolls the gene loop)
    for i in range(n):
        s = species[i]
        count[s] += 1
        for g in range(n_genes):
            v = np.float64(genome[i, g])
            s1[s, g] += v
            s2[s, g] += v * v
        on_land[s] += habitat[y[i], x[i]]
        e_sum[s] += energy[i]


@nb.njit(inline="always", **JIT)
def _select(v, lo, hi, k):
    """Reorder ``v[lo:hi]`` so that ``v[k]`` holds its order statistic ``k - lo``, nothing larger
    before it and nothing smaller after it (Hoare's quickselect, median-of-three pivot; in place)."""
    while hi - lo > 1:
        a, b, c = v[lo], v[(lo + hi) >> 1], v[hi - 1]
        if a > b:
            a, b = b, a
        if b > c:
            b = c
        pivot = max(a, b)  # the median of the three: a stop for both scans below
        i, j = lo, hi - 1
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if k <= j:  # v[lo:j+1] <= pivot <= v[i:hi], and v[j+1:i] == pivot
            hi = j + 1
        elif k >= i:
            lo = i
        else:
            return


@nb.njit(**JIT)
def _skill_summary(species, skill, n, mean, p90, top):
    """Per species, over the live agents ``[:n]``, into ``mean``, ``p90`` and ``top`` (NaN-filled):
    mean, 90th percentile and maximum skill (left NaN for a species without members).

    The percentile interpolates linearly between order statistics, as numpy's default: at
    position ``0.9 (c - 1)`` of the species' c sorted skills. The mean sums in row order (as
    ``np.bincount`` with weights). One counting pass groups the skills by species, then each
    species' run is reordered in place around the percentile's lower order statistic
    (:func:`_select`); the next one and the maximum are the smallest and largest of the part
    above it: O(n), no sort.
    """
    n_species = mean.shape[0]
    count = np.zeros(n_species, np.int64)
    sums = np.zeros(n_species, np.float64)
    for i in range(n):
        s = species[i]
        count[s] += 1
        sums[s] += np.float64(skill[i])
    start = np.zeros(n_species + 1, np.int64)
    for s in range(n_species):
        start[s + 1] = start[s] + count[s]
    fill = start[:n_species].copy()
    grouped = np.empty(n, np.float64)
    for i in range(n):
        s = species[i]
        grouped[fill[s]] = np.float64(skill[i])
        fill[s] += 1
    for s in range(n_species):
        c = count[s]
        if c == 0:
            continue
        mean[s] = sums[s] / c
        pos = 0.9 * (c - 1)
        lo = np.int64(np.floor(pos))
        frac = pos - lo
        k = start[s] + lo
        _select(grouped, start[s], start[s] + c, k)
        v_lo = grouped[k]
        v_hi = v_lo
        big = v_lo
        if lo + 1 < c:  # the rest of the run, all >= v_lo: its smallest and its largest
            v_hi = grouped[k + 1]
            big = v_hi
            for j in range(k + 2, start[s] + c):
                x = grouped[j]
                v_hi = min(v_hi, x)
                big = max(big, x)
        p90[s] = v_lo * (1 - frac) + v_hi * frac
        top[s] = big


@nb.njit(inline="always", **JIT)
def _summary_arrays(n_species):
    """The outputs of :func:`species_summaries`, zeroed (the sums) or NaN (the skills)."""
    return (
        np.zeros(n_species, np.int64),
        np.zeros((n_species, N_GENES), np.float64),
        np.zeros((n_species, N_GENES), np.float64),
        np.zeros(n_species, np.int64),
        np.zeros(n_species, np.float64),
        np.full(n_species, np.nan),
        np.full(n_species, np.nan),
        np.full(n_species, np.nan),
    )


@kernel(parallel=True)
def species_summaries(a, habitat, n, n_species):
    """Per species, over the live agents ``a[:n]`` (what a recorder's sample reads).

    Returns ``(count, gene_sum, gene_sq, on_land, energy_sum, skill_mean, skill_p90,
    skill_max)``: members (int64), sums of each gene and of its squares (n_species x G), agents
    standing on land (``habitat``), the energy sum, and the mean, 90th percentile and maximum of
    skill (NaN for a species without members; see :func:`_skill_summary`). The sums add the
    rows in row order (float sums depend on the order of their terms).

    The two parts read disjoint fields and write disjoint arrays: on threads (the parallel
    flavour) they are two tasks, one per thread; in the serial flavour the ``prange`` of 2 is a
    loop, so they run in turn.
    """
    out = _summary_arrays(n_species)
    count, s1, s2, on_land, e_sum, mean, p90, top = out
    for task in nb.prange(2):
        if task == 0:
            _skill_summary(a.species, a.skill, n, mean, p90, top)
        else:
            _species_sums(a, habitat, n, count, s1, s2, on_land, e_sum)
    return out


#: Columns of :func:`add_brain_powers`: sums of brain, brain², brain³ and brain**k.
BRAIN_POWERS = 4


@nb.njit(**JIT)
def brain_powers(species, genome, n, gene, k, out):
    """Add, per species, over the live agents ``[:n]``, the sums of ``b``, ``b**2``, ``b**3`` and
    ``b**k`` (``b = genome[i, gene]``) to the columns of ``out`` (n_species x 4, float64).

    One serial pass in row order: float sums, whose rounding depends on the order of the terms.
    (A pass called by kernels: on its own by :func:`add_brain_powers`, beside the spatial sort by
    :func:`evosim.engine.kernels.tasks.index_and_count_brains`.)
    """
    for i in range(n):
        s = species[i]
        b = np.float64(genome[i, gene])
        b2 = b * b
        b3 = b2 * b
        if k == 1.0:
            bk = b
        elif k == 2.0:
            bk = b2
        elif k == 3.0:
            bk = b3
        else:
            bk = b**k
        out[s, 0] += b
        out[s, 1] += b2
        out[s, 2] += b3
        out[s, 3] += bk


@kernel
def add_brain_powers(species, genome, n, gene, k, out):
    """:func:`brain_powers` called from Python."""
    brain_powers(species, genome, n, gene, k, out)
