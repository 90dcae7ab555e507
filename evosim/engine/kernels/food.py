"""Food regrowth: logistic per cell, capacity and rate by habitat.

:func:`regrow_layers` regrows the simulation's two layers (easy food, with
food patches and the agriculture bonus, and hard food) in one pass over the
grid, written so LLVM vectorises it (selects instead of table lookups and
branches, no running sum). :func:`regrow` is the single-layer kernel that
also returns the food added (the minimal forager benchmark and tests use it).
Both compute each cell with :func:`logistic`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import LAND
from evosim.engine.kernels.conf import JIT, kernel


@nb.njit(inline="always", **JIT)
def logistic(f, k, r, floor):
    """One cell's regrowth: ``F + r max(F, floor) (1 - F/K)`` clipped to [0, K], as float32 (f, k, r float64)."""
    return np.float32(max(min(f + r * max(f, floor) * (1.0 - f / k), k), 0.0))


@kernel(parallel=True)
def regrow(food, habitat, capacity, richness, rate, floor, bonus):
    """Logistic regrowth ``F += r (1 + b) * max(F, floor) * (1 - F/K)``, clipped to [0, K].

    Args:
        food: (H, W) float32 food grid, updated in place.
        habitat: (H, W) uint8, 0 water / 1 land; indexes ``capacity`` and ``rate``.
        capacity: float64[2], K per habitat; a cell's K is ``capacity[habitat] * richness``.
        richness: (H, W) float32 capacity multiplier per cell (food patches), > 0.
        rate: float64[2], r per habitat for this tick (seasons already applied).
        floor: regrowth of an empty cell is computed as if it held ``floor``.
        bonus: (H, W) float32 per-cell rate bonus b (agriculture), or zeros.

    Returns:
        Total food added this tick (float64).
    """
    h, w = food.shape
    row_total = np.zeros(h, np.float64)
    for yy in nb.prange(h):
        acc = 0.0
        for xx in range(w):
            f = np.float64(food[yy, xx])
            new32 = logistic(
                f,
                capacity[habitat[yy, xx]] * richness[yy, xx],
                rate[habitat[yy, xx]] * (1.0 + bonus[yy, xx]),
                floor,
            )
            acc += np.float64(new32) - f
            food[yy, xx] = new32
        row_total[yy] = acc
    total = 0.0
    for yy in range(h):  # serial sum: same result whatever the thread count
        total += row_total[yy]
    return total


@kernel(parallel=True)
def regrow_layers(cells, rate, floor, hard_floor):
    """Regrow easy and hard food in one pass; clear the agriculture bonus as it is used.

    The new easy food is also written, signed by habitat (+F on land, -F on
    water), to the interior of ``sight_pad``: what perception reads (one load
    per cell instead of food and habitat; see :func:`evosim.engine.kernels.move.sense_and_move`).

    Per cell, as :func:`regrow`: easy food ``F += r (1 + b) max(F, floor) (1 - F/K)``
    with ``K = capacity[habitat] * richness`` and b the cell's ``bonus``
    (then set to 0: the next forage writes it anew); hard food the same with
    ``K = hard_capacity[habitat]``, rate ``hard_rate[habitat]``, no bonus
    and no patches. Both are clipped to [0, K] and stored as float32.

    Args:
        cells: the grids (:class:`~evosim.engine.state.Cells`): ``food`` and ``hard`` regrow in
            place; the interior of ``sight_pad`` gets the signed easy food (its halo is not touched:
            :func:`evosim.engine.kernels.move.refresh_halo` does that); ``farmed`` is the easy-food
            rate bonus b (agriculture), zeroed here; ``capacity``, ``hard_capacity`` and ``hard_rate``
            are per habitat.
        rate: float64[2] easy-food regrowth rate per habitat (seasons applied).
        floor, hard_floor: the regrowth floors of easy and hard food.
    """
    food = cells.food
    sight_pad = cells.sight_pad
    halo = cells.halo
    hard = cells.hard
    habitat = cells.habitat
    richness = cells.richness
    bonus = cells.farmed
    capacity = cells.capacity
    hard_capacity = cells.hard_capacity
    hard_rate = cells.hard_rate
    h, w = habitat.shape
    c0, c1, r0, r1 = capacity[0], capacity[1], rate[0], rate[1]
    hc0, hc1, hr0, hr1 = hard_capacity[0], hard_capacity[1], hard_rate[0], hard_rate[1]
    for yy in nb.prange(h):
        frow = food[yy]
        srow = sight_pad[yy + halo, halo : halo + w]
        hrow = hard[yy]
        hab = habitat[yy]
        rich = richness[yy]
        bon = bonus[yy]
        for xx in range(w):
            land = hab[xx] == LAND
            v = logistic(
                np.float64(frow[xx]),
                (c1 if land else c0) * rich[xx],
                (r1 if land else r0) * (1.0 + bon[xx]),
                floor,
            )
            frow[xx] = v
            srow[xx] = v if land else -v
            bon[xx] = 0.0
            hrow[xx] = logistic(
                np.float64(hrow[xx]), hc1 if land else hc0, hr1 if land else hr0, hard_floor
            )
