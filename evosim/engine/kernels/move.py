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
from evosim.engine.kernels.conf import JIT, ix, kernel
from evosim.engine.kernels.phenotype import habitat_efficiency, radius
from evosim.engine.kernels.rays import rays8
from evosim.engine.kernels.rng import hash64
from evosim.engine.kernels.spatial import census_count, census_species

#: Direction 0 is "stay"; 1..8 the Moore neighbours.
DX = np.array([0, 1, 1, 0, -1, -1, -1, 0, 1], np.int64)
DY = np.array([0, 0, 1, 1, 1, 0, -1, -1, -1], np.int64)
_U7 = 1.0 / 128.0


@nb.njit(inline="always", **JIT)
def _u7(word, slot):
    """The ``slot``-th 7-bit uniform (slot 0..8) of a 64-bit word, in [0, 1)."""
    return np.float64((word >> np.uint64(7 * slot)) & np.uint64(0x7F)) * _U7


@kernel
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


@kernel
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
def wrap(v, size):
    if v < 0:
        return v + size
    if v >= size:
        return v - size
    return v


@nb.njit(inline="always", **JIT)
def _kin(code, sp, self_count, half):
    """Saturating pull m / (m + half) of the conspecifics m on a cell at the last census.

    ``code`` is the cell's census code (:func:`~evosim.engine.kernels.spatial.census_code`
    of its majority species, -1 if empty); m is 0 unless the agent's species is the
    majority; ``self_count`` (1 for the agent's own cell) removes the agent.
    Branch-free (which cells hold kin is unpredictable).
    """
    m = np.float64(census_count(code) - self_count)
    ok = (code >= 0) & (census_species(code) == sp) & (m > 0.0)
    v = m / (m + half) if m + half != 0.0 else 0.0
    return v if ok else 0.0


@nb.njit(inline="always", **JIT)
def _better(seen, e_first, noise, kin, best, best_d, d):
    """Score of direction d; (score, d) if it beats ``best`` (a direction whose first cell is barred never does)."""
    if e_first <= 0.0:
        return best, best_d
    score = (seen + noise) * e_first + kin
    if score > best:
        return score, d
    return best, best_d


@kernel(parallel=True)
def sense_and_move(a, n, cells, clock, p):
    """Move every agent one step (or not), in place; charge the move cost.

    Args:
        a: the agents (:class:`~evosim.engine.state.Agents`); ``x``, ``y`` and ``energy``
            of rows ``0 .. n-1`` are updated.
        n: live agents.
        cells: the grids (:class:`~evosim.engine.state.Cells`): perception reads
            ``sight_pad`` (easy food signed by habitat: +F on land, -F on water, as
            :func:`evosim.engine.kernels.food.regrow_layers` writes it), ``habitat_pad`` and
            ``census_pad`` (taken by :func:`evosim.engine.kernels.forage.forage`), grids padded
            by :func:`pad_torus` / :func:`refresh_halo` with ``halo`` >= the largest
            perception radius.
        clock: the seed and tick keying the draws.
        p: the parameters.

    One 64-bit hash per agent and tick gives nine 7-bit noise draws, one per
    option (stay + 8 directions). The 8 rays are walked together, one distance at
    a time, as two 4-lane vectors (:func:`~evosim.engine.kernels.rays.rays8`);
    directions 1..8 are those of ``DX``/``DY``: E, SE, S, SW, W, NW, N, NE.
    """
    x = a.x  # one field per statement: a tuple assignment here miscompiles the parallel build
    y = a.y
    genome = a.genome
    energy = a.energy
    ids = a.id
    species = a.species
    guardian = a.guardian
    sight_pad = cells.sight_pad
    habitat_pad = cells.habitat_pad
    census_pad = cells.census_pad
    halo = cells.halo
    seed = clock.seed
    tick = clock.tick
    height = sight_pad.shape[0] - 2 * halo
    width = sight_pad.shape[1] - 2 * halo
    fp = sight_pad.ravel()
    hp = habitat_pad.ravel()
    cp = census_pad.ravel()
    S = sight_pad.shape[1]  # noqa: N806 (the row stride, as in the offsets below)
    sd = p.sight_discount
    amp = p.move_noise
    half = p.attraction_half
    offs = (1, S + 1, S, S - 1, -1, -S - 1, -S, -S + 1)  # one step along each ray, flat
    for i in nb.prange(n):
        if guardian[i] >= 0:
            continue
        h = np.float64(genome[i, G_HABITAT])
        social = p.social_attraction * genome[i, G_SOCIALITY]
        sp = species[i]
        e_water = habitat_efficiency(h, 0, p)
        e_gain = habitat_efficiency(h, 1, p) - e_water
        e_land = e_water + e_gain  # (as computed for a land cell: e_water + e_gain * 1)
        r = radius(genome[i], p)
        if r > halo:
            r = halo
        b = (np.int64(y[i]) + halo) * S + np.int64(x[i]) + halo
        word = hash64(seed, tick, ids[i], RNG_MOVE, 0)
        e1 = e_water + e_gain * hp[ix(b + 1)]  # efficiency on the first cell of each ray
        e2 = e_water + e_gain * hp[ix(b + S + 1)]
        e3 = e_water + e_gain * hp[ix(b + S)]
        e4 = e_water + e_gain * hp[ix(b + S - 1)]
        e5 = e_water + e_gain * hp[ix(b - 1)]
        e6 = e_water + e_gain * hp[ix(b - S - 1)]
        e7 = e_water + e_gain * hp[ix(b - S)]
        e8 = e_water + e_gain * hp[ix(b - S + 1)]
        s1 = abs(fp[ix(b + 1)]) * e1  # best food seen along each ray
        s2 = abs(fp[ix(b + S + 1)]) * e2
        s3 = abs(fp[ix(b + S)]) * e3
        s4 = abs(fp[ix(b + S - 1)]) * e4
        s5 = abs(fp[ix(b - 1)]) * e5
        s6 = abs(fp[ix(b - S - 1)]) * e6
        s7 = abs(fp[ix(b - S)]) * e7
        s8 = abs(fp[ix(b - S + 1)]) * e8
        # cells k steps away count sight_discount**(k-1): the 8 rays as vectors, per distance
        s1, s2, s3, s4, s5, s6, s7, s8 = rays8(
            fp, b, offs, r, e_water, e_land, sd, (s1, s2, s3, s4, s5, s6, s7, s8)
        )
        best = (abs(fp[ix(b)]) + amp * _u7(word, 0)) * (e_water + e_gain * hp[ix(b)])
        k1 = k2 = k3 = k4 = k5 = k6 = k7 = k8 = 0.0
        if social > 0.0:
            best += social * _kin(cp[ix(b)], sp, 1, half)
            k1 = social * _kin(cp[ix(b + 1)], sp, 0, half)
            k2 = social * _kin(cp[ix(b + S + 1)], sp, 0, half)
            k3 = social * _kin(cp[ix(b + S)], sp, 0, half)
            k4 = social * _kin(cp[ix(b + S - 1)], sp, 0, half)
            k5 = social * _kin(cp[ix(b - 1)], sp, 0, half)
            k6 = social * _kin(cp[ix(b - S - 1)], sp, 0, half)
            k7 = social * _kin(cp[ix(b - S)], sp, 0, half)
            k8 = social * _kin(cp[ix(b - S + 1)], sp, 0, half)
        best_d = 0
        best, best_d = _better(s1, e1, amp * _u7(word, 1), k1, best, best_d, 1)
        best, best_d = _better(s2, e2, amp * _u7(word, 2), k2, best, best_d, 2)
        best, best_d = _better(s3, e3, amp * _u7(word, 3), k3, best, best_d, 3)
        best, best_d = _better(s4, e4, amp * _u7(word, 4), k4, best, best_d, 4)
        best, best_d = _better(s5, e5, amp * _u7(word, 5), k5, best, best_d, 5)
        best, best_d = _better(s6, e6, amp * _u7(word, 6), k6, best, best_d, 6)
        best, best_d = _better(s7, e7, amp * _u7(word, 7), k7, best, best_d, 7)
        best, best_d = _better(s8, e8, amp * _u7(word, 8), k8, best, best_d, 8)
        # the move, written whether or not the agent moves (staying: DX[0] = DY[0] = 0, no
        # cost): which agents move is unpredictable
        tx = wrap(np.int64(x[i]) + DX[best_d], width)
        ty = wrap(np.int64(y[i]) + DY[best_d], height)
        x[i] = tx
        y[i] = ty
        land = hp[ix(b + DY[best_d] * S + DX[best_d])]
        cost = p.move_cost * (1.0 + p.habitat_move_cost * abs(h - land))
        energy[i] -= cost if best_d != 0 else 0.0


@nb.njit(inline="always", **JIT)
def _toward(a, b, size):
    """-1, 0 or +1: the shorter way from a to b on a ring of ``size``."""
    d = b - a
    if d > size // 2:
        d -= size
    elif d < -(size // 2):
        d += size
    return 1 if d > 0 else (-1 if d < 0 else 0)


@kernel(parallel=True)
def follow_guardians(a, n, cells, p):
    """Step each dependant one cell toward its parent (after the parents moved).

    Parents are never dependants, so every read is of a position that no
    longer changes this tick: the result does not depend on thread count.
    """
    x = a.x  # one field per statement: a tuple assignment here miscompiles the parallel build
    y = a.y
    genome = a.genome
    energy = a.energy
    guardian = a.guardian
    habitat = cells.habitat
    height, width = habitat.shape
    for i in nb.prange(n):
        g = guardian[i]
        if g < 0:
            continue
        dx = _toward(np.int64(x[i]), np.int64(x[ix(g)]), width)
        dy = _toward(np.int64(y[i]), np.int64(y[ix(g)]), height)
        if dx == 0 and dy == 0:
            continue
        tx = wrap(np.int64(x[i]) + dx, width)
        ty = wrap(np.int64(y[i]) + dy, height)
        x[i] = tx
        y[i] = ty
        h = np.float64(genome[i, G_HABITAT])
        energy[i] -= p.move_cost * (1.0 + p.habitat_move_cost * abs(h - habitat[ix(ty), ix(tx)]))
