"""Metabolism, reproduction with mutation, and death with compaction."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import DEATH_OLD_AGE, DEATH_STARVATION, RNG_MUTATE
from evosim.kernels.conf import JIT, JIT_PARALLEL
from evosim.kernels.phenotype import birth_energy, max_age, maturity, offspring_share, upkeep
from evosim.kernels.rng import normal


@nb.njit(**JIT_PARALLEL)
def metabolise(genome, energy, age, n, p):
    """Charge each agent its upkeep and age it one tick."""
    for i in nb.prange(n):
        energy[i] -= upkeep(genome[i], p)
        age[i] += 1


@nb.njit(**JIT)
def find_parents(genome, energy, age, n, p, out):
    """Write indices of agents able to reproduce (adult, enough energy) to ``out``; return count."""
    k = 0
    for i in range(n):
        if age[i] >= maturity(genome[i], p) and energy[i] >= birth_energy(genome[i], p) and energy[i] > 0.0:
            out[k] = i
            k += 1
    return k


@nb.njit(**JIT_PARALLEL)
def give_birth(parents, n_births, n, next_id, tick, seed, ids, parent_ids, species, x, y,
               energy, age, birth_tick, genome, lo, hi, mutation, p):
    """Append one child per parent at rows ``n .. n + n_births - 1``.

    The child gets ``offspring_share`` of the parent's energy, the parent's
    position and species, and the parent's genome plus a normal mutation of
    the species' size per gene (keyed by child id and gene), clipped to the
    species' bounds.
    """
    n_genes = genome.shape[1]
    for k in nb.prange(n_births):
        i = parents[k]
        c = n + k
        cid = next_id + k
        s = species[i]
        give = energy[i] * offspring_share(genome[i], p)
        energy[i] -= give
        energy[c] = give
        ids[c] = cid
        parent_ids[c] = ids[i]
        species[c] = s
        x[c] = x[i]
        y[c] = y[i]
        age[c] = 0
        birth_tick[c] = tick
        for g in range(n_genes):
            v = np.float64(genome[i, g])
            m = mutation[s, g]
            if m > 0.0:
                v += m * normal(seed, tick, cid, RNG_MUTATE, g)
            if v < lo[s, g]:
                v = lo[s, g]
            if v > hi[s, g]:
                v = hi[s, g]
            genome[c, g] = v


@nb.njit(**JIT)
def select_survivors(genome, energy, age, species, n, p, keep, cause, deaths):
    """Decide who dies this tick.

    Writes the indices of survivors (increasing) to ``keep`` and the cause of
    death per agent to ``cause`` (0 alive); adds deaths per species and cause
    to ``deaths`` (n_species x 3). Returns the number of survivors.
    """
    m = 0
    for i in range(n):
        if energy[i] <= 0.0:
            cause[i] = DEATH_STARVATION
        elif age[i] >= max_age(genome[i], p):
            cause[i] = DEATH_OLD_AGE
        else:
            cause[i] = 0
            keep[m] = i
            m += 1
            continue
        deaths[species[i], cause[i]] += 1
    return m


@nb.njit(**JIT)
def compact(arr, keep, m):
    """Move rows ``keep[:m]`` (increasing) to the front of ``arr``, in place."""
    for j in range(m):
        k = keep[j]
        if k != j:
            arr[j] = arr[k]
