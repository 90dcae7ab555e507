"""Metabolism, parental feeding, reproduction with mutation, death with compaction."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import DEATH_OLD_AGE, DEATH_STARVATION, N_GENES, RNG_MUTATE
from evosim.engine.kernels.conf import JIT, ix, kernel
from evosim.engine.kernels.ladder import agent_level
from evosim.engine.kernels.phenotype import birth_energy, maturity, max_age, offspring_share, upkeep
from evosim.engine.kernels.rng import normal


@kernel(parallel=True)
def metabolise(genome, energy, age, guardian, species, upkeep_extra, n, p):
    """Charge each agent its upkeep (plus its species' extra upkeep), age it one tick.

    A child reaching maturity leaves its parent.
    """
    for i in nb.prange(n):
        energy[i] -= upkeep(genome[i], p) + upkeep_extra[ix(species[i])]
        age[i] += 1
        if guardian[i] >= 0 and age[i] >= maturity(genome[i], p):
            guardian[i] = -1


@kernel
def feed_dependants(energy, guardian, n, p, n_dep, share):
    """Parents pass energy to their dependants.

    Each parent feeds each dependant ``min(feed_rate, surplus / k)`` where k
    is its number of dependants and ``surplus`` its energy above
    ``feed_reserve``: siblings are treated alike whatever their row order.
    ``n_dep`` (int) and ``share`` (float64) are scratch arrays of size >= n.
    """
    if p.feed_rate <= 0.0:
        return
    for i in range(n):
        n_dep[i] = 0
    for i in range(n):
        if guardian[i] >= 0:
            n_dep[ix(guardian[i])] += 1
    for i in range(n):  # what each parent offers each dependant, from its energy before feeding
        share[i] = 0.0
        if n_dep[i] > 0:
            surplus = np.float64(energy[i]) - p.feed_reserve
            if surplus > 0.0:
                share[i] = min(surplus / n_dep[i], p.feed_rate)
    for i in range(n):
        g = ix(guardian[i])  # (a negative guardian, no parent, is caught first)
        if guardian[i] < 0 or share[g] <= 0.0:
            continue
        give = min(
            share[g], p.max_energy - np.float64(energy[i])
        )  # a child's store is not overfilled
        if give <= 0.0:
            continue
        energy[i] += give
        energy[g] -= give  # the parent pays exactly what was given


#: Positions per block of the parallel compactions (:func:`cell_ordered_survivors`, :func:`find_parents`).
BLOCK = 8192


@nb.njit(inline="always", **JIT)
def _can_breed(genome, energy, age, i, p):
    """Adult with enough energy (no short-circuit: a branch would make numba reference-count the arrays)."""
    e = energy[i]
    return (age[i] >= maturity(genome[i], p)) & (e >= birth_energy(genome[i], p)) & (e > 0.0)


@kernel(parallel=True)
def find_parents(genome, energy, age, n, p, out, split=False):
    """Write indices of agents able to reproduce (adult, enough energy) to ``out``; return count.

    With ``split`` (several threads) blocks of rows are counted in parallel, then each
    block writes from its offset; otherwise one pass does it.
    """
    if not split:
        k = 0
        for i in range(n):  # branch-free: write every row, advance past the parents only
            out[k] = i
            k += _can_breed(genome, energy, age, i, p)
        return k
    n_blocks = (n + BLOCK - 1) // BLOCK
    start = np.zeros(n_blocks + 1, np.int64)
    for b in nb.prange(n_blocks):
        c = 0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            c += _can_breed(genome, energy, age, i, p)
        start[b + 1] = c
    for b in range(n_blocks):
        start[b + 1] += start[b]
    for b in nb.prange(n_blocks):
        k = start[b]
        end = start[b + 1]
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            if k < end:  # (the last write of a block must not spill into the next block's rows)
                out[ix(k)] = i
            k += _can_breed(genome, energy, age, i, p)
    return start[n_blocks]


#: The population fields :func:`give_birth` writes, in the order of its ``agents`` tuple.
BIRTH_FIELDS = (
    "id",
    "parent_id",
    "species",
    "x",
    "y",
    "energy",
    "age",
    "birth_tick",
    "guardian",
    "skill",
    "lessons",
    "genome",
)
#: The species-registry arrays :func:`give_birth` reads, in the order of its ``bounds`` tuple.
BIRTH_SPECIES_ARRAYS = ("lo", "hi", "mutation", "centroid")


@kernel(parallel=True)
def give_birth(parents, n_births, n, next_id, tick, seed, agents, bounds, p, distant):
    """Append one child per parent at rows ``n .. n + n_births - 1``.

    The child gets ``offspring_share`` of the parent's energy, the parent's
    position and species, and the parent's genome plus a normal mutation of
    the species' size per gene (keyed by child id and gene), clipped to the
    species' bounds. It starts with skill 0 and depends on its parent
    (``guardian``) until maturity.
    ``distant[k]`` is set to 1 when child k's genome lies farther than the
    speciation threshold from its species' centroid genome.

    Args:
        parents: rows of the parents (``n_births`` of them).
        n_births, n: children to add; live rows before them.
        next_id, tick, seed: the first child's id; the tick and seed keying the mutations.
        agents: the population's arrays named by :data:`BIRTH_FIELDS`, in that order.
        bounds: per species (S, G) gene bounds ``lo``, ``hi``, mutation sizes and centroid
            genomes (:data:`BIRTH_SPECIES_ARRAYS`).
        p: :class:`~evosim.engine.params.Params`.
        distant: uint8 output, one per child.
    """
    ids, parent_ids, species, x, y, energy, age, birth_tick, guardian, skill, lessons, genome = (
        agents
    )
    lo, hi, mutation, centroid = bounds
    n_genes = genome.shape[1]
    for k in nb.prange(n_births):
        i = ix(parents[k])
        c = n + k
        cid = next_id + k
        s = ix(species[i])
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
        skill[c] = 0.0
        lessons[c] = 0
        d2 = 0.0
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
            diff = np.float64(genome[c, g]) - centroid[s, g]
            d2 += diff * diff
        distant[k] = 1 if d2 > p.speciation_threshold * p.speciation_threshold else 0
        guardian[c] = i if maturity(genome[c], p) > 0.0 else -1


#: Bit of :func:`judge`'s ``status`` set for adults (the low bits hold the milestone level, at most 64).
ADULT = 128


@kernel(parallel=True)
def judge(pop, n, p, where, lad, cause, status):
    """Who dies this tick: ``cause[i]`` (0: survives); for a survivor, ``status[i]`` = its milestone
    level where it stands, plus :data:`ADULT` if it is an adult (read by :func:`tally`)."""
    genome, energy, age, species, skill, x, y = pop
    habitat, manipulators, fire_substitute = where
    for i in nb.prange(n):
        if energy[i] <= 0.0:
            cause[i] = DEATH_STARVATION
        elif age[i] >= max_age(genome[i], p):
            cause[i] = DEATH_OLD_AGE
        else:
            cause[i] = 0
            lv = agent_level(i, skill, genome, species, x, y, habitat, manipulators,
                             fire_substitute, lad)  # fmt: skip
            status[i] = lv + (ADULT if age[i] >= maturity(genome[i], p) else 0)


@kernel
def tally(species, genome, skill, cause, status, n, lad, deaths, alive, gene_sum, counts, gated):
    """The per-species sums of :func:`select_survivors` from :func:`judge`'s ``cause`` and ``status``.

    One pass in row order: the genome sums are float sums, whose rounding depends on the
    order of the terms, so this pass is serial whatever the thread count (it is the cheap part).
    ``counts`` = (adults, holders, top).
    """
    adults, holders, top = counts
    gene_sum[:] = 0.0
    adults[:] = 0
    holders[:] = 0
    top[:] = 0
    gated[:] = 0
    final = lad.threshold.shape[0]
    m = 0
    for i in range(n):
        s = ix(species[i])
        c = cause[i]
        if c != 0:
            deaths[s, ix(c)] += 1
            alive[s] -= 1
            continue
        m += 1
        for g in range(N_GENES):
            gene_sum[s, g] += genome[i, g]
        st = np.int64(status[i])
        lv = st & (ADULT - 1)
        if lv > top[s]:
            top[s] = lv
        if st >= ADULT:
            adults[s] += 1
            if lv == final and final > 0:
                holders[s] += 1
            elif lv < final and np.float64(skill[i]) >= lad.threshold[ix(lv)]:
                gated[s, ix(lv)] += 1  # has the next milestone's skill: its requirement is unmet
    return m


def select_survivors(
    pop, n, p, where, lad, cause, deaths, alive, gene_sum, adults, holders, top, gated, status=None
):
    """Decide who dies this tick, and count the survivors per species for the detectors.

    Args:
        pop: (genome, energy, age, species, skill, x, y): the agent arrays.
        where: (habitat, manipulators, fire_substitute): what decides which milestones an agent
            holds where it stands (:func:`evosim.engine.kernels.ladder.agent_level`).
        lad: the ladder.
        status: uint8 scratch of size >= n (allocated if None).

    Writes the cause of death per agent to ``cause`` (0: survives; the
    survivors are then listed by :func:`cell_ordered_survivors`); adds deaths per species and cause
    to ``deaths`` (n_species x 4: unused, starvation, old age, culled) and subtracts them from ``alive``.
    Over the survivors, per species (arrays zeroed here): ``gene_sum`` sums
    the genomes (for the species centroids); ``adults`` counts adults,
    ``holders`` the adults holding the final milestone, and ``top`` is the
    highest milestone level anyone holds; ``gated`` (n_species x M) counts the
    adults held below milestone m by m's own requirement: they hold every
    milestone before m and have m's skill, but not m (for the ``gated``
    trigger). Returns the number of survivors.

    Two kernels: :func:`judge` (per agent, parallel) and :func:`tally` (the sums, serial).
    """
    status = np.empty(n, np.uint8) if status is None else status
    judge(pop, n, p, where, lad, cause, status)
    genome, _, _, species, skill, _, _ = pop
    return tally(species, genome, skill, cause, status, n, lad, deaths, alive, gene_sum,
                 (adults, holders, top), gated)  # fmt: skip


@kernel(parallel=True)
def cell_ordered_survivors(order, n_indexed, n, cause, out, split=False):
    """Survivors in the order of the spatial index, then survivors born since it (row order).

    Keeping rows in cell order makes every grid access of the next tick
    cache-friendly. Returns the number of survivors. With ``split`` (several threads),
    blocks of positions are counted in parallel, then each block writes from its offset;
    otherwise one pass does it.
    """
    if not split:
        j = 0
        for t in range(n):
            i = order[t] if t < n_indexed else t
            if cause[ix(i)] == 0:
                out[ix(j)] = i
                j += 1
        return j
    n_blocks = (n + BLOCK - 1) // BLOCK
    start = np.zeros(n_blocks + 1, np.int64)
    for b in nb.prange(n_blocks):
        c = 0
        for t in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            i = ix(order[t]) if t < n_indexed else ix(t)
            c += cause[i] == 0
        start[b + 1] = c
    for b in range(n_blocks):
        start[b + 1] += start[b]
    for b in nb.prange(n_blocks):
        k = start[b]
        for t in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            i = order[t] if t < n_indexed else t
            if cause[ix(i)] == 0:
                out[ix(k)] = i
                k += 1
    return start[n_blocks]


@kernel(parallel=True)
def gather_rows(arr, rows, m, buf):
    """``arr[:m] = arr[rows[:m]]`` through ``buf`` (same dtype, size >= m): no allocation."""
    for j in nb.prange(m):
        buf[j] = arr[ix(rows[j])]
    for j in nb.prange(m):
        arr[j] = buf[j]


@kernel(parallel=True)
def take_rows(src, rows, m, dst):
    """``dst[:m] = src[rows[:m]]`` for 2-D arrays (rows of genes)."""
    g = src.shape[1]
    if g == N_GENES:  # the genome: a constant trip count, which LLVM unrolls
        for j in nb.prange(m):
            k = ix(rows[j])
            for c in range(N_GENES):
                dst[j, c] = src[k, c]
        return
    for j in nb.prange(m):
        k = ix(rows[j])
        for c in range(g):
            dst[j, c] = src[k, c]


@kernel
def compact(arr, keep, m):
    """Move rows ``keep[:m]`` (increasing) to the front of ``arr``, in place."""
    for j in range(m):
        k = keep[j]
        if k != j:
            arr[j] = arr[k]


@kernel(parallel=True)
def remap_guardians(guardian, keep, m, n_old, new_row):
    """After compaction: point each dependant at its parent's new row, or -1 if the parent died.

    ``new_row`` is an int scratch array of size >= n_old.
    """
    for i in nb.prange(n_old):
        new_row[i] = -1
    for j in nb.prange(m):
        new_row[ix(keep[j])] = j
    for j in nb.prange(m):
        g = guardian[j]
        if g >= 0:
            guardian[j] = new_row[ix(g)]
