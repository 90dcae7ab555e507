"""Fixed parameters handed to kernels, apart from the changing state.

After gymnax's ``EnvParams``: :class:`Params` is an immutable tuple of floats
(numba sees it as a homogeneous named tuple) built once from a validated
:class:`~evosim.config.schema.World`. Per-species arrays (gene bounds, mutation
sizes, founder genomes) live in :class:`evosim.engine.species.SpeciesRegistry`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.config.schema import World


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
    attraction_half: float
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
    alpha0: float
    alpha_dexterity: float
    alpha_brain: float
    beta0: float
    beta_brain: float
    juvenile_rate: float
    adult_rate: float
    innovation_rate: float
    innovation_brain_exponent: float
    innovation_dexterity_weight: float
    innovation_step: float
    complexity: float
    learning_rate: float
    learning_rate_brain: float
    max_models: float
    skill_payoff: float
    skill_payoff_half: float
    hard_energy: float
    hard_intake: float
    hard_skill_scale: float


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
        attraction_half=t.sociality.attraction_half,
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
        alpha0=w.culture.alpha,
        alpha_dexterity=w.culture.alpha_dexterity,
        alpha_brain=w.culture.alpha_brain,
        beta0=w.culture.beta,
        beta_brain=w.culture.beta_brain,
        juvenile_rate=w.culture.juvenile_rate,
        adult_rate=w.culture.adult_rate,
        innovation_rate=w.culture.innovation_rate,
        innovation_brain_exponent=w.culture.innovation_brain_exponent,
        innovation_dexterity_weight=w.culture.innovation_dexterity_weight,
        innovation_step=w.culture.innovation_step,
        complexity=w.culture.complexity,
        learning_rate=w.culture.learning_rate,
        learning_rate_brain=w.culture.learning_rate_brain,
        max_models=float(w.culture.max_models),
        skill_payoff=w.culture.skill_payoff,
        skill_payoff_half=w.culture.skill_payoff_half,
        hard_energy=w.world.hard_food.energy,
        hard_intake=w.world.hard_food.intake,
        hard_skill_scale=w.world.hard_food.skill_scale,
    )


class Ladder(NamedTuple):
    """The technology ladder as arrays (M milestones; cumulative effects indexed by level 0..M).

    ``level`` of an agent = number of milestones it holds (:func:`evosim.engine.kernels.ladder.held_level`).
    """

    threshold: np.ndarray  # float64[M]
    min_dexterity: np.ndarray  # float64[M]
    needs_land: np.ndarray  # uint8[M]
    dexterity_width: np.ndarray  # float64[M], 0: step gate on min_dexterity
    land_width: np.ndarray  # float64[M], 0: step gate on needs_land
    land_radius: np.ndarray  # int64[M], radius of the square whose land share grades needs_land
    energy_mult: np.ndarray  # float64[M+1], product of energy multipliers of held milestones
    hard_access: np.ndarray  # uint8[M+1], 1 if any held milestone grants hard food
    hard_mult: np.ndarray  # float64[M+1]
    regrowth_bonus: np.ndarray  # float64[M+1], largest bonus among held milestones


def ladder_from_world(w: World) -> Ladder:
    """Arrays of the technology ladder."""
    ms = w.technology.ladder
    m = len(ms)
    energy = np.ones(m + 1)
    access = np.zeros(m + 1, np.uint8)
    hard = np.ones(m + 1)
    regrow = np.zeros(m + 1)
    for k, ms_k in enumerate(ms, start=1):
        energy[k] = energy[k - 1] * ms_k.energy_multiplier
        access[k] = access[k - 1] | ms_k.hard_food
        hard[k] = hard[k - 1] * ms_k.hard_food_multiplier
        regrow[k] = max(regrow[k - 1], ms_k.regrowth_bonus)
    return Ladder(
        threshold=np.array([x.threshold for x in ms], np.float64),
        min_dexterity=np.array([x.min_dexterity for x in ms], np.float64),
        needs_land=np.array([x.needs_land for x in ms], np.uint8),
        dexterity_width=np.array([x.dexterity_width for x in ms], np.float64),
        land_width=np.array([x.land_width for x in ms], np.float64),
        land_radius=np.array([x.land_radius for x in ms], np.int64),
        energy_mult=energy,
        hard_access=access,
        hard_mult=hard,
        regrowth_bonus=regrow,
    )
