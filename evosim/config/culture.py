"""Schema of culture, technology, detectors and compute accounting (part of the world schema)."""

from __future__ import annotations

from pydantic import Field, field_validator

from evosim.config.base import MAX_POPULATION_CAP, MAX_TICKS, Strict, _f


class CultureConfig(Strict):
    """Cumulative culture at the group level (after Henrich 2004), and innovation (docs/model.md §7.9)."""

    alpha: float = _f(0.2, "alpha0: systematic copying loss per learning attempt", ge=0.0, le=1e6)
    alpha_dexterity: float = _f(
        0.2,
        "alpha = alpha0 + alpha_dexterity * (1 - effective dexterity) + alpha_brain * (1 - brain) "
        "+ complexity * model skill",
        ge=0.0,
        le=1e6,
    )
    alpha_brain: float = _f(2.5, "see alpha_dexterity", ge=0.0, le=1e6)
    complexity: float = _f(
        0.1,
        "extra copying loss per unit of the model's skill: advanced skill is harder to copy, so a "
        "group's skill settles at an equilibrium set by its effective size (0: Henrich's constant loss)",
        ge=0.0,
        le=1.0,
    )
    beta: float = _f(
        0.5, "beta0: Gumbel scale of a learning attempt (inference, experiment)", gt=0.0, le=1e6
    )
    beta_brain: float = _f(0.5, "beta = beta0 + beta_brain * brain", ge=0.0, le=1e6)
    juvenile_rate: float = _f(
        0.4,
        "chance per tick that a juvenile makes a learning attempt (a longer childhood takes in more models)",
        ge=0.0,
        le=1.0,
    )
    adult_rate: float = _f(
        0.0, "chance per tick that an adult makes a learning attempt (relearning)", ge=0.0, le=1.0
    )
    learning_rate: float = _f(
        0.05,
        "rho = min(1, learning_rate + learning_rate_brain * brain): share of the gap to a lesson's "
        "target (when above the learner's skill) closed by the lesson; rho = 1 keeps the best attempt "
        "(Henrich 2004), below 1 skill grows along a learning curve, so more lessons (a longer "
        "childhood, more models) mean more skill",
        ge=0.0,
        le=1.0,
    )
    learning_rate_brain: float = _f(0.25, "see learning_rate", ge=0.0, le=1.0)
    max_models: int = _f(
        32,
        "most learning attempts per life: attempt a copies the model of prestige rank a + 1 in view",
        ge=1,
        le=64,
    )
    innovation_rate: float = _f(
        0.02,
        "innovation chance per adult per tick = innovation_rate * brain**innovation_brain_exponent * "
        "((1 - innovation_dexterity_weight) + innovation_dexterity_weight * effective dexterity)",
        ge=0.0,
        le=1.0,
    )
    innovation_brain_exponent: float = _f(2.0, "see innovation_rate", ge=0.0, le=16.0)
    innovation_dexterity_weight: float = _f(0.3, "see innovation_rate", ge=0.0, le=1.0)
    innovation_step: float = _f(0.5, "skill gained by an innovation", ge=0.0, le=1e6)
    skill_payoff: float = _f(
        2.0,
        "foraging skill: easy food gives 1 + skill_payoff * skill / (skill + skill_payoff_half) times "
        "its energy, whether or not any milestone is held (brains pay without hands or land)",
        ge=0.0,
        le=100.0,
    )
    skill_payoff_half: float = _f(
        8.0, "skill at which the foraging-skill payoff is half of skill_payoff", gt=0.0, le=1e6
    )


class MilestoneConfig(Strict):
    """One rung of the technology ladder."""

    name: str = Field(..., description="milestone name", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
    threshold: float = _f(1.0, "skill at which the milestone is held", gt=0.0, le=1e9)
    min_dexterity: float = _f(
        0.0, "effective dexterity needed to hold it (skill itself is not capped)", ge=0.0, le=1.0
    )
    needs_land: bool = _f(
        False, "held only by an agent standing on land (or whose species has a fire substitute)"
    )
    dexterity_width: float = _f(
        0.0,
        "graded dexterity gate: an agent below min_dexterity by a gap g still holds the rung when "
        "skill * 2 / (1 + exp(g / dexterity_width)) reaches the threshold; 0 = a step (held only "
        "at min_dexterity or above)",
        ge=0.0,
        le=10.0,
    )
    land_width: float = _f(
        0.0,
        "graded land gate (needs_land): an agent off land (without a fire substitute) still holds "
        "the rung when skill * 2 / (1 + exp((1 - s) / land_width)) reaches the threshold, s = the "
        "land share of the square of radius land_radius around it; 0 = a step (held only on land)",
        ge=0.0,
        le=10.0,
    )
    land_radius: int = _f(
        1,
        "radius (cells) of the square whose land share grades needs_land (land_width > 0)",
        ge=0,
        le=64,
    )
    hard_food: bool = _f(False, "effect: access to hard food")
    energy_multiplier: float = _f(
        1.0, "effect: energy per food eaten is multiplied by this (cooking)", gt=0.0, le=100.0
    )
    regrowth_bonus: float = _f(
        0.0,
        "effect: regrowth rate of the cell the holder stands on is multiplied by 1 + this (agriculture)",
        ge=0.0,
        le=100.0,
    )
    hard_food_multiplier: float = _f(
        1.0, "effect: hard-food yield is multiplied by this (metal tools)", gt=0.0, le=100.0
    )


def _default_ladder() -> list[MilestoneConfig]:
    # every rung pays its holder privately (energy per food), so selection has a gradient up the ladder;
    # the ladder of worlds/earthlike.yaml (the default world is its cut; tests/config/test_default_world.py)
    return [
        MilestoneConfig(
            name="stone_tools",
            threshold=2.0,
            min_dexterity=0.3,
            hard_food=True,
            energy_multiplier=1.05,
        ),
        MilestoneConfig(name="fire", threshold=6.0, needs_land=True, energy_multiplier=1.05),
        MilestoneConfig(name="cooking", threshold=8.0, energy_multiplier=1.25),
        MilestoneConfig(
            name="agriculture", threshold=11.0, regrowth_bonus=1.0, energy_multiplier=1.1
        ),
        MilestoneConfig(
            name="metallurgy",
            threshold=15.25,
            min_dexterity=0.6,
            hard_food_multiplier=1.5,
            energy_multiplier=1.15,
        ),
    ]


class TechnologyConfig(Strict):
    """The technology ladder: ordered milestones on one skill axis."""

    ladder: list[MilestoneConfig] = Field(
        default_factory=_default_ladder,
        description="milestones in order of increasing threshold; an agent holds a milestone when its "
        "skill reaches the threshold, it meets the requirements and it holds every earlier one",
        max_length=64,
    )

    @field_validator("ladder")
    @classmethod
    def _ordered(cls, v: list[MilestoneConfig]):
        names = [m.name for m in v]
        if len(set(names)) != len(names):
            raise ValueError("milestone names must be unique")
        for a, b in zip(v, v[1:]):
            if b.threshold <= a.threshold:
                raise ValueError(
                    f"thresholds must increase along the ladder: {b.name} ({b.threshold}) <= {a.name} ({a.threshold})"
                )
        return v


class DetectorsConfig(Strict):
    """When a species counts as intelligent or technological."""

    brain_threshold: float = _f(
        0.7, "intelligent: species mean brain above this ...", ge=0.0, le=1.0
    )
    intelligence_window: int = _f(
        100, "... continuously for this many ticks ...", ge=1, le=MAX_TICKS
    )
    min_population: int = _f(50, "... with at least this many members", ge=1, le=MAX_POPULATION_CAP)
    tech_share: float = _f(
        0.5, "technological: this share of its adults hold the final milestone ...", gt=0.0, le=1.0
    )
    tech_window: int = _f(
        100,
        "... continuously for this many ticks (with min_population members)",
        ge=1,
        le=MAX_TICKS,
    )


class ComputeConfig(Strict):
    """Estimated floating-point operations: per event of the simulation (the activity count) and
    per agent-tick of a brain (neural compute; docs/model.md, "Compute accounting")."""

    flop_per_agent_step: float = _f(
        1e3, "FLOP per agent per tick (sensing, moving, metabolism)", ge=0.0, le=1e30
    )
    flop_per_birth: float = _f(1e4, "FLOP per birth (development of a new body)", ge=0.0, le=1e30)
    flop_per_learning_attempt: float = _f(
        1e5, "FLOP per learning attempt (observing models)", ge=0.0, le=1e30
    )
    flop_per_innovation: float = _f(
        1e5, "FLOP per innovation (individual exploration that raised a skill)", ge=0.0, le=1e30
    )
    neural_flop_per_agent_tick: float = _f(
        2.6e21,
        "neural compute: FLOP per agent per tick at brain gene 1; an agent adds "
        "neural_flop_per_agent_tick * brain**neural_exponent each tick it lives. Default: a brain "
        "gene of 1 taken as a human brain at 1e15 FLOP/s (Carlsmith 2020, 'How much computational "
        "power does it take to match the human brain?', central estimate) times an assumed "
        "2.6e6 s (one month) per tick; both are assumptions (docs/model.md, 'Neural compute')",
        ge=0.0,
        le=1e30,
    )
    neural_exponent: float = _f(
        1.0,
        "neural compute grows as brain**neural_exponent; 1: the brain gene is proportional to "
        "neuron (synapse) count and compute to synapses (Carlsmith 2020); 2, 3: steeper "
        "(k = 1, 2, 3 are reported from every run whatever this is)",
        ge=0.0,
        le=16.0,
    )
