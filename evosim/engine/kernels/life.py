"""Metabolism, parental feeding, reproduction with mutation, death with compaction."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import DEATH_OLD_AGE, DEATH_STARVATION, N_GENES, RNG_MUTATE
from evosim.engine.kernels.conf import JIT, ix, kernel
from evosim.engine.kernels.ladder import is_graded, step_agent_level
from evosim.engine.kernels.phenotype import birth_energy, maturity, max_age, offspring_share, upkeep
from evosim.engine.kernels.rng import normal


@kernel(parallel=True)
def metabolise(a, sa, n, p):
    """Charge each agent of ``a`` its upkeep (plus its species' ``sa.upkeep_extra``), age it one tick.

    A child reaching maturity leaves its parent.
    """
    genome = a.genome
    energy = a.energy
    age = a.age
    guardian = a.guardian
    species = a.species
    upkeep_extra = sa.upkeep_extra
    for i in nb.prange(n):
        energy[i] -= upkeep(genome[i], p) + upkeep_extra[ix(species[i])]
        age[i] += 1
        if guardian[i] >= 0 and age[i] >= maturity(genome[i], p):
            guardian[i] = -1


@kernel
def feed_dependants(a, n, p, buf):
    """Parents pass energy to their dependants.

    Each parent feeds each dependant ``min(feed_rate, surplus / k)`` where k
    is its number of dependants and ``surplus`` its energy above
    ``feed_reserve``: siblings are treated alike whatever their row order.
    ``buf.dependants`` (each parent's k) and ``buf.offer`` (what it gives each) are the
    :class:`~evosim.engine.state.Arena`'s scratch.
    """
    energy = a.energy
    guardian = a.guardian
    n_dep = buf.dependants
    share = buf.offer
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
def find_parents(a, n, p, out, split=False):
    """Write indices of agents of ``a`` able to reproduce (adult, enough energy) to ``out``; return count.

    With ``split`` (several threads) blocks of rows are counted in parallel, then each
    block writes from its offset; otherwise one pass does it.
    """
    genome = a.genome
    energy = a.energy
    age = a.age
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


@kernel(parallel=True)
def give_birth(a, sa, parents, n, next_id, clock, p, distant):
    """Append one child per parent at rows ``n .. n + n_births - 1``.

    The child gets ``offspring_share`` of the parent's energy, the parent's
    position and species, and the parent's genome plus a normal mutation of
    the species' size per gene (keyed by child id and gene), clipped to the
    species' bounds. It starts with skill 0 and depends on its parent
    (``guardian``) until maturity.
    ``distant[k]`` is set to 1 when child k's genome lies farther than the
    speciation threshold from its species' centroid genome.

    Args:
        a: the agents (:class:`~evosim.engine.state.Agents`, room for the children).
        sa: per species (S, G) gene bounds ``lo``, ``hi``, ``mutation`` sizes and ``centroid``
            genomes (:class:`~evosim.engine.state.SpeciesArrays`).
        parents: rows of the parents, one child each.
        n: live rows before the children.
        next_id: the first child's id.
        clock: the seed and tick keying the mutations (:class:`~evosim.engine.state.Clock`).
        p: :class:`~evosim.engine.state.Params`.
        distant: uint8 output, one per child.
    """
    ids = a.id
    parent_ids = a.parent_id
    species = a.species
    x = a.x
    y = a.y
    energy = a.energy
    age = a.age
    birth_tick = a.birth_tick
    guardian = a.guardian
    skill = a.skill
    lessons = a.lessons
    genome = a.genome
    lo = sa.lo
    hi = sa.hi
    mutation = sa.mutation
    centroid = sa.centroid
    seed = clock.seed
    tick = clock.tick
    n_births = parents.shape[0]
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
def judge(a, n, p, habitat, sa, lad, buf):
    """Who dies this tick: ``buf.cause[i]`` (0: survives; else ``DEATH_STARVATION`` or ``DEATH_OLD_AGE``);
    for a survivor, ``buf.status[i]`` = its milestone level where it stands (on ``habitat``, with its
    species' abilities ``sa``), plus :data:`ADULT` if it is an adult (read by :func:`tally`)."""
    genome = a.genome
    energy = a.energy
    age = a.age
    cause = buf.cause
    status = buf.status
    graded = is_graded(lad)  # then buf.status holds the graded levels already
    for i in nb.prange(n):
        if energy[i] <= 0.0:
            cause[i] = DEATH_STARVATION
        elif age[i] >= max_age(genome[i], p):
            cause[i] = DEATH_OLD_AGE
        else:
            cause[i] = 0
            if graded:  # levels by the graded rule, computed before (ladder.graded_levels)
                lv = np.int64(status[i])
            else:
                lv = step_agent_level(i, a, habitat, sa, lad)
            status[i] = lv + (ADULT if age[i] >= maturity(genome[i], p) else 0)


def _tally_pass(genes: bool, counts: bool):
    """:func:`tally`'s pass over the rows in order, built for what it does (compile-time flags):
    the survivors' genomes into ``sums.gene_sum`` if ``genes``; the deaths and the survivors'
    counts if ``counts``. The pass zeroes what it sums and returns the number of survivors.
    (A function of its own, not inlined: the kernels' tuples are unpacked once a call.)"""

    @nb.njit(**JIT)
    def rows(a, n, lad, buf, deaths, alive, sums):
        species = a.species
        genome = a.genome
        skill = a.skill
        cause = buf.cause
        status = buf.status
        threshold = lad.threshold
        gene_sum = sums.gene_sum
        adults = sums.adults
        holders = sums.holders
        top = sums.top
        gated = sums.gated
        final = threshold.shape[0]
        if genes:
            gene_sum[:] = 0.0
        if counts:
            adults[:] = 0
            holders[:] = 0
            top[:] = 0
            gated[:] = 0
        m = 0
        for i in range(n):
            s = ix(species[i])
            c = cause[i]
            if c != 0:
                if counts:
                    deaths[s, ix(c)] += 1
                    alive[s] -= 1
                continue
            m += 1
            if genes:
                for g in range(N_GENES):
                    gene_sum[s, g] += genome[i, g]
            if counts:
                st = np.int64(status[i])
                lv = st & (ADULT - 1)
                if lv > top[s]:
                    top[s] = lv
                if st >= ADULT:
                    adults[s] += 1
                    if lv == final and final > 0:
                        holders[s] += 1
                    elif lv < final and np.float64(skill[i]) >= threshold[ix(lv)]:
                        # has the next milestone's skill: its requirement is unmet
                        gated[s, ix(lv)] += 1
        return m

    return rows


_tally_all = _tally_pass(True, True)
_tally_genes = _tally_pass(True, False)
_tally_counts = _tally_pass(False, True)


@nb.njit(inline="always", **JIT)
def _centroids(alive, gene_sum, centroid):
    """Each species with survivors: its mean genome, ``gene_sum / alive``; the others keep theirs."""
    for s in range(min(alive.shape[0], centroid.shape[0], gene_sum.shape[0])):
        if alive[s] > 0:
            for g in range(N_GENES):
                centroid[s, g] = gene_sum[s, g] / alive[s]


def _tally_one_pass(a, n, lad, buf, deaths, alive, sums, centroid):
    """:func:`tally` on one thread (its serial flavour): the sums and the counts in one pass."""
    m = _tally_all(a, n, lad, buf, deaths, alive, sums)
    _centroids(alive, sums.gene_sum, centroid)
    return m


@kernel(parallel=True, one_thread=_tally_one_pass)
def tally(a, n, lad, buf, deaths, alive, sums, centroid):
    """Count the deaths of :func:`judge` (``buf.cause``) and sum the survivors per species.

    Adds deaths per species and cause to ``deaths`` (n_species x 4: unused, starvation, old age,
    culled) and subtracts them from ``alive``. Sets ``centroid`` (n_species x G) of each species
    with survivors to their mean genome (``gene_sum / alive``); an extinct species keeps its
    last. Over the survivors, per species, fills ``sums``
    (:class:`~evosim.engine.state.Tally`, zeroed here) from ``buf.status``: ``gene_sum`` sums
    the genomes (for the species centroids); ``adults`` counts adults, ``holders`` the adults
    holding the final milestone, and ``top`` is the highest milestone level anyone holds;
    ``gated`` (n_species x M) counts the adults held below milestone m by m's own requirement:
    they hold every milestone before m and have m's skill, but not m (for the ``gated``
    trigger). Returns the number of survivors.

    The genome sums are float sums, whose rounding depends on the order of the terms: each
    species' sum of a gene adds the survivors in row order. On threads (the parallel flavour)
    the genome sums and the deaths and counts are two tasks, each reading every row in order:
    the same terms in the same order (the same bits), the tasks writing disjoint arrays. On one
    thread two passes would cost ~1 ns per agent-step more than one, so the serial flavour is
    :func:`_tally_one_pass`.
    """
    survivors = np.zeros(1, np.int64)
    for task in nb.prange(2):
        if task == 0:
            _tally_genes(a, n, lad, buf, deaths, alive, sums)
        else:
            survivors[0] = _tally_counts(a, n, lad, buf, deaths, alive, sums)
    _centroids(alive, sums.gene_sum, centroid)
    return survivors[0]


@kernel(parallel=True)
def cell_ordered_survivors(order, n_indexed, n, buf, split=False):
    """To ``buf.survivors``: the survivors (``buf.cause`` 0) in the order of the spatial index
    ``order[:n_indexed]``, then the survivors born since it (rows ``n_indexed .. n-1``).

    Keeping rows in cell order makes every grid access of the next tick
    cache-friendly. Returns the number of survivors. With ``split`` (several threads),
    blocks of positions are counted in parallel, then each block writes from its offset;
    otherwise one pass does it.
    """
    cause = buf.cause
    out = buf.survivors
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


@nb.njit(inline="always", **JIT)
def _view(raw, start, m, arr):
    """``m`` elements of ``arr``'s dtype laid over the bytes ``raw`` from byte ``start``."""
    return raw[start : start + m * arr.itemsize].view(arr.dtype)


@kernel(parallel=True)
def gather_agents(a, rows, m, spare):
    """Make rows ``rows[:m]`` (any order) the first m of every field of the agents ``a``.

    The one-dimensional fields are permuted in place through the bytes of ``spare`` (the
    population's spare genome, same shape as ``a.genome``: 4 x N_GENES = 28 bytes per row) in
    two groups that each fit those bytes (``id``, ``parent_id``, ``species``, ``x``: 24;
    the other seven: 26): each group is gathered into ``spare``'s bytes in one loop and copied
    back in another. Then the genome rows are copied into ``spare`` itself: the caller swaps
    ``a.genome`` and ``spare`` afterwards. Five loops in all (one per field used to make 23, each
    a start and a stop of the threads in the parallel build); the same copies.
    """
    raw = spare.reshape(-1).view(np.uint8)
    id_ = a.id  # one field per statement (see sense_and_move)
    parent_id = a.parent_id
    species = a.species
    x = a.x
    b_id = _view(raw, 0, m, id_)
    b_parent = _view(raw, m * 8, m, parent_id)
    b_species = _view(raw, m * 16, m, species)
    b_x = _view(raw, m * 20, m, x)  # 24 bytes per row
    for j in nb.prange(m):
        k = ix(rows[j])
        b_id[j] = id_[k]
        b_parent[j] = parent_id[k]
        b_species[j] = species[k]
        b_x[j] = x[k]
    for j in nb.prange(m):
        id_[j] = b_id[j]
        parent_id[j] = b_parent[j]
        species[j] = b_species[j]
        x[j] = b_x[j]
    y = a.y
    energy = a.energy
    age = a.age
    birth_tick = a.birth_tick
    guardian = a.guardian
    skill = a.skill
    lessons = a.lessons
    b_y = _view(raw, 0, m, y)
    b_energy = _view(raw, m * 4, m, energy)
    b_age = _view(raw, m * 8, m, age)
    b_birth = _view(raw, m * 12, m, birth_tick)
    b_guardian = _view(raw, m * 16, m, guardian)
    b_skill = _view(raw, m * 20, m, skill)
    b_lessons = _view(raw, m * 24, m, lessons)  # 26 bytes per row
    for j in nb.prange(m):
        k = ix(rows[j])
        b_y[j] = y[k]
        b_energy[j] = energy[k]
        b_age[j] = age[k]
        b_birth[j] = birth_tick[k]
        b_guardian[j] = guardian[k]
        b_skill[j] = skill[k]
        b_lessons[j] = lessons[k]
    for j in nb.prange(m):
        y[j] = b_y[j]
        energy[j] = b_energy[j]
        age[j] = b_age[j]
        birth_tick[j] = b_birth[j]
        guardian[j] = b_guardian[j]
        skill[j] = b_skill[j]
        lessons[j] = b_lessons[j]
    genome = a.genome
    for j in nb.prange(m):
        k = ix(rows[j])
        for c in range(N_GENES):
            spare[j, c] = genome[k, c]


@kernel
def compact(arr, keep, m):
    """Move rows ``keep[:m]`` (increasing) to the front of ``arr``, in place."""
    for j in range(m):
        k = keep[j]
        if k != j:
            arr[j] = arr[k]


@kernel(parallel=True)
def remap_guardians(a, m, n_old, buf):
    """After the deaths kept rows ``buf.survivors[:m]``: point each dependant at its parent's new
    row, or -1 if the parent died (``buf.new_row``: per old row, its new row)."""
    guardian = a.guardian
    keep = buf.survivors
    new_row = buf.new_row
    for i in nb.prange(n_old):
        new_row[i] = -1
    for j in nb.prange(m):
        new_row[ix(keep[j])] = j
    for j in nb.prange(m):
        g = guardian[j]
        if g >= 0:
            guardian[j] = new_row[ix(g)]
