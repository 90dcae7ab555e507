"""The technology ladder: which milestones an agent holds, and what they pay.

An agent *holds* milestone m when its skill reaches the milestone's threshold,
it meets the milestone's requirements (effective dexterity at least
``min_dexterity``; for ``needs_land``, it stands on land or its species has a
fire substitute) and it holds every earlier milestone. Its *level* is the
number of milestones held. Requirements gate the ladder, not the skill: an
aquatic agent whose culture is rich enough for fire keeps that skill (it
pays as foraging skill) but holds neither fire nor anything above it until
it stands on land or is given a fire substitute.

A requirement may be *graded* (``dexterity_width`` or ``land_width`` > 0; docs/model.md §7.10): an
agent that misses it still holds the rung if ``skill * efficacy`` reaches the threshold, where the
efficacy falls off from 1 as ``2 / (1 + exp(gap / width))`` with the gap below ``min_dexterity``
(dexterity) or below full land (land: 1 - the land share of the square of radius ``land_radius``
around the agent). Width 0, the default, is the step gate.

``lad`` is :class:`evosim.engine.params.Ladder` (a named tuple of arrays).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from evosim.defaults import G_DEXTERITY, LAND
from evosim.engine.kernels.conf import JIT, ix, kernel


@nb.njit(inline="always", **JIT)
def effective_dexterity(genome_row, manipulators):
    """max(dexterity gene, manipulators granted to the species)."""
    d = np.float64(genome_row[G_DEXTERITY])
    return d if d > manipulators else np.float64(manipulators)


@nb.njit(inline="always", **JIT)
def falloff(gap, width):
    """Efficacy ``2 / (1 + exp(gap / width))`` of a graded requirement missed by ``gap`` >= 0: 1 at 0, to 0."""
    return 2.0 / (1.0 + np.exp(gap / width))


@nb.njit(**JIT)
def land_share(habitat, cx, cy, r):
    """Share of land cells in the (2r+1)-square around (cx, cy) (the grid wraps around)."""
    h, w = habitat.shape
    c = 0
    for dy in range(-r, r + 1):
        yy = (cy + dy) % h
        for dx in range(-r, r + 1):
            c += habitat[yy, (cx + dx) % w] == LAND
    return c / ((2 * r + 1) * (2 * r + 1))


@nb.njit(**JIT)
def graded_holds(k, z, d_eff, land_ok, lad, habitat, cx, cy):
    """Rung ``k`` reached by skill ``z`` but with a requirement unmet: held if it is graded and
    ``z * efficacy >= threshold`` (efficacy: :func:`falloff` of each unmet requirement; docs/model.md)."""
    eff = 1.0
    short = lad.min_dexterity[k] - d_eff
    if short > 0.0:
        if lad.dexterity_width[k] <= 0.0:
            return False
        eff = falloff(short, lad.dexterity_width[k])
    if lad.needs_land[k] != 0 and not land_ok:
        if lad.land_width[k] <= 0.0:
            return False
        r = lad.land_radius[k]
        eff *= falloff(1.0 - land_share(habitat, cx, cy, r), lad.land_width[k])
    return z * eff >= lad.threshold[k]


@nb.njit(inline="always", **JIT)
def is_graded(lad):
    """True if some rung of the ladder has a graded requirement (a width > 0)."""
    return lad.dexterity_width.sum() > 0.0 or lad.land_width.sum() > 0.0


@nb.njit(inline="always", **JIT)
def step_level(z, d_eff, land_ok, lad):
    """Number of milestones held at skill ``z`` under step gates (every width 0).

    The per-agent loops of ``forage`` and ``judge`` call this one: a call that passes arrays (the
    graded rule's land share reads the grid) anywhere in the loop, even on a branch no agent takes,
    makes numba reference-count the ladder's arrays per agent (~40 ns in each kernel). A ladder
    with a graded rung has its levels computed by :func:`graded_levels` before those kernels.
    """
    # one exit from the loop: a ``break`` would make numba reference-count the ladder's arrays on
    # every call (an atomic increment and decrement per array), which costs more than the loop
    k = 0
    m = lad.threshold.shape[0]
    while k < m and not (
        z < lad.threshold[k]
        or d_eff < lad.min_dexterity[k]
        or (lad.needs_land[k] != 0 and not land_ok)
    ):
        k += 1
    return k


@nb.njit(inline="always", **JIT)
def held_level(z, d_eff, land_ok, lad, habitat, cx, cy):
    """Number of milestones held at skill ``z`` (counting up the ladder to the first one not held).

    ``habitat``, ``cx``, ``cy``: the grid and where the agent stands, read only for the land share of
    a graded ``needs_land`` rung. A rung whose requirements are met is held at its threshold, as is
    every rung of a step gate (width 0): the graded path is only taken for an unmet requirement.
    """
    # one exit from the loop: a ``break`` would make numba reference-count the ladder's arrays on
    # every call (an atomic increment and decrement per array), which costs more than the loop
    k = 0
    m = lad.threshold.shape[0]
    while k < m and not (
        z < lad.threshold[k]
        or (
            (d_eff < lad.min_dexterity[k] or (lad.needs_land[k] != 0 and not land_ok))
            and not graded_holds(k, z, d_eff, land_ok, lad, habitat, cx, cy)
        )
    ):
        k += 1
    return k


@nb.njit(inline="always", **JIT)
def agent_level(i, a, habitat, sa, lad):
    """Level of agent ``i`` of ``a`` where it stands now on ``habitat`` (``sa``: its species' abilities)."""
    sp = ix(a.species[i])
    cx = ix(a.x[i])
    cy = ix(a.y[i])
    # no branch (see held_level)
    land_ok = (habitat[cy, cx] == LAND) | (sa.fire_substitute[sp] != 0)
    d_eff = effective_dexterity(a.genome[i], sa.manipulators[sp])
    return held_level(np.float64(a.skill[i]), d_eff, land_ok, lad, habitat, cx, cy)


@nb.njit(inline="always", **JIT)
def step_agent_level(i, a, habitat, sa, lad):
    """:func:`agent_level` under step gates (:func:`step_level`), for the per-agent loops."""
    sp = ix(a.species[i])
    # no branch (see step_level)
    land_ok = (habitat[ix(a.y[i]), ix(a.x[i])] == LAND) | (sa.fire_substitute[sp] != 0)
    d_eff = effective_dexterity(a.genome[i], sa.manipulators[sp])
    return step_level(np.float64(a.skill[i]), d_eff, land_ok, lad)


@nb.njit(inline="always", **JIT)
def skill_payoff(z, p):
    """Foraging skill: easy food yields ``1 + skill_payoff * z / (z + skill_payoff_half)`` times its energy."""
    if p.skill_payoff <= 0.0 or z <= 0.0:
        return 1.0
    return 1.0 + p.skill_payoff * z / (z + p.skill_payoff_half)


@kernel(parallel=True)
def graded_levels(a, habitat, sa, n, lad, out):
    """``out[i]`` = level of agent ``i`` by the graded rule (:func:`held_level`), for ``i < n``.

    Run before ``forage`` and ``judge`` when a rung is graded; they then read these levels
    instead of their step rule (:func:`step_level`).
    """
    for i in nb.prange(n):
        out[i] = agent_level(i, a, habitat, sa, lad)


@kernel(parallel=True)
def held_levels(a, habitat, sa, n, lad):
    """Level (milestones held where each stands) of the live agents ``a[:n]``, as uint8.

    Two loops: under step gates only (every width 0) the loop calls :func:`step_agent_level`, the
    same levels without the graded rule's call that passes the grid (see :func:`step_level`: it
    would cost ~80 ns per agent in reference counts).
    """
    out = np.empty(n, np.uint8)
    if is_graded(lad):
        for i in nb.prange(n):
            out[i] = agent_level(i, a, habitat, sa, lad)
    else:
        for i in nb.prange(n):
            out[i] = step_agent_level(i, a, habitat, sa, lad)
    return out
