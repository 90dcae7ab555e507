"""Easy-food regrowth: logistic per cell, capacity and rate by habitat."""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.kernels.conf import JIT_PARALLEL


@nb.njit(**JIT_PARALLEL)
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
            k = capacity[habitat[yy, xx]] * richness[yy, xx]
            f = np.float64(food[yy, xx])
            base = f if f > floor else floor
            new = f + rate[habitat[yy, xx]] * (1.0 + bonus[yy, xx]) * base * (1.0 - f / k)
            if new > k:
                new = k
            if new < 0.0:
                new = 0.0
            new32 = np.float32(new)
            acc += np.float64(new32) - f
            food[yy, xx] = new32
        row_total[yy] = acc
    total = 0.0
    for yy in range(h):  # serial sum: same result whatever the thread count
        total += row_total[yy]
    return total
