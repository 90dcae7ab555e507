"""Fixed parameters handed to kernels, apart from the changing state.

After gymnax's ``EnvParams``: :class:`Params` is an immutable tuple of floats
(numba sees it as a homogeneous named tuple) built once from a validated
:class:`~evosim.schema.World`. Per-species gene bounds and mutation sizes are
arrays (one row per species, one column per gene) in :class:`SpeciesTable`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.defaults import GENES, GENOME_DTYPE
from evosim.schema import World


class Params(NamedTuple):
    """Scalars read by the kernels (all float64; see docs/parameters.md)."""

    intake: float
    food_energy: float
    base_metabolism: float
    max_energy: float
    move_cost: float
    move_noise: float
    sight_discount: float
    max_age_min: float
    max_age_max: float
    lifespan_upkeep: float
    maturity_min: float
    maturity_max: float
    childhood_upkeep: float
    sociality_upkeep: float
    dexterity_upkeep: float
    habitat_mismatch: float
    habitat_move_cost: float
    radius_min: float
    radius_max: float
    brain_upkeep: float
    brain_exponent: float
    birth_energy_min: float
    birth_energy_max: float
    offspring_share_min: float
    offspring_share_max: float


def params_from_world(w: World) -> Params:
    """Flatten the world's physiology and trait maps into :class:`Params`."""
    ph, t = w.physiology, w.traits
    return Params(
        intake=ph.intake,
        food_energy=ph.food_energy,
        base_metabolism=ph.base_metabolism,
        max_energy=ph.max_energy,
        move_cost=ph.move_cost,
        move_noise=ph.move_noise,
        sight_discount=ph.sight_discount,
        max_age_min=float(t.lifespan.max_age_min),
        max_age_max=float(t.lifespan.max_age_max),
        lifespan_upkeep=t.lifespan.upkeep,
        maturity_min=float(t.childhood.maturity_min),
        maturity_max=float(t.childhood.maturity_max),
        childhood_upkeep=t.childhood.upkeep,
        sociality_upkeep=t.sociality.upkeep,
        dexterity_upkeep=t.dexterity.upkeep,
        habitat_mismatch=t.habitat.mismatch,
        habitat_move_cost=t.habitat.move_mismatch_cost,
        radius_min=float(t.brain.radius_min),
        radius_max=float(t.brain.radius_max),
        brain_upkeep=t.brain.upkeep,
        brain_exponent=t.brain.exponent,
        birth_energy_min=t.fecundity.birth_energy_min,
        birth_energy_max=t.fecundity.birth_energy_max,
        offspring_share_min=t.fecundity.offspring_share_min,
        offspring_share_max=t.fecundity.offspring_share_max,
    )


class SpeciesTable:
    """Per-species gene bounds and mutation sizes, one row per species id.

    Attributes:
        names: species names, index = species id.
        lo, hi, mutation: float32 arrays of shape (n_species, n_genes).
    """

    def __init__(self, w: World):
        self.names: list[str] = [s.name for s in w.species]
        shape = (len(w.species), len(GENES))
        self.lo = np.zeros(shape, GENOME_DTYPE)
        self.hi = np.ones(shape, GENOME_DTYPE)
        self.mutation = np.zeros(shape, GENOME_DTYPE)
        for i, s in enumerate(w.species):
            for g, gene in enumerate(GENES):
                spec = getattr(s.genes, gene)
                self.lo[i, g], self.hi[i, g], self.mutation[i, g] = spec.min, spec.max, spec.mutation

    def __len__(self) -> int:
        return len(self.names)
