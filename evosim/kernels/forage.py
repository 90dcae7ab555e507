"""Foraging: each cell's food is shared among the agents on it.

Rule (deterministic and blind to agent order): agent i on a cell asks for
``d_i = min(intake * efficiency_i, room_i / food_energy)`` where ``room_i`` is
what its energy store can still take. If the cell holds at least the total
demand D, everyone gets its demand; otherwise everyone gets the same fraction
F / D of its demand. The cell loses exactly what was eaten.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_HABITAT
from evosim.kernels.conf import JIT, JIT_PARALLEL
from evosim.kernels.phenotype import habitat_efficiency


@nb.njit(inline="always", **JIT)
def demand(genome_row, e, cell_land, p):
    """Food agent would eat on this cell if there were plenty."""
    d = p.intake * habitat_efficiency(np.float64(genome_row[G_HABITAT]), cell_land, p)
    room = (p.max_energy - e) / p.food_energy
    if room < d:
        d = room
    return d if d > 0.0 else 0.0


@nb.njit(**JIT_PARALLEL)
def forage(order, group_start, n_groups, x, y, genome, energy, food, habitat, p):
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
            total += demand(genome[i], np.float64(energy[i]), land, p)
        if total <= 0.0 or f <= 0.0:
            continue
        take = total if total < f else f
        frac = take / total
        for j in range(s, e):
            i = order[j]
            energy[i] += demand(genome[i], np.float64(energy[i]), land, p) * frac * p.food_energy
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
