"""Sense and move: each agent steps to one of its 8 neighbours or stays.

An agent scores each of the 8 directions by the best food it sees along that
ray within its perception radius (brain), each cell's food weighted by the
agent's habitat efficiency there and discounted by ``sight_discount**(k-1)``
for a cell k steps away; the whole ray is weighted by the efficiency of the
first cell (an aquatic agent does not step onto land to reach water beyond).
Staying scores the food of its own cell. Each option gets exploration noise
``move_noise * u * efficiency`` (u uniform on 128 levels, keyed by agent id
and tick); the
agent takes the best option and pays ``move_cost * (1 + move_mismatch_cost *
|h - cell|)`` for a step.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_BRAIN, G_HABITAT, RNG_MOVE
from evosim.kernels.conf import JIT, JIT_PARALLEL
from evosim.kernels.phenotype import habitat_efficiency, radius
from evosim.kernels.rng import hash64

#: Direction 0 is "stay"; 1..8 the Moore neighbours.
DX = np.array([0, 1, 1, 0, -1, -1, -1, 0, 1], np.int64)
DY = np.array([0, 0, 1, 1, 1, 0, -1, -1, -1], np.int64)
_U7 = 1.0 / 128.0


@nb.njit(inline="always", **JIT)
def _u7(word, slot):
    """The ``slot``-th 7-bit uniform (slot 0..8) of a 64-bit word, in [0, 1)."""
    return np.float64((word >> np.uint64(7 * slot)) & np.uint64(0x7F)) * _U7


@nb.njit(**JIT)
def pad_torus(grid, out, halo):
    """Copy ``grid`` into the middle of ``out`` with a wrapped halo of ``halo`` cells.

    ``out`` has shape (H + 2 halo, W + 2 halo); perception reads it without
    wrap-around arithmetic.
    """
    height, width = grid.shape
    for yy in range(height + 2 * halo):
        sy = (yy - halo) % height
        for xx in range(width + 2 * halo):
            out[yy, xx] = grid[sy, (xx - halo) % width]


@nb.njit(**JIT_PARALLEL)
def sense_and_move(x, y, genome, energy, ids, n, food_pad, habitat_pad, halo, seed, tick, p):
    """Move every agent one step (or not), in place; charge the move cost.

    ``food_pad`` and ``habitat_pad`` are the grids padded by :func:`pad_torus`
    with ``halo`` >= the largest perception radius. One 64-bit hash per agent
    and tick gives nine 7-bit noise draws, one per option (stay + 8 directions).
    """
    height = food_pad.shape[0] - 2 * halo
    width = food_pad.shape[1] - 2 * halo
    fp = food_pad.ravel()
    hp = habitat_pad.ravel()
    stride = food_pad.shape[1]
    for i in nb.prange(n):
        h = np.float64(genome[i, G_HABITAT])
        e_water = habitat_efficiency(h, 0, p)
        e_gain = habitat_efficiency(h, 1, p) - e_water
        r = radius(genome[i], p)
        if r > halo:
            r = halo
        base = (np.int64(y[i]) + halo) * stride + np.int64(x[i]) + halo
        word = hash64(seed, tick, ids[i], RNG_MOVE, 0)
        e_here = e_water + e_gain * hp[base]
        best = (fp[base] + p.move_noise * _u7(word, 0)) * e_here
        best_d = 0
        for d in range(1, 9):
            step = DY[d] * stride + DX[d]
            idx = base + step
            e_first = e_water + e_gain * hp[idx]
            if e_first <= 0.0:
                continue
            seen = fp[idx] * e_first
            disc = p.sight_discount
            for _k in range(1, r):
                idx += step
                v = fp[idx] * (e_water + e_gain * hp[idx]) * disc
                if v > seen:
                    seen = v
                disc *= p.sight_discount
            score = (seen + p.move_noise * _u7(word, d)) * e_first
            if score > best:
                best = score
                best_d = d
        if best_d != 0:
            tx = (np.int64(x[i]) + DX[best_d]) % width
            ty = (np.int64(y[i]) + DY[best_d]) % height
            x[i] = tx
            y[i] = ty
            land = hp[base + DY[best_d] * stride + DX[best_d]]
            energy[i] -= p.move_cost * (1.0 + p.habitat_move_cost * abs(h - land))


@nb.njit(**JIT_PARALLEL)
def random_walk(x, y, ids, n, height, width, seed, tick):
    """Move every agent to a uniformly random cell of its Moore neighbourhood (or stay)."""
    for i in nb.prange(n):
        d = np.int64(hash64(seed, tick, ids[i], RNG_MOVE, 0) % np.uint64(9))
        x[i] = (x[i] + DX[d]) % width
        y[i] = (y[i] + DY[d]) % height
