"""The named engine state: what the kernels take, as named tuples of arrays with fixed fields.

A kernel takes a few of these tuples and reads its fields by name (``a.energy[i]``,
``cells.food[y, x]``), never by position. numba sees a ``NamedTuple`` of arrays as a
struct of array views: reading a field is free, and ``cache=True`` keeps working for both
build flavours (:mod:`evosim.engine.kernels.conf`; a ``jitclass`` would not cache).

**The rule for kernels.** A kernel binds every field it uses in a loop to a local, one plain
assignment per field, before the loop (``energy = a.energy``). In the parallel flavour this
is required for correctness: numba drops writes made through a named tuple's field inside a
``prange`` loop (numba issues #5872 and #7135, open), and here also writes through names bound
by a tuple unpacking (``energy, age = a.energy, a.age``: a dependant's ``guardian`` was not
cleared in the parallel flavour). A named tuple whose fields the loop only reads (``p``,
``lad``, the agents in :func:`~evosim.engine.kernels.ladder.agent_level`) may be read inside.
``tests/test_determinism.py`` compares the two flavours on every ready world.

The tuples hold *views* of the arrays the engine's Python objects own
(:class:`~evosim.engine.population.Population`, :class:`~evosim.engine.grids.Grids`,
:class:`~evosim.engine.species.SpeciesRegistry`, :class:`~evosim.engine.scratch.Scratch`); the
objects build them anew where their arrays may have been replaced (growth, the genome swap
of a gather): :meth:`Population.agents`, :meth:`Grids.cells`, :meth:`SpeciesRegistry.arrays`,
:meth:`Scratch.arena`.

The dtype of every field is fixed here (:data:`DTYPES`), from :mod:`evosim.defaults`;
:func:`check` asserts a tuple's dtypes.

================  ==================================================================
:class:`Agents`   the agents (structure of arrays; rows ``0 .. n-1`` are live)
:class:`Cells`    the grids: habitat, food, farming, the padded copies perception reads
:class:`SpeciesArrays`  per-species arrays the kernels read (abilities, bounds, centroids)
:class:`Index`    this tick's spatial index (agents grouped by cell)
:class:`Tally`    per-species counts over the survivors of the deaths (read by the detectors)
:class:`Arena`    the tick's scratch, one named buffer per use (see its docstring for sharing)
:class:`Clock`    the seed and tick keying the random draws
:class:`Params`   the scalar parameters (built by :func:`evosim.engine.params.params_from_world`)
:class:`Ladder`   the technology ladder as arrays
================  ==================================================================
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NamedTuple

import numpy as np

from evosim.defaults import AGENT_FIELDS, FOOD_DTYPE, GENOME_DTYPE, HABITAT_DTYPE, ROW_DTYPE


class Agents(NamedTuple):
    """The agent arrays, one row per agent (fields and dtypes of :data:`evosim.defaults.AGENT_FIELDS`)."""

    id: np.ndarray  # int64, unique, never reused; keys the RNG
    parent_id: np.ndarray  # int64, -1 for founders
    species: np.ndarray  # int32
    x: np.ndarray  # int32
    y: np.ndarray  # int32
    energy: np.ndarray  # float32
    age: np.ndarray  # int32
    birth_tick: np.ndarray  # int32
    guardian: np.ndarray  # int32 row of the parent while dependent, else -1
    skill: np.ndarray  # float32 cultural skill
    lessons: np.ndarray  # int16 learning attempts made so far
    genome: np.ndarray  # float32 (rows, N_GENES)


class Cells(NamedTuple):
    """The (H, W) grids indexed ``[y, x]`` on a torus, and the padded copies perception reads."""

    habitat: np.ndarray  # uint8, 0 water / 1 land
    richness: np.ndarray  # float32 capacity multiplier of easy food
    food: np.ndarray  # float32 easy food
    hard: np.ndarray  # float32 hard food
    farmed: np.ndarray  # float32 regrowth bonus left by farmers (read and cleared by the regrowth)
    capacity: np.ndarray  # float64[2] easy-food capacity per habitat
    hard_capacity: np.ndarray  # float64[2]
    hard_rate: np.ndarray  # float64[2] hard-food regrowth rate per habitat
    habitat_pad: np.ndarray  # uint8 (H + 2 halo, W + 2 halo)
    sight_pad: np.ndarray  # float32 padded +food on land, -food on water
    census_pad: np.ndarray  # int64 padded census codes, -1 empty
    census_cells: np.ndarray  # int64 flat indices into census_pad written by the last census
    census_n: np.ndarray  # int64[1] how many census_cells are set (< 0: unknown, clear the grid)
    halo: int  # width of the padding


class SpeciesArrays(NamedTuple):
    """Per-species arrays the kernels read, index = species id."""

    manipulators: np.ndarray  # float32 granted manipulator level
    fire_substitute: np.ndarray  # uint8, 1 lets members pass a needs_land milestone anywhere
    upkeep_extra: np.ndarray  # float32 energy per member per tick
    lo: np.ndarray  # float32 (S, G) gene bounds
    hi: np.ndarray  # float32 (S, G)
    mutation: np.ndarray  # float32 (S, G) mutation sizes
    centroid: np.ndarray  # float64 (S, G) mean genome of the live members


class Detection(NamedTuple):
    """Per-species arrays the detectors read and mark (:mod:`evosim.engine.kernels.detect`)."""

    alive: np.ndarray  # int64 live members
    centroid: np.ndarray  # float64 (S, G) mean genome of the live members
    brain_since: np.ndarray  # int64 first tick of the current run of "intelligent" ticks, or -1
    intelligent_at: np.ndarray  # int64 tick of the intelligence detection, or -1
    intelligent_flop: np.ndarray  # float64 compute spent by then
    tech_since: np.ndarray  # int64 first tick of the current run of "technological" ticks, or -1
    technological_at: np.ndarray  # int64 tick of the technology detection, or -1
    technological_flop: np.ndarray  # float64 compute spent by then
    max_level: np.ndarray  # int64 highest milestone level any member has held


class DetectorSettings(NamedTuple):
    """The world's ``detectors`` settings (:class:`evosim.config.culture.DetectorsConfig`), and
    whether its technology ladder has a milestone (without one nothing is technological)."""

    brain_threshold: float
    intelligence_window: int
    min_population: int
    tech_share: float
    tech_window: int
    has_ladder: bool


class Index(NamedTuple):
    """This tick's spatial index: live agents grouped by cell (built by
    ``index_cells_and_count_brains``, spent by ``die``)."""

    order: np.ndarray  # ROW_DTYPE: rows sorted by cell (stable)
    group_start: (
        np.ndarray
    )  # ROW_DTYPE: start of each occupied cell's run in order (then the count)
    cell_end: np.ndarray  # ROW_DTYPE[n_cells + 1]: per cell, the end of its run in order
    n_groups: int  # occupied cells


class Tally(NamedTuple):
    """Per species, over the survivors of this tick's deaths (written by ``die``)."""

    gene_sum: np.ndarray  # float64 (S, G) genome sums (for the centroids)
    adults: np.ndarray  # int64 (S,)
    holders: np.ndarray  # int64 (S,) adults holding the final milestone
    top: np.ndarray  # int64 (S,) highest milestone level held
    gated: np.ndarray  # int64 (S, M) adults held below milestone m by m's own requirement


class Arena(NamedTuple):
    """The tick's scratch: one named buffer per use (each of ``capacity`` rows unless said).

    Nothing here is state: a checkpoint saves none of it and each phase writes what it reads.
    Some buffers share memory; the phase order makes it safe (each use ends before the next
    begins, in the schedule of :meth:`evosim.engine.sim.Simulation.step`)::

        memory              buffer        written by        last read by
        ------------------  ------------  ----------------  -------------------------------
        survivors (int32)   sort_tmp      index_cells       index_cells
                            dependants    metabolise        metabolise (feed_dependants)
                            survivors     die               die (gather, remap_guardians)
        level (uint8)       level         forage            forage
                            status        die (judge)       die (tally)
        spare genome        want, gain    forage            forage
        (28 bytes/row,      offer (=want) metabolise        metabolise (feed_dependants)
         Population.        model_z       learn             learn
         spare_views)       (all spent before die's gather, which overwrites the spare genome)

    The spare-genome views are valid until the next gather or growth: take the arena anew
    (:meth:`evosim.engine.scratch.Scratch.arena`) after either.
    """

    sort_tmp: np.ndarray  # ROW_DTYPE: the band sort's scratch (memory of survivors)
    dependants: (
        np.ndarray
    )  # ROW_DTYPE: per row, its dependants while parents feed (memory of survivors)
    survivors: np.ndarray  # ROW_DTYPE: rows kept by the deaths, in their new order
    cause: np.ndarray  # int8: per row, its cause of death this tick (0: survives)
    parents: np.ndarray  # ROW_DTYPE: rows of this tick's parents
    new_row: np.ndarray  # ROW_DTYPE: per old row, its row after the deaths (-1: dead)
    level: np.ndarray  # uint8: per row, the milestones it holds where it forages
    status: np.ndarray  # uint8: per row, a survivor's level + ADULT (memory of level)
    want: np.ndarray  # float64: foraging demand (spare genome)
    gain: np.ndarray  # float64: energy per unit eaten (spare genome)
    offer: np.ndarray  # float64: what a parent gives each dependant (memory of want)
    model_z: np.ndarray  # float32: each row's skill as a model, -inf for juveniles (spare genome)


class Clock(NamedTuple):
    """The key of this tick's random draws (with the agent id, purpose and k)."""

    seed: int
    tick: int


class Params(NamedTuple):
    """Scalars read by the kernels (all float64), each declared once with its config path.

    ``Annotated[float, "<path>"]`` names the world-file value a field takes (a dotted path into
    :class:`~evosim.config.schema.World`, documented in docs/parameters.md);
    :func:`evosim.engine.params.params_from_world` reads :data:`evosim.engine.params.PATHS`, the
    table built from these annotations.
    """

    intake: Annotated[float, "physiology.intake"]
    food_energy: Annotated[float, "physiology.food_energy"]
    base_metabolism: Annotated[float, "physiology.base_metabolism"]
    max_energy: Annotated[float, "physiology.max_energy"]
    move_cost: Annotated[float, "physiology.move_cost"]
    move_noise: Annotated[float, "physiology.move_noise"]
    sight_discount: Annotated[float, "physiology.sight_discount"]
    max_age_min: Annotated[float, "traits.lifespan.max_age_min"]
    max_age_max: Annotated[float, "traits.lifespan.max_age_max"]
    lifespan_upkeep: Annotated[float, "traits.lifespan.upkeep"]
    maturity_min: Annotated[float, "traits.childhood.maturity_min"]
    maturity_max: Annotated[float, "traits.childhood.maturity_max"]
    childhood_upkeep: Annotated[float, "traits.childhood.upkeep"]
    feed_rate: Annotated[float, "traits.childhood.feed_rate"]
    feed_reserve: Annotated[float, "traits.childhood.feed_reserve"]
    juvenile_intake: Annotated[float, "traits.childhood.juvenile_intake"]
    sociality_upkeep: Annotated[float, "traits.sociality.upkeep"]
    social_attraction: Annotated[float, "traits.sociality.attraction"]
    attraction_half: Annotated[float, "traits.sociality.attraction_half"]
    social_radius_min: Annotated[float, "traits.sociality.radius_min"]
    social_radius_max: Annotated[float, "traits.sociality.radius_max"]
    share_rate: Annotated[float, "traits.sociality.share_rate"]
    share_above: Annotated[float, "traits.sociality.share_above"]
    share_below: Annotated[float, "traits.sociality.share_below"]
    dexterity_upkeep: Annotated[float, "traits.dexterity.upkeep"]
    habitat_mismatch: Annotated[float, "traits.habitat.mismatch"]
    habitat_move_cost: Annotated[float, "traits.habitat.move_mismatch_cost"]
    radius_min: Annotated[float, "traits.brain.radius_min"]
    radius_max: Annotated[float, "traits.brain.radius_max"]
    brain_upkeep: Annotated[float, "traits.brain.upkeep"]
    brain_exponent: Annotated[float, "traits.brain.exponent"]
    birth_energy_min: Annotated[float, "traits.fecundity.birth_energy_min"]
    birth_energy_max: Annotated[float, "traits.fecundity.birth_energy_max"]
    offspring_share_min: Annotated[float, "traits.fecundity.offspring_share_min"]
    offspring_share_max: Annotated[float, "traits.fecundity.offspring_share_max"]
    speciation_threshold: Annotated[float, "speciation.threshold"]
    alpha0: Annotated[float, "culture.alpha"]
    alpha_dexterity: Annotated[float, "culture.alpha_dexterity"]
    alpha_brain: Annotated[float, "culture.alpha_brain"]
    beta0: Annotated[float, "culture.beta"]
    beta_brain: Annotated[float, "culture.beta_brain"]
    juvenile_rate: Annotated[float, "culture.juvenile_rate"]
    adult_rate: Annotated[float, "culture.adult_rate"]
    innovation_rate: Annotated[float, "culture.innovation_rate"]
    innovation_brain_exponent: Annotated[float, "culture.innovation_brain_exponent"]
    innovation_dexterity_weight: Annotated[float, "culture.innovation_dexterity_weight"]
    innovation_step: Annotated[float, "culture.innovation_step"]
    complexity: Annotated[float, "culture.complexity"]
    learning_rate: Annotated[float, "culture.learning_rate"]
    learning_rate_brain: Annotated[float, "culture.learning_rate_brain"]
    max_models: Annotated[float, "culture.max_models"]
    skill_payoff: Annotated[float, "culture.skill_payoff"]
    skill_payoff_half: Annotated[float, "culture.skill_payoff_half"]
    hard_energy: Annotated[float, "world.hard_food.energy"]
    hard_intake: Annotated[float, "world.hard_food.intake"]
    hard_skill_scale: Annotated[float, "world.hard_food.skill_scale"]


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


_F64 = np.dtype(np.float64)
_I64 = np.dtype(np.int64)
_U8 = np.dtype(np.uint8)

#: The dtype of every array field of the named tuples (fields absent here are scalars).
DTYPES: dict[type, dict[str, np.dtype]] = {
    Agents: {**AGENT_FIELDS, "genome": GENOME_DTYPE},
    Cells: {
        "habitat": HABITAT_DTYPE, "richness": FOOD_DTYPE, "food": FOOD_DTYPE, "hard": FOOD_DTYPE,
        "farmed": FOOD_DTYPE, "capacity": _F64, "hard_capacity": _F64, "hard_rate": _F64,
        "habitat_pad": HABITAT_DTYPE, "sight_pad": FOOD_DTYPE, "census_pad": _I64,
        "census_cells": _I64, "census_n": _I64,
    },
    SpeciesArrays: {
        "manipulators": np.dtype(np.float32), "fire_substitute": _U8,
        "upkeep_extra": np.dtype(np.float32), "lo": GENOME_DTYPE, "hi": GENOME_DTYPE,
        "mutation": GENOME_DTYPE, "centroid": _F64,
    },
    Detection: {
        "alive": _I64, "centroid": _F64, "brain_since": _I64, "intelligent_at": _I64,
        "intelligent_flop": _F64, "tech_since": _I64, "technological_at": _I64,
        "technological_flop": _F64, "max_level": _I64,
    },
    Index: {"order": ROW_DTYPE, "group_start": ROW_DTYPE, "cell_end": ROW_DTYPE},
    Tally: {"gene_sum": _F64, "adults": _I64, "holders": _I64, "top": _I64, "gated": _I64},
    Arena: {
        "sort_tmp": ROW_DTYPE, "dependants": ROW_DTYPE, "survivors": ROW_DTYPE,
        "cause": np.dtype(np.int8), "parents": ROW_DTYPE, "new_row": ROW_DTYPE, "level": _U8,
        "status": _U8, "want": _F64, "gain": _F64, "offer": _F64, "model_z": np.dtype(np.float32),
    },
    Ladder: {
        "threshold": _F64, "min_dexterity": _F64, "needs_land": _U8, "dexterity_width": _F64,
        "land_width": _F64, "land_radius": _I64, "energy_mult": _F64,
        "hard_access": _U8, "hard_mult": _F64, "regrowth_bonus": _F64,
    },
}  # fmt: skip

assert tuple(DTYPES[Agents]) == Agents._fields, "Agents must list AGENT_FIELDS, then genome"


def reuse(cached: Any, kind: type, *values: Any) -> Any:
    """``cached`` if it holds exactly ``values`` (arrays by identity), else a new ``kind(*values)``.

    The owners keep the named tuple they gave last and give it again while their arrays are the
    same objects: the kernels' dispatch cache keys a tuple once per tuple object
    (:class:`evosim.engine.kernels.conf.Kernel`).
    """
    if cached is not None and (
        all(map(operator.is_, cached, values))  # (the common case, in C)
        or all(
            a is b or (type(b) is int and type(a) is int and a == b) for a, b in zip(cached, values)
        )
    ):
        return cached
    return kind(*values)


def reuse_per(memo: dict[int, Any], key: object, kind: type, *values: Any) -> Any:
    """:func:`reuse` keeping one named tuple per ``key`` object in ``memo`` (at most 4 keys).

    For tuples whose arrays alternate between two sets: the population's genome and its spare
    swap at every gather, so its :class:`Agents` (and the :class:`Arena` over the spare) come
    back every other tick, and each of the two is built, and keyed by the dispatch cache, once.
    """
    k = id(key)
    got = reuse(memo.get(k), kind, *values)
    if k not in memo and len(memo) >= 4:
        memo.clear()
    memo[k] = got
    return got


def check(state: Any) -> None:
    """Raise ``TypeError`` unless every array field of the named tuple ``state`` has its :data:`DTYPES` dtype."""
    for name, dt in DTYPES[type(state)].items():
        got = getattr(state, name).dtype
        if got != dt:
            raise TypeError(f"{type(state).__name__}.{name} is {got}, expected {dt}")
