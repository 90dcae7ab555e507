"""Foraging: each cell's food is shared among the agents on it.

Rule (deterministic and blind to agent order): agent i on a cell asks for
``d_i = min(intake * j_i * efficiency_i, room_i / food_energy)`` where ``j_i``
is ``juvenile_intake`` before maturity and 1 after, ``room_i`` is
what its energy store can still take. If the cell holds at least the total
demand D, everyone gets its demand; otherwise everyone gets the same fraction
F / D of its demand. The cell loses exactly what was eaten.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_HABITAT, G_SOCIALITY
from evosim.kernels.conf import JIT, JIT_PARALLEL
from evosim.kernels.phenotype import habitat_efficiency, maturity


@nb.njit(inline="always", **JIT)
def demand(genome_row, e, a, cell_land, p):
    """Food an agent (energy e, age a) would eat on this cell if there were plenty."""
    d = p.intake * habitat_efficiency(np.float64(genome_row[G_HABITAT]), cell_land, p)
    if a < maturity(genome_row, p):
        d *= p.juvenile_intake
    room = (p.max_energy - e) / p.food_energy
    if room < d:
        d = room
    return d if d > 0.0 else 0.0


@nb.njit(**JIT_PARALLEL)
def forage(order, group_start, n_groups, x, y, genome, energy, age, food, habitat, p):
    """Share each occupied cell's food among its agents; update food and energy in place."""
    for g in nb.prange(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        i0 = order[s]
        cy = y[i0]
        cx = x[i0]
        land = habitat[cy, cx]
        f = np.float64(food[cy, cx])
        total = 0.0
        for j in range(s, e):
            i = order[j]
            total += demand(genome[i], np.float64(energy[i]), age[i], land, p)
        if total <= 0.0 or f <= 0.0:
            continue
        take = total if total < f else f
        frac = take / total
        for j in range(s, e):
            i = order[j]
            energy[i] += demand(genome[i], np.float64(energy[i]), age[i], land, p) * frac * p.food_energy
        food[cy, cx] = np.float32(f - take)


@nb.njit(**JIT_PARALLEL)
def forage_simple(order, group_start, n_groups, x, y, energy, food, intake):
    """Minimal forager rule (benchmarks): equal shares of min(F, k * intake)."""
    for g in nb.prange(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        i0 = order[s]
        f = np.float64(food[y[i0], x[i0]])
        want = intake * (e - s)
        take = want if want < f else f
        each = take / (e - s)
        for j in range(s, e):
            energy[order[j]] += each
        food[y[i0], x[i0]] = np.float32(f - take)


@nb.njit(**JIT_PARALLEL)
def share_food(order, group_start, n_groups, species, genome, energy, p):
    """Food sharing among conspecifics on the same cell (off when ``share_rate`` is 0).

    Each agent above ``share_above`` gives ``share_rate * sociality`` of its
    energy above that line; each species' pool on the cell is split equally
    among its members below ``share_below`` (if none, nothing is given).
    """
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
            for jj in range(j, e):
                i = order[jj]
                if species[i] != sp:
                    continue
                if energy[i] > p.share_above:
                    energy[i] -= (energy[i] - p.share_above) * p.share_rate * genome[i, G_SOCIALITY]
                elif energy[i] < p.share_below:
                    energy[i] += each
