"""Foraging: each cell's food is shared among the agents on it.

Rule (deterministic and blind to agent order): agent i on a cell asks for
``d_i = min(intake * j_i * efficiency_i, room_i / gain_i)`` where ``j_i``
is ``juvenile_intake`` before maturity and 1 after, ``room_i`` is what its
energy store can still take and ``gain_i`` the energy per unit of food. If the
cell holds at least the total demand D, everyone gets its demand; otherwise
everyone gets the same fraction F / D of its demand. The cell loses exactly
what was eaten. Hard food is then shared by the same rule, with demand
``hard_intake * min(1, skill / skill_scale) * d_eff * hard_mult * j_i`` for agents
holding a milestone that grants access (0 for the others).

Energy per unit eaten is private: the product of the energy multipliers of
the milestones the agent holds where it stands (cooking needs land, so an
agent on water cooks nothing), times its foraging-skill payoff on easy food
(:func:`evosim.engine.kernels.ladder.skill_payoff`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_HABITAT, G_SOCIALITY, LAND
from evosim.engine.kernels.conf import JIT, ix, kernel
from evosim.engine.kernels.ladder import effective_dexterity, is_graded, skill_payoff, step_level
from evosim.engine.kernels.phenotype import habitat_efficiency, maturity
from evosim.engine.kernels.spatial import census_code, clear_census, majority


@nb.njit(inline="always", **JIT)
def demand(genome_row, e, a, cell_land, p):
    """Easy food an agent (energy e, age a) would eat on this cell if there were plenty (before room)."""
    d = p.intake * habitat_efficiency(np.float64(genome_row[G_HABITAT]), cell_land, p)
    if a < maturity(genome_row, p):
        d *= p.juvenile_intake
    return d


@nb.njit(inline="always", **JIT)
def _room(e, gain, p):
    """Food units whose energy ``gain`` each still fits in the store."""
    r = (p.max_energy - e) / gain
    return r if r > 0.0 else 0.0


@nb.njit(inline="always", **JIT)
def hard_demand(genome_row, z, a, level, d_eff, lad, p):
    """Hard food an agent would extract if there were plenty: needs access, skill and dexterity."""
    if not lad.hard_access[level]:
        return 0.0
    y = z / p.hard_skill_scale
    if y > 1.0:
        y = 1.0
    d = p.hard_intake * y * d_eff * lad.hard_mult[level]
    if a < maturity(genome_row, p):
        d *= p.juvenile_intake
    return d


@nb.njit(inline="always", **JIT)
def _share(order, s, e, stock, total, want, gain, energy):
    """Give agents ``order[s:e]`` the same fraction of their demand ``want`` from ``stock``; returns what was eaten."""
    if total <= 0.0 or stock <= 0.0:
        return 0.0
    take = total if total < stock else stock
    frac = take / total
    for j in range(s, e):
        i = ix(order[j])
        energy[i] += want[i] * frac * gain[i]
    return take


@kernel(parallel=True)
def forage(a, cells, sa, index, lad, p, buf):
    """Share each occupied cell's easy food, then its hard food, among its agents (in place).

    Args:
        a: the agents (:class:`~evosim.engine.state.Agents`); their ``energy`` grows.
        cells: the grids (:class:`~evosim.engine.state.Cells`): ``food`` and ``hard`` are eaten,
            ``farmed`` gets each occupied cell's regrowth bonus; with aggregation on
            (``p.social_attraction > 0``) the census is taken into ``census_pad`` (below).
        sa: per-species ``manipulators`` and ``fire_substitute`` (:class:`~evosim.engine.state.SpeciesArrays`).
        index: agents grouped by cell (:class:`~evosim.engine.state.Index`).
        lad: the ladder (:class:`~evosim.engine.state.Ladder`).
        p: :class:`~evosim.engine.state.Params`.
        buf: the tick's :class:`~evosim.engine.state.Arena`: ``want`` and ``gain`` get each
            agent's demand and energy per unit for the layer being shared, ``level`` its
            milestone level here (with a graded rung in the ladder, ``level`` comes in filled by
            :func:`evosim.engine.kernels.ladder.graded_levels` and is read, not computed).

    Energy per unit is ``food_energy`` (easy; times the foraging-skill payoff)
    or ``hard_food.energy`` (hard), times the product of the held milestones'
    energy multipliers. ``farmed`` gets each occupied cell's largest regrowth
    bonus among its agents (agriculture), read by the next regrowth.

    **Census.** With aggregation on, the walk over the occupied cells also takes the census
    the next tick's movement reads: per cell, the :func:`~evosim.engine.kernels.spatial.census_code`
    of its majority species (ties to the lowest id), -1 where empty, in the interior of
    ``cells.census_pad`` (its halo is left to :func:`evosim.engine.kernels.move.refresh_halo`).
    Only the cells the last census wrote are cleared first (``cells.census_cells[:n]``, n =
    ``cells.census_n[0]``; n < 0 clears the whole grid); the cells written now are stored there
    (``census_cells`` must hold ``index.n_groups``). Foraging moves no agent, so this is the
    census of the positions the index grouped.
    """
    order = index.order
    group_start = index.group_start
    n_groups = index.n_groups
    x = a.x
    y = a.y
    genome = a.genome
    energy = a.energy
    age = a.age
    skill = a.skill
    species = a.species
    food = cells.food
    hard = cells.hard
    habitat = cells.habitat
    farmed = cells.farmed
    manipulators = sa.manipulators
    fire_substitute = sa.fire_substitute
    want = buf.want
    gain = buf.gain
    level = buf.level
    graded = is_graded(lad)  # then buf.level holds the graded levels already
    census = cells.census_pad.ravel()
    written = cells.census_cells
    n_written = cells.census_n
    halo = cells.halo
    stride = cells.census_pad.shape[1]
    take_census = p.social_attraction > 0.0
    if take_census:
        clear_census(census, written, n_written[0])
    for g in nb.prange(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        i0 = ix(order[s])
        cy = ix(y[i0])
        cx = ix(x[i0])
        land = habitat[cy, cx]
        if take_census:
            best_sp, best_c = majority(order, s, e, species)
            cell = (np.int64(cy) + halo) * stride + np.int64(cx) + halo
            census[ix(cell)] = census_code(best_sp, best_c)
            written[g] = cell
        # easy food
        total = 0.0
        bonus = 0.0
        access = False
        for j in range(s, e):
            i = ix(order[j])
            sp = ix(species[i])
            z = np.float64(skill[i])
            if graded:  # levels by the graded rule, computed before (ladder.graded_levels)
                lv = np.int64(level[i])
            else:
                lv = step_level(z, effective_dexterity(genome[i], manipulators[sp]), land == LAND
                                or fire_substitute[sp] != 0, lad)  # fmt: skip
            level[i] = lv
            gain[i] = p.food_energy * lad.energy_mult[lv] * skill_payoff(z, p)
            want[i] = min(
                demand(genome[i], energy[i], age[i], land, p),
                _room(np.float64(energy[i]), gain[i], p),
            )
            total += want[i]
            if lad.regrowth_bonus[lv] > bonus:
                bonus = lad.regrowth_bonus[lv]
            access |= lad.hard_access[lv] != 0
        farmed[cy, cx] = bonus
        f = np.float64(food[cy, cx])
        take = _share(order, s, e, f, total, want, gain, energy)
        if take > 0.0:
            food[cy, cx] = np.float32(f - take)
        # hard food (demand computed after the easy food filled the stores)
        h = np.float64(hard[cy, cx])
        if h <= 0.0 or not access:  # (without access every demand is 0: nothing would be eaten)
            continue
        total = 0.0
        for j in range(s, e):
            i = ix(order[j])
            lv = level[i]
            gain[i] = p.hard_energy * lad.energy_mult[lv]
            d_eff = effective_dexterity(genome[i], manipulators[ix(species[i])])
            d = hard_demand(genome[i], np.float64(skill[i]), age[i], lv, d_eff, lad, p)
            want[i] = min(d, _room(np.float64(energy[i]), gain[i], p))
            total += want[i]
        take = _share(order, s, e, h, total, want, gain, energy)
        if take > 0.0:
            hard[cy, cx] = np.float32(h - take)
    if take_census:
        n_written[0] = n_groups


@kernel(parallel=True)
def share_food(a, index, p):
    """Food sharing among conspecifics on the same cell (off when ``share_rate`` is 0).

    Each agent above ``share_above`` offers ``share_rate * sociality`` of its
    energy above that line; each species' pool on the cell is split equally
    among its members below ``share_below`` (if none, nothing is given), no
    receiver beyond ``max_energy``; donors pay, in proportion to their offers,
    exactly what was received.
    """
    order = index.order
    group_start = index.group_start
    n_groups = index.n_groups
    species = a.species
    genome = a.genome
    energy = a.energy
    for g in nb.prange(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        if e - s < 2:
            continue
        for j in range(s, e):  # one pass per distinct species on the cell
            sp = species[order[j]]
            first = True
            for jj in range(s, j):
                if species[order[jj]] == sp:
                    first = False
                    break
            if not first:
                continue
            pool = 0.0
            takers = 0
            for jj in range(j, e):
                i = order[jj]
                if species[i] != sp:
                    continue
                if energy[i] > p.share_above:
                    pool += (energy[i] - p.share_above) * p.share_rate * genome[i, G_SOCIALITY]
                elif energy[i] < p.share_below:
                    takers += 1
            if takers == 0 or pool <= 0.0:
                continue
            each = pool / takers
            taken = 0.0
            for jj in range(j, e):
                i = order[jj]
                if species[i] == sp and energy[i] < p.share_below:
                    room = p.max_energy - np.float64(energy[i])
                    got = each if each < room else (room if room > 0.0 else 0.0)
                    energy[i] += got
                    taken += got
            paid = taken / pool
            for jj in range(j, e):
                i = order[jj]
                if species[i] == sp and energy[i] > p.share_above:
                    energy[i] -= (
                        (energy[i] - p.share_above) * p.share_rate * genome[i, G_SOCIALITY] * paid
                    )
