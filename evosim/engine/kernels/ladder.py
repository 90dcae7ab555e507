"""The technology ladder: which milestones an agent holds, and what they pay.

An agent *holds* milestone m when its skill reaches the milestone's threshold,
it meets the milestone's requirements (effective dexterity at least
``min_dexterity``; for ``needs_land``, it stands on land or its species has a
fire substitute) and it holds every earlier milestone. Its *level* is the
number of milestones held. Requirements gate the ladder, not the skill: an
aquatic agent whose culture is rich enough for fire keeps that skill (it
pays as foraging skill) but holds neither fire nor anything above it until
it stands on land or is given a fire substitute.

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
def held_level(z, d_eff, land_ok, lad):
    """Number of milestones held at skill ``z`` (counting up the ladder to the first one not held)."""
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
def agent_level(i, skill, genome, species, x, y, habitat, manipulators, fire_substitute, lad):
    """Level of agent ``i`` where it stands now."""
    sp = ix(species[i])
    # no branch (see held_level)
    land_ok = (habitat[ix(y[i]), ix(x[i])] == LAND) | (fire_substitute[sp] != 0)
    d_eff = effective_dexterity(genome[i], manipulators[sp])
    return held_level(np.float64(skill[i]), d_eff, land_ok, lad)


@nb.njit(inline="always", **JIT)
def skill_payoff(z, p):
    """Foraging skill: easy food yields ``1 + skill_payoff * z / (z + skill_payoff_half)`` times its energy."""
    if p.skill_payoff <= 0.0 or z <= 0.0:
        return 1.0
    return 1.0 + p.skill_payoff * z / (z + p.skill_payoff_half)


@kernel(parallel=True)
def held_levels(skill, genome, species, x, y, habitat, manipulators, fire_substitute, n, lad):
    """Level (milestones held where each stands) of every live agent, as uint8."""
    out = np.empty(n, np.uint8)
    for i in nb.prange(n):
        out[i] = agent_level(
            i, skill, genome, species, x, y, habitat, manipulators, fire_substitute, lad
        )
    return out
