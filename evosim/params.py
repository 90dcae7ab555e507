"""Fixed parameters handed to kernels, apart from the changing state.

After gymnax's ``EnvParams``: :class:`Params` is an immutable tuple of floats
(numba sees it as a homogeneous named tuple) built once from a validated
:class:`~evosim.schema.World`. Per-species arrays (gene bounds, mutation
sizes, founder genomes) live in :class:`evosim.species.SpeciesRegistry`.
"""

from __future__ import annotations

from typing import NamedTuple

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
    feed_rate: float
    feed_reserve: float
    juvenile_intake: float
    sociality_upkeep: float
    social_attraction: float
    social_radius_min: float
    social_radius_max: float
    share_rate: float
    share_above: float
    share_below: float
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
    speciation_threshold: float


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
        feed_rate=t.childhood.feed_rate,
        feed_reserve=t.childhood.feed_reserve,
        juvenile_intake=t.childhood.juvenile_intake,
        sociality_upkeep=t.sociality.upkeep,
        social_attraction=t.sociality.attraction,
        social_radius_min=float(t.sociality.radius_min),
        social_radius_max=float(t.sociality.radius_max),
        share_rate=t.sociality.share_rate,
        share_above=t.sociality.share_above,
        share_below=t.sociality.share_below,
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
        speciation_threshold=w.speciation.threshold,
    )
