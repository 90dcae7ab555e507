"""Sense and move: each agent steps to one of its 8 neighbours or stays.

An agent scores each of the 8 directions by the best food it sees along that
ray within its perception radius (brain), each cell's food weighted by the
agent's habitat efficiency there and discounted by ``sight_discount**(k-1)``
for a cell k steps away; the whole ray is weighted by the efficiency of the
first cell (an aquatic agent does not step onto land to reach water beyond).
Staying scores the food of its own cell. Sociality adds aggregation: an
option gains ``attraction * sociality * m / (m + attraction_half)`` where m
counts conspecifics on that cell at the last census when they are its
majority (the agent itself not counted). Each option gets exploration noise
``move_noise * u * efficiency`` (u uniform on 128 levels, keyed by agent id
and tick); the
agent takes the best option and pays ``move_cost * (1 + move_mismatch_cost *
|h - cell|)`` for a step.

Dependants (``guardian >= 0``) do not choose: after everyone else has moved,
:func:`follow_guardians` steps each one toward its parent.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_HABITAT, G_SOCIALITY, RNG_MOVE
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


@nb.njit(**JIT)
def refresh_halo(pad, halo):
    """Rewrite the wrapped halo of a padded grid from its interior, in place.

    ``pad`` has shape (H + 2 halo, W + 2 halo) and its interior
    ``pad[halo:-halo, halo:-halo]`` is the grid itself (a view the simulation
    updates in place); only the 2 halo (H + W + 2 halo) halo cells are
    written, not the whole grid as :func:`pad_torus` does.
    """
    if halo == 0:
        return
    ph, pw = pad.shape
    height = ph - 2 * halo
    width = pw - 2 * halo
    for k in range(halo):  # left and right strips of the interior rows (any halo, even > width)
        left = halo + (k - halo) % width
        right = halo + k % width
        for yy in range(halo, halo + height):
            pad[yy, k] = pad[yy, left]
            pad[yy, halo + width + k] = pad[yy, right]
    for k in range(halo):  # top and bottom strips, whole rows (corners included)
        top = halo + (k - halo) % height
        bottom = halo + k % height
        for xx in range(pw):
            pad[k, xx] = pad[top, xx]
            pad[halo + height + k, xx] = pad[bottom, xx]


@nb.njit(inline="always", **JIT)
def _wrap(v, size):
    if v < 0:
        return v + size
    if v >= size:
        return v - size
    return v


@nb.njit(inline="always", **JIT)
def _kin(code, sp, self_count, half):
    """Saturating pull m / (m + half) of the conspecifics m on a cell at the last census.

    ``code`` is the cell's census code (``species * 65536 + count`` of its
    majority species, -1 if empty); m is 0 unless the agent's species is the
    majority; ``self_count`` (1 for the agent's own cell) removes the agent.
    """
    if code < 0 or (code >> 16) != sp:
        return 0.0
    m = np.float64((code & 0xFFFF) - self_count)
    return m / (m + half) if m > 0.0 else 0.0


@nb.njit(**JIT_PARALLEL)
def sense_and_move(x, y, genome, energy, ids, species, guardian, n, food_pad, habitat_pad, census_pad, halo,
                   seed, tick, p):
    """Move every agent one step (or not), in place; charge the move cost.

    ``food_pad``, ``habitat_pad`` and ``census_pad`` (see
    :func:`evosim.kernels.spatial.census`) are grids padded by
    :func:`pad_torus` with ``halo`` >= the largest perception radius. One
    64-bit hash per agent and tick gives nine 7-bit noise draws, one per option
    (stay + 8 directions).
    """
    height = food_pad.shape[0] - 2 * halo
    width = food_pad.shape[1] - 2 * halo
    fp = food_pad.ravel()
    hp = habitat_pad.ravel()
    cp = census_pad.ravel()
    stride = food_pad.shape[1]
    for i in nb.prange(n):
        if guardian[i] >= 0:
            continue
        h = np.float64(genome[i, G_HABITAT])
        social = p.social_attraction * genome[i, G_SOCIALITY]
        sp = species[i]
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        e_water = habitat_efficiency(h, 0, p)
        e_gain = habitat_efficiency(h, 1, p) - e_water
        r = radius(genome[i], p)
        if r > halo:
            r = halo
        base = (np.int64(y[i]) + halo) * stride + np.int64(x[i]) + halo
        word = hash64(seed, tick, ids[i], RNG_MOVE, 0)
        e_here = e_water + e_gain * hp[base]
        best = (fp[base] + p.move_noise * _u7(word, 0)) * e_here
        if social > 0.0:
            best += social * _kin(cp[base], sp, 1, p.attraction_half)
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
            if social > 0.0:
                score += social * _kin(cp[base + step], sp, 0, p.attraction_half)
            better = score > best
            best_d = d if better else best_d
            best = score if better else best
        if best_d != 0:
            tx = _wrap(xi + DX[best_d], width)
            ty = _wrap(yi + DY[best_d], height)
            x[i] = tx
            y[i] = ty
            land = hp[base + DY[best_d] * stride + DX[best_d]]
            energy[i] -= p.move_cost * (1.0 + p.habitat_move_cost * abs(h - land))


@nb.njit(inline="always", **JIT)
def _toward(a, b, size):
    """-1, 0 or +1: the shorter way from a to b on a ring of ``size``."""
    d = b - a
    if d > size // 2:
        d -= size
    elif d < -(size // 2):
        d += size
    return 1 if d > 0 else (-1 if d < 0 else 0)


@nb.njit(**JIT_PARALLEL)
def follow_guardians(x, y, genome, energy, guardian, n, habitat, p):
    """Step each dependant one cell toward its parent (after the parents moved).

    Parents are never dependants, so every read is of a position that no
    longer changes this tick: the result does not depend on thread count.
    """
    height, width = habitat.shape
    for i in nb.prange(n):
        g = guardian[i]
        if g < 0:
            continue
        dx = _toward(np.int64(x[i]), np.int64(x[g]), width)
        dy = _toward(np.int64(y[i]), np.int64(y[g]), height)
        if dx == 0 and dy == 0:
            continue
        tx = _wrap(np.int64(x[i]) + dx, width)
        ty = _wrap(np.int64(y[i]) + dy, height)
        x[i] = tx
        y[i] = ty
        h = np.float64(genome[i, G_HABITAT])
        energy[i] -= p.move_cost * (1.0 + p.habitat_move_cost * abs(h - habitat[ty, tx]))


@nb.njit(**JIT_PARALLEL)
def random_walk(x, y, ids, n, height, width, seed, tick):
    """Move every agent to a uniformly random cell of its Moore neighbourhood (or stay)."""
    for i in nb.prange(n):
        d = np.int64(((hash64(seed, tick, ids[i], RNG_MOVE, 0) >> np.uint64(32)) * np.uint64(9)) >> np.uint64(32))
        x[i] = _wrap(np.int64(x[i]) + DX[d], width)
        y[i] = _wrap(np.int64(y[i]) + DY[d], height)
