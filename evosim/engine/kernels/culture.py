"""Skill: social learning after Henrich (2004), innovation, and the technology ladder.

Learning attempt (one per tick with probability ``juvenile_rate`` before
maturity, ``adult_rate`` after): the learner takes the best skill z_b among its
models -- its parent while dependent, and conspecifics within its social
radius (all conspecifics when the radius reaches half the grid's width or
height: well mixed) --
and draws ``z_b - alpha + beta * G`` with G ~ Gumbel(0, 1); it keeps the larger
of that and its own skill. alpha and beta depend on the learner:
``alpha = alpha0 + alpha_dexterity (1 - d_eff) + alpha_brain (1 - brain)``,
``beta = beta0 + beta_brain * brain``.

Innovation: an adult raises its skill by ``innovation_step`` with probability
``innovation_rate * brain**k * ((1 - w) + w * d_eff)``.

Ceiling: skill never exceeds ``skill_cap + skill_cap_brain * brain`` nor, for
the first milestone whose requirement the agent does not meet (effective
dexterity, standing on land unless its species has a fire substitute), that
milestone's threshold minus ``CAP_MARGIN``. Models are read from a snapshot
taken before anyone learns this tick, so the result is order- and
thread-independent.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_BRAIN, G_DEXTERITY, G_SOCIALITY, RNG_INNOVATE, RNG_LEARN
from evosim.engine.kernels.conf import JIT, JIT_PARALLEL
from evosim.engine.kernels.phenotype import lerp, maturity, power
from evosim.engine.kernels.rng import gumbel, uniform

CAP_MARGIN = 1e-3


@nb.njit(inline="always", **JIT)
def effective_dexterity(genome_row, manipulators):
    """max(dexterity gene, manipulators granted to the species)."""
    d = np.float64(genome_row[G_DEXTERITY])
    return d if d > manipulators else np.float64(manipulators)


@nb.njit(inline="always", **JIT)
def level_of(z, threshold):
    """Number of milestones held at skill z."""
    k = 0
    while k < threshold.shape[0] and z >= threshold[k]:
        k += 1
    return k


@nb.njit(inline="always", **JIT)
def skill_ceiling(brain, d_eff, land_ok, threshold, min_dexterity, needs_land, p):
    """Most skill an agent can hold (brain cap, and the first unmet milestone)."""
    cap = p.skill_cap0 + p.skill_cap_brain * brain
    for m in range(threshold.shape[0]):
        if d_eff < min_dexterity[m] or (needs_land[m] and not land_ok):
            c = threshold[m] - CAP_MARGIN
            if c < cap:
                cap = c
            break
    return cap if cap > 0.0 else 0.0


@nb.njit(**JIT)
def species_top2(species, skill, n, n_species):
    """Per species: best skill, its row, and the second-best skill (for well-mixed learning)."""
    best = np.full(n_species, -np.inf)
    second = np.full(n_species, -np.inf)
    row = np.full(n_species, -1, np.int64)
    for i in range(n):
        s = species[i]
        z = np.float64(skill[i])
        if z > best[s]:
            second[s] = best[s]
            best[s] = z
            row[s] = i
        elif z > second[s]:
            second[s] = z
    return best, row, second


@nb.njit(inline="always", **JIT)
def _best_in_rows(i, sp, zb, row_start_cell, c0, c1, order, cell_end, species, skill_prev):
    """Best conspecific skill among agents in cells ``c0..c1`` of one row (one contiguous run of ``order``)."""
    a0 = row_start_cell + c0
    start = cell_end[a0 - 1] if a0 > 0 else 0
    stop = cell_end[row_start_cell + c1]
    for j in range(start, stop):
        a = order[j]
        ok = (species[a] == sp) & (a != i)  # branch-free: who is kin is unpredictable
        zb = max(zb, np.float64(skill_prev[a]) if ok else -np.inf)
    return zb


@nb.njit(inline="always", **JIT)
def _best_model_nearby(i, sp, zb, xi, yi, r, width, height, order, cell_end, species, skill_prev):
    """Best skill among conspecifics (other than i) within Chebyshev radius r of (xi, yi).

    Agents are sorted by cell (row-major), so the cells of one row segment
    hold one contiguous run of ``order``: each row costs two lookups plus its
    agents. Requires 2 r < width and 2 r < height (larger radii are well mixed).
    """
    x0 = xi - r
    x1 = xi + r
    cy = yi - r
    if cy < 0:
        cy += height
    for _dy in range(2 * r + 1):
        base = cy * width
        if x0 < 0:
            zb = _best_in_rows(
                i, sp, zb, base, x0 + width, width - 1, order, cell_end, species, skill_prev
            )
            zb = _best_in_rows(i, sp, zb, base, 0, x1, order, cell_end, species, skill_prev)
        elif x1 >= width:
            zb = _best_in_rows(i, sp, zb, base, x0, width - 1, order, cell_end, species, skill_prev)
            zb = _best_in_rows(i, sp, zb, base, 0, x1 - width, order, cell_end, species, skill_prev)
        else:
            zb = _best_in_rows(i, sp, zb, base, x0, x1, order, cell_end, species, skill_prev)
        cy += 1
        if cy == height:
            cy = 0
    return zb


@nb.njit(**JIT_PARALLEL)
def learn_and_innovate(
    skill,
    skill_prev,
    ids,
    species,
    x,
    y,
    genome,
    age,
    guardian,
    habitat,
    n,
    order,
    cell_end,
    best,
    best_row,
    second,
    manipulators,
    fire_substitute,
    threshold,
    min_dexterity,
    needs_land,
    seed,
    tick,
    p,
):
    """One tick of learning and innovation for every agent (see the module docstring).

    ``skill_prev`` must hold a copy of ``skill``; ``order`` and ``cell_end``
    are the cell index of :func:`evosim.engine.kernels.spatial.cell_index` (agents
    sorted by cell, and the end of each cell's run in ``order``).
    Returns (learning attempts, innovations) made this tick (for the compute accounting).
    """
    height, width = habitat.shape
    attempts = 0
    innovations = 0
    for i in nb.prange(n):
        learned = False
        innovated = False
        sp = species[i]
        brain = np.float64(genome[i, G_BRAIN])
        d_eff = effective_dexterity(genome[i], manipulators[sp])
        juvenile = age[i] < maturity(genome[i], p)
        z = np.float64(skill_prev[i])
        rate = p.juvenile_rate if juvenile else p.adult_rate
        if rate > 0.0 and uniform(seed, tick, ids[i], RNG_LEARN, 0) < rate:
            zb = -np.inf
            g = guardian[i]
            if g >= 0:
                zb = np.float64(skill_prev[g])
            r = int(lerp(p.social_radius_min, p.social_radius_max, genome[i, G_SOCIALITY]) + 0.5)
            if 2 * r >= width or 2 * r >= height:
                zs = second[sp] if best_row[sp] == i else best[sp]
                if zs > zb:
                    zb = zs
            else:
                zb = _best_model_nearby(
                    i,
                    sp,
                    zb,
                    np.int64(x[i]),
                    np.int64(y[i]),
                    r,
                    width,
                    height,
                    order,
                    cell_end,
                    species,
                    skill_prev,
                )
            if zb > -np.inf:
                learned = True
                attempts += 1
                alpha = p.alpha0 + p.alpha_dexterity * (1.0 - d_eff) + p.alpha_brain * (1.0 - brain)
                beta = p.beta0 + p.beta_brain * brain
                attempt = zb - alpha + beta * gumbel(seed, tick, ids[i], RNG_LEARN, 1)
                if attempt > z:
                    z = attempt
        if not juvenile and p.innovation_rate > 0.0:
            w = p.innovation_dexterity_weight
            chance = (
                p.innovation_rate
                * power(brain, p.innovation_brain_exponent)
                * ((1.0 - w) + w * d_eff)
            )
            if uniform(seed, tick, ids[i], RNG_INNOVATE, 0) < chance:
                innovated = True
                innovations += 1
                z += p.innovation_step
        if learned or innovated:
            land_ok = habitat[y[i], x[i]] == 1 or fire_substitute[sp] != 0
            cap = skill_ceiling(brain, d_eff, land_ok, threshold, min_dexterity, needs_land, p)
            if z > cap:
                z = cap if cap > skill_prev[i] else np.float64(skill_prev[i])
            if z < 0.0:
                z = 0.0
            skill[i] = z
    return attempts, innovations


@nb.njit(**JIT)
def milestone_levels(skill, n, threshold):
    """Level (milestones held) of every live agent, as uint8."""
    out = np.empty(n, np.uint8)
    for i in range(n):
        out[i] = level_of(np.float64(skill[i]), threshold)
    return out
