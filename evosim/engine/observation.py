"""What the recorder and the viewer read of a simulation between ticks: :class:`Observation`.

:meth:`evosim.engine.sim.Simulation.observe` builds it; the functions here take the
simulation's parts, so that the kernels they call stay inside :mod:`evosim.engine`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.defaults import G_CHILDHOOD
from evosim.engine.grids import Grids
from evosim.engine.kernels import ladder as k_ladder
from evosim.engine.kernels import phenotype as k_phenotype
from evosim.engine.kernels.stats import species_summaries
from evosim.engine.population import Population
from evosim.engine.scratch import Scratch
from evosim.engine.species import SpeciesRegistry
from evosim.engine.state import Ladder, Params


class Observation(NamedTuple):
    """Per-species sums and per-agent milestone levels of the live agents, now.

    Arrays indexed by species are over every species formed so far (extinct ones included).
    """

    members: np.ndarray  # int64 (S,) live agents
    gene_sum: np.ndarray  # float64 (S, G) sums of each gene
    gene_sq: np.ndarray  # float64 (S, G) sums of each gene's squares
    on_land: np.ndarray  # int64 (S,) agents standing on land
    energy_sum: np.ndarray  # float64 (S,)
    levels: np.ndarray  # int64 (n,) milestones each live agent holds where it stands
    adults: np.ndarray  # int64 (S,) adults, as the technology detector counted them
    holders: np.ndarray  # int64 (S,) adults holding the final milestone, counted likewise
    skill_mean: np.ndarray  # float64 (S,) mean skill (NaN: no member)
    skill_p90: np.ndarray  # float64 (S,) 90th percentile of skill (linear, as numpy's default)
    skill_max: np.ndarray  # float64 (S,) highest skill


def observe(
    pop: Population,
    species: SpeciesRegistry,
    grids: Grids,
    scratch: Scratch,
    ladder: Ladder,
    params: Params,
) -> Observation:
    """The :class:`Observation` of a simulation's parts (see :meth:`Simulation.observe`)."""
    n_sp = len(species)
    count, s1, s2, on_land, e_sum, *skills = species_summaries(
        pop.agents(), grids.habitat, pop.n, n_sp
    )
    levels = milestone_levels(pop, species, grids, ladder).astype(np.int64)
    t = scratch.tally
    if len(t.adults) >= n_sp:
        # the counts of the last tick's deaths (over the survivors, before the interventions)
        adults, holders = t.adults[:n_sp], t.holders[:n_sp]
    else:  # before the first death step (tick 0, a branch's first sample): counted here, alike
        adult = adults_now(pop, params)
        m = len(ladder.threshold)
        sp = pop.live("species").astype(np.int64)
        final = adult & (levels == m) if m else np.zeros_like(adult)
        adults = np.bincount(sp[adult], minlength=n_sp)
        holders = np.bincount(sp[final], minlength=n_sp)
    return Observation(count, s1, s2, on_land, e_sum, levels, adults, holders, *skills)


def milestone_levels(
    pop: Population, species: SpeciesRegistry, grids: Grids, ladder: Ladder
) -> np.ndarray:
    """Milestones each live agent holds where it stands now (uint8; docs/model.md §7.10)."""
    return k_ladder.held_levels(pop.agents(), grids.habitat, species.arrays(), pop.n, ladder)


def adults_now(pop: Population, params: Params) -> np.ndarray:
    """Whether each live agent is an adult: age >= maturity (kernels/phenotype.maturity)."""
    g = pop.live("genome")[:, G_CHILDHOOD].astype(np.float64)
    # the kernels' own formula, applied to the column (py_func: the plain-Python function)
    return pop.live("age") >= k_phenotype.lerp.py_func(params.maturity_min, params.maturity_max, g)
