"""The world schema: every key, its default, its allowed range and its meaning.

The defaults *are* the embedded default world, so ``World()`` is a complete,
runnable world and a YAML file only states what differs. That world is a
128x128 cut of the calibrated earthlike world (``worlds/earthlike.yaml``: the
same physics, culture, ladder, founders' body plans and length, with a quarter
of its area and of its founders); ``tests/config/test_default_world.py`` checks that the two
agree, so a recalibration of one must be carried to the other (docs/worlds.md). Each field's
``description`` is the comment that ``evosim init`` prints above the key and
the text of the parameter table in ``docs/parameters.md``.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from evosim.config.base import MAX_GRID_SIDE, MAX_POPULATION_CAP, MAX_TICKS, Located, Strict, _f
from evosim.config.culture import (  # noqa: F401  (re-exported: part of the world schema)
    ComputeConfig,
    CultureConfig,
    DetectorsConfig,
    MilestoneConfig,
    TechnologyConfig,
)
from evosim.config.genes import GenesConfig, GeneSpec
from evosim.config.interventions import InterventionConfig


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


#: Memory a run may plan for (bytes); checked from grid size and population cap.
MEMORY_BUDGET = min(16 * 2**30, int(0.8 * _physical_memory()))
# arrays + scratch + growth headroom; benchmarks/bench.py measured 230-270 B of arrays,
# up to 660 B peak RSS
BYTES_PER_AGENT = 350
# food, hard food, richness, bonus and padded grids, census, cell index (about 55 B)
BYTES_PER_CELL = 64


# --------------------------------------------------------------------- world
class HabitatConfig(Strict):
    """Where the land is."""

    source: Literal["generate", "file"] = _f(
        "generate", "'generate' makes a seeded map; 'file' reads `file`"
    )
    land_fraction: float = _f(0.35, "share of cells that are land (generated maps)", ge=0.0, le=1.0)
    smoothness: float = _f(
        16.0,
        "smoothing length of the generator's noise, in cells: larger gives fewer, bigger "
        "continents; 0 gives salt-and-pepper islands",
        ge=0.0,
        le=1024.0,
    )
    file: str | None = _f(
        None,
        "map file (PNG: bright pixels are land; or text: '#'/'1' land, '.'/'0' water), "
        "relative to the world file; its size must equal width x height",
    )

    @model_validator(mode="after")
    def _file_given(self):
        if self.source == "file" and not self.file:
            raise ValueError("habitat.source is 'file' but no habitat.file is given")
        return self


class FoodLayerConfig(Strict):
    """Easy food on one habitat."""

    capacity: float = _f(10.0, "most food a cell can hold (logistic capacity K)", gt=0.0, le=1e6)
    regrowth: float = _f(0.12, "logistic regrowth rate r per tick", ge=0.0, le=1.0)
    initial: float = _f(
        0.3,
        "food at tick 0 as a share of capacity (a low start damps the first boom)",
        ge=0.0,
        le=1.0,
    )


class SeasonConfig(Strict):
    """Seasonal modulation of the regrowth rate: r(t) = r * (1 + A sin(2 pi t / P))."""

    amplitude: float = _f(
        0.3, "A: 0 = no seasons, 1 = regrowth stops in the low season", ge=0.0, le=1.0
    )
    period: int = _f(200, "P: ticks per seasonal cycle", ge=1, le=MAX_TICKS)


class PatchConfig(Strict):
    """Food patches: a seeded map of rich and poor cells (the capacity of poor cells is scaled down)."""

    fraction: float = _f(
        1.0, "share of cells that are rich (1 = uniform food, no patches)", gt=0.0, le=1.0
    )
    poor: float = _f(
        0.1, "capacity of poor cells as a share of the habitat's capacity", ge=0.01, le=1.0
    )
    scale: float = _f(
        3.0,
        "smoothing length of the patch map, in cells (larger = bigger patches)",
        ge=0.0,
        le=1024.0,
    )


class FoodConfig(Strict):
    """Easy food: regrows logistically per cell, with a capacity per habitat."""

    land: FoodLayerConfig = _f(FoodLayerConfig(), "food on land cells")
    water: FoodLayerConfig = _f(FoodLayerConfig(), "food on water cells")
    regrowth_floor: float = _f(
        0.5,
        "an empty cell regrows as if it held this much (re-seeding), so grazed-out cells recover",
        ge=0.0,
        le=1e6,
    )
    season: SeasonConfig = _f(SeasonConfig(), "seasonal modulation of regrowth")
    patches: PatchConfig = _f(PatchConfig(), "rich and poor cells (easy food only)")


class HardFoodConfig(Strict):
    """Hard food (after Kaplan's embodied capital): rich, but only for the skilled and dexterous."""

    land: FoodLayerConfig = _f(
        FoodLayerConfig(capacity=6.0, regrowth=0.03), "hard food on land cells (nuts, tubers)"
    )
    water: FoodLayerConfig = _f(
        FoodLayerConfig(capacity=6.0, regrowth=0.0, initial=0.0),
        "hard food on water cells (none by default: the open sea has no hard food)",
    )
    regrowth_floor: float = _f(
        0.5,
        "an empty cell regrows as if it held this much (hard food has no seasons)",
        ge=0.0,
        le=1e6,
    )
    energy: float = _f(2.0, "energy per unit of hard food eaten", gt=0.0, le=1e6)
    intake: float = _f(
        3.0, "most hard food an agent extracts per tick at full yield", ge=0.0, le=1e6
    )
    skill_scale: float = _f(
        9.0,
        "yield = min(1, skill / skill_scale) * effective dexterity (with a milestone granting access)",
        gt=0.0,
        le=1e9,
    )


class WorldGridConfig(Strict):
    """The toroidal grid."""

    width: int = _f(
        128,
        f"cells along x (the world wraps around); at most {MAX_GRID_SIDE}, so the grids fit in memory",
        ge=4,
        le=MAX_GRID_SIDE,
    )
    height: int = _f(
        128,
        f"cells along y (the world wraps around); at most {MAX_GRID_SIDE}, so the grids fit in memory",
        ge=4,
        le=MAX_GRID_SIDE,
    )
    habitat: HabitatConfig = _f(HabitatConfig(), "land and water")
    food: FoodConfig = _f(FoodConfig(), "easy food")
    hard_food: HardFoodConfig = _f(HardFoodConfig(), "hard food: needs skill and dexterity")


# -------------------------------------------------------------------- agents
class PhysiologyConfig(Strict):
    """Energy budget shared by all species."""

    intake: float = _f(
        2.0, "most food an agent eats per tick (before habitat efficiency)", gt=0.0, le=1e6
    )
    food_energy: float = _f(1.0, "energy per unit of food eaten", gt=0.0, le=1e6)
    base_metabolism: float = _f(0.4, "energy every agent spends per tick", ge=0.0, le=1e6)
    max_energy: float = _f(60.0, "most energy an agent can store", gt=0.0, le=1e9)
    move_cost: float = _f(0.1, "energy per move of one cell (staying is free)", ge=0.0, le=1e6)
    move_noise: float = _f(
        1.0,
        "exploration: uniform noise (in food units) added to each direction's score",
        ge=0.0,
        le=1e6,
    )
    sight_discount: float = _f(
        0.8, "food seen k cells away counts sight_discount**(k-1) times as much", gt=0.0, le=1.0
    )


class LifespanTraits(Strict):
    max_age_min: int = _f(60, "maximum age (ticks) at lifespan gene 0", ge=1, le=MAX_TICKS)
    max_age_max: int = _f(600, "maximum age (ticks) at lifespan gene 1", ge=1, le=MAX_TICKS)
    upkeep: float = _f(
        0.1, "energy per tick at lifespan gene 1 (somatic maintenance; linear)", ge=0.0, le=1e6
    )


class ChildhoodTraits(Strict):
    maturity_min: int = _f(5, "age (ticks) of maturity at childhood gene 0", ge=0, le=MAX_TICKS)
    maturity_max: int = _f(120, "age (ticks) of maturity at childhood gene 1", ge=0, le=MAX_TICKS)
    upkeep: float = _f(0.0, "energy per tick at childhood gene 1 (linear)", ge=0.0, le=1e6)
    feed_rate: float = _f(
        0.6,
        "energy a parent passes to each dependant child per tick (the parent pays)",
        ge=0.0,
        le=1e6,
    )
    feed_reserve: float = _f(
        5.0,
        "a parent only feeds from energy above this reserve (shared equally among its dependants)",
        ge=0.0,
        le=1e9,
    )
    juvenile_intake: float = _f(
        0.5, "a juvenile forages at this share of the adult intake", ge=0.0, le=1.0
    )


class SocialityTraits(Strict):
    upkeep: float = _f(0.02, "energy per tick at sociality gene 1 (linear)", ge=0.0, le=1e6)
    attraction: float = _f(
        0.3,
        "aggregation: a move's score gains attraction * sociality * m / (m + attraction_half), m = "
        "conspecifics on the target cell (where they are its majority), in food units",
        ge=0.0,
        le=1e6,
    )
    attraction_half: float = _f(
        2.0,
        "conspecifics at which attraction reaches half its maximum (saturation)",
        gt=0.0,
        le=1e6,
    )
    radius_min: int = _f(
        1,
        "social radius (cells) at sociality gene 0: how far an agent sees conspecifics",
        ge=0,
        le=MAX_GRID_SIDE,
    )
    radius_max: int = _f(6, "social radius (cells) at sociality gene 1", ge=0, le=MAX_GRID_SIDE)
    share_rate: float = _f(
        0.0,
        "food sharing: an agent gives share_rate * sociality of its energy above share_above to "
        "hungry conspecifics (energy below share_below) on its cell; 0 = off",
        ge=0.0,
        le=1.0,
    )
    share_above: float = _f(30.0, "energy above which an agent shares", ge=0.0, le=1e9)
    share_below: float = _f(10.0, "energy below which a conspecific receives", ge=0.0, le=1e9)


class DexterityTraits(Strict):
    upkeep: float = _f(0.05, "energy per tick at dexterity gene 1 (linear)", ge=0.0, le=1e6)


class HabitatTraits(Strict):
    mismatch: float = _f(
        1.0,
        "foraging efficiency lost per unit of |habitat gene - cell| (cell: water 0, land 1); "
        "efficiency = max(0, 1 - mismatch * |h - cell|)",
        ge=0.0,
        le=1e6,
    )
    move_mismatch_cost: float = _f(
        2.0, "a move into a cell costs move_cost * (1 + this * |h - cell|)", ge=0.0, le=1e6
    )


class BrainTraits(Strict):
    radius_min: int = _f(1, "perception radius (cells) at brain gene 0", ge=1, le=64)
    radius_max: int = _f(6, "perception radius (cells) at brain gene 1", ge=1, le=64)
    upkeep: float = _f(0.1, "energy per tick at brain gene 1 (expensive tissue)", ge=0.0, le=1e6)
    exponent: float = _f(2.0, "upkeep = upkeep * brain**exponent (steep cost)", ge=0.0, le=16.0)


class FecundityTraits(Strict):
    birth_energy_min: float = _f(
        12.0, "energy needed to reproduce at fecundity gene 1", gt=0.0, le=1e9
    )
    birth_energy_max: float = _f(
        40.0, "energy needed to reproduce at fecundity gene 0", gt=0.0, le=1e9
    )
    offspring_share_min: float = _f(
        0.2, "share of energy given to a child at fecundity gene 1", gt=0.0, lt=1.0
    )
    offspring_share_max: float = _f(
        0.6, "share of energy given to a child at fecundity gene 0", gt=0.0, lt=1.0
    )


class TraitsConfig(Strict):
    """How each gene in [0, 1] maps to a physical quantity and what it costs."""

    lifespan: LifespanTraits = _f(LifespanTraits(), "senescence and its upkeep")
    childhood: ChildhoodTraits = _f(ChildhoodTraits(), "juvenile period")
    sociality: SocialityTraits = _f(SocialityTraits(), "social life")
    dexterity: DexterityTraits = _f(DexterityTraits(), "manipulation")
    habitat: HabitatTraits = _f(HabitatTraits(), "aquatic (0) to terrestrial (1)")
    brain: BrainTraits = _f(BrainTraits(), "perception and expensive tissue")
    fecundity: FecundityTraits = _f(
        FecundityTraits(), "r/K: energy threshold and investment per child"
    )


def _can_be_species(name: str, founders: list[str]) -> bool:
    """True if a species of a world founded by ``founders`` can have ``name`` (``<founder>.<id>`` later)."""
    root, _, number = name.rpartition(".")
    return name in founders or (root in founders and number.isdigit())


class SpeciesConfig(Strict):
    """A founding species."""

    name: str = Field(
        "species", description="unique name", pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,39}$"
    )
    count: int = _f(1000, "founders at tick 0", ge=1, le=MAX_POPULATION_CAP)
    energy: float = _f(10.0, "energy of each founder", gt=0.0, le=1e9)
    start: Literal["match", "land", "water", "any"] = _f(
        "match",
        "where founders are placed: 'match' = land if the habitat mean >= 0.5 else water",
    )
    adult: bool = _f(
        False,
        "founders start as adults (age = the maturity their childhood gene sets), so no founding "
        "species waits out a childhood before it can breed (the start-up boom does not decide who lives)",
    )
    genes: GenesConfig = _f(
        GenesConfig(),
        "genes; each setting (mean, sd, min, max, mutation) a number in [0, 1] or a distribution "
        "drawn per seed: {uniform: [lo, hi]}, {beta: [a, b]} or {beta: [a, b, lo, hi]}, "
        "{normal: [mu, sd, lo, hi]} (truncated), {choice: [v1, v2, ...]}",
    )


class FoundersConfig(Strict):
    """Founding species drawn from one body-plan prior (docs/model.md §5): ``count`` draws of ``prior``."""

    count: int = _f(8, "how many founding species to draw", ge=1, le=256)
    prior: SpeciesConfig = _f(
        SpeciesConfig(name="founder", count=375, adult=True),
        "a species entry whose gene settings may be distributions; each founding species draws its "
        "own values, and takes the name <prior.name><k>, k = 1..count (founder1, founder2, ...)",
    )

    @model_validator(mode="after")
    def _names_fit(self):
        if len(self.prior.name) + len(str(self.count)) > 40:
            raise ValueError(
                f"prior.name '{self.prior.name}' is too long: the founders' names "
                f"({self.prior.name}{self.count}) would pass 40 characters"
            )
        return self

    def names(self) -> list[str]:
        """The founding species' names, in order."""
        return [f"{self.prior.name}{k}" for k in range(1, self.count + 1)]


def _body_plan(name: str, count: int, **genes: tuple[float, ...]) -> SpeciesConfig:
    """A founding species: ``genes`` maps a gene to (mean, sd[, min, max[, mutation]])."""
    specs = {}
    for gene, v in genes.items():
        keys = ("mean", "sd", "min", "max", "mutation")[: len(v)]
        specs[gene] = GeneSpec(**dict(zip(keys, v)))
    return SpeciesConfig(name=name, count=count, adult=True, genes=GenesConfig(**specs))


def _default_species() -> list[SpeciesConfig]:
    # the four body plans of worlds/earthlike.yaml (docs/worlds.md); genes not given: mean 0.5, sd 0.05,
    # bounds [0, 1], mutation 0.02. 375 founders each: earthlike's 1500 on a quarter of its area.
    return [
        _body_plan("primate", 375, lifespan=(0.5, 0.05), childhood=(0.5, 0.05), sociality=(0.6, 0.05),
                   dexterity=(0.6, 0.05), habitat=(0.9, 0.03, 0.6, 1.0), brain=(0.45, 0.05),
                   fecundity=(0.5, 0.05)),
        _body_plan("cetacean", 375, lifespan=(0.55, 0.05), childhood=(0.5, 0.05),
                   sociality=(0.7, 0.05), dexterity=(0.05, 0.02, 0.0, 0.1, 0.01),
                   habitat=(0.05, 0.02, 0.0, 0.3), brain=(0.45, 0.05), fecundity=(0.4, 0.05)),
        _body_plan("corvid", 375, lifespan=(0.4, 0.05), childhood=(0.35, 0.05),
                   sociality=(0.5, 0.05), dexterity=(0.35, 0.05, 0.0, 0.5),
                   habitat=(0.9, 0.03, 0.5, 1.0), brain=(0.4, 0.05), fecundity=(0.6, 0.05)),
        _body_plan("cephalopod", 375, lifespan=(0.1, 0.03, 0.0, 0.25),
                   childhood=(0.02, 0.01, 0.0, 0.1, 0.01), sociality=(0.1, 0.03, 0.0, 0.3),
                   dexterity=(0.7, 0.05), habitat=(0.05, 0.02, 0.0, 0.3), brain=(0.4, 0.05),
                   fecundity=(0.8, 0.05)),
    ]  # fmt: skip


class SpeciationConfig(Strict):
    """When a child founds a new species."""

    threshold: float = _f(
        0.5,
        "a child founds a new species when the Euclidean distance between its genome and its "
        "species' centroid (mean genome of the live members; all genes in [0, 1]) exceeds this",
        gt=0.0,
        le=10.0,
    )
    max_species: int = _f(
        20_000,
        "most species a run may create; further speciations are refused (and logged)",
        ge=1,
        le=10_000_000,
    )


class SimConfig(Strict):
    """How long and with which seed."""

    seed: int = _f(0, "seed of every random draw", ge=0, le=2**63 - 1)
    ticks: int = _f(10000, "ticks to run (the CLI's --ticks overrides)", ge=0, le=MAX_TICKS)
    reseed: int | None = _f(
        None,
        "a branch's reseed K, written by `evosim run --from CHECKPOINT --reseed K`: after the branch tick "
        "the random numbers are keyed by (seed, branch tick, K), a fresh future from the same past "
        "(docs/replay.md); null: the seed's own stream. Only a branch may set it",
        ge=0,
        le=2**63 - 1,
    )
    population_cap: int = _f(
        2_000_000,
        f"most agents alive at once; births beyond it are refused (reported); at most {MAX_POPULATION_CAP:,} "
        f"(memory: about {BYTES_PER_AGENT} bytes per agent)",
        ge=1,
        le=MAX_POPULATION_CAP,
    )


class OutputConfig(Strict):
    """What the run folder records."""

    sample_every: int = _f(10, "ticks between rows of timeseries.csv", ge=1, le=MAX_TICKS)
    lineage: bool = _f(
        False, "write a per-individual genealogy (lineage/*.parquet, ALife phylogeny format)"
    )
    checkpoint_every: int = _f(
        1000,
        "ticks between checkpoints (0 = none between; the last tick and an interruption always get "
        "one); --checkpoint-every overrides",
        ge=0,
        le=MAX_TICKS,
    )
    checkpoint_keep: int = _f(3, "how many of the newest checkpoints to keep", ge=1, le=1000)
    record_every: int = _f(
        0,
        "ticks between replay frames written to frames/ (0 = none); `evosim view RUN_FOLDER` replays them; "
        "--record-every overrides",
        ge=0,
        le=MAX_TICKS,
    )
    lineage_chunk_rows: int = _f(
        250_000,
        "rows buffered before a lineage chunk is written (bounds memory)",
        ge=1_000,
        le=50_000_000,
    )


class World(Strict):
    """A complete world: grid, physiology, gene mappings, founding species."""

    name: str = Field(
        "default",
        description="name of the world (used in run folder names)",
        pattern=r"^[A-Za-z0-9_\-.]{1,64}$",
    )
    description: str = Field(
        "A 128x128 cut of earthlike: primate, cetacean, corvid and cephalopod",
        description="free text",
        max_length=10_000,
    )
    world: WorldGridConfig = _f(WorldGridConfig(), "grid, habitat and food")
    physiology: PhysiologyConfig = _f(PhysiologyConfig(), "energy budget")
    traits: TraitsConfig = _f(TraitsConfig(), "gene-to-phenotype maps and costs")
    species: list[SpeciesConfig] = Field(
        default_factory=_default_species,
        description="founding species (a file that gives `founders` and no `species` has none but those)",
        max_length=256,
    )
    founders: FoundersConfig | None = _f(
        None,
        "founding species drawn from a body-plan prior, after those of `species`; drawn anew for "
        "each seed, and recorded as `species` in the run's config.yaml",
    )
    culture: CultureConfig = _f(CultureConfig(), "skill learning and innovation")
    technology: TechnologyConfig = _f(TechnologyConfig(), "the technology ladder")
    detectors: DetectorsConfig = _f(DetectorsConfig(), "intelligence and technology detectors")
    compute: ComputeConfig = _f(ComputeConfig(), "compute accounting")
    speciation: SpeciationConfig = _f(SpeciationConfig(), "species formation")
    interventions: list[InterventionConfig] = Field(
        default_factory=list,
        description="interventions applied during the run (docs/interventions.md)",
        max_length=256,
    )
    sim: SimConfig = _f(SimConfig(), "seed, length, population cap")
    output: OutputConfig = _f(OutputConfig(), "recording")

    def founder_names(self) -> list[str]:
        """Names of the founding species: those of ``species``, then the drawn ones of ``founders``."""
        return [s.name for s in self.species] + (self.founders.names() if self.founders else [])

    def drawn(self) -> bool:
        """True if the world is unresolved: it has ``founders`` or a gene setting is a distribution."""
        return self.founders is not None or any(s.genes.drawn() for s in self.species)

    @model_validator(mode="after")
    def _unique_names(self):
        names = self.founder_names()
        if not names:
            raise Located(
                ("species",), "no founding species: give at least 1 in `species`, or `founders`"
            )
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise Located(("species",), f"species names must be unique; repeated: {', '.join(dup)}")
        return self

    @model_validator(mode="after")
    def _interventions_can_fire(self):
        """Refuse interventions that no run of this world could ever apply."""
        names = self.founder_names()
        ladder = {m.name: m for m in self.technology.ladder}
        w, h = self.world.width, self.world.height
        for k, iv in enumerate(self.interventions):
            at = ("interventions", k)
            if iv.when.trigger in ("milestone", "gated") and iv.when.milestone not in ladder:
                raise Located(
                    (*at, "when", "milestone"),
                    f"'{iv.when.milestone}' is not on the technology ladder "
                    f"({', '.join(sorted(ladder)) or 'empty'})",
                )
            m = ladder.get(iv.when.milestone or "")
            if iv.when.trigger == "gated" and m and m.min_dexterity <= 0.0 and not m.needs_land:
                raise Located(
                    (*at, "when", "milestone"),
                    f"trigger gated on '{m.name}' can never fire: that milestone has no requirement "
                    "(min_dexterity 0, needs_land false), so no agent is ever held below it",
                )
            if iv.when.trigger == "population_below" and iv.when.value == 0:
                raise Located(
                    (*at, "when", "value"),
                    "population_below 0 can never happen (a species with no members is extinct); "
                    "give a value of 1 or more",
                )
            if iv.target.founder is not None and iv.target.founder not in names:
                raise Located(
                    (*at, "target", "founder"),
                    f"'{iv.target.founder}' is not a founding species ({', '.join(sorted(names))})",
                )
            ghosts = [n for n in iv.target.species or [] if not _can_be_species(n, names)]
            if ghosts:
                raise Located(
                    (*at, "target", "species"),
                    f"{', '.join(repr(g) for g in ghosts)} can never name a species of this world: "
                    f"founding species are {', '.join(names)}, and a species formed later is named "
                    f"<founder>.<number>, e.g. {names[0]}.7 (see species.csv)",
                )
            for gene, r in (iv.target.selector or {}).items():
                if r.min > r.max:
                    raise Located(
                        (*at, "target", "selector", gene),
                        f"min {r.min} > max {r.max}: no species can match",
                    )
            region = iv.effect.region
            if iv.effect.kind == "food" and region is not None and (region.x >= w or region.y >= h):
                raise Located(
                    (*at, "effect", "region"),
                    f"the region starts at ({region.x}, {region.y}), outside the {w}x{h} grid, so it "
                    "would change nothing",
                )
        return self

    @model_validator(mode="after")
    def _fits_in_memory(self):
        cells = self.world.width * self.world.height
        need = cells * BYTES_PER_CELL + self.sim.population_cap * BYTES_PER_AGENT
        if need > MEMORY_BUDGET:
            raise ValueError(
                f"grid {self.world.width}x{self.world.height} with population_cap "
                f"{self.sim.population_cap} would need about {need / 2**30:.1f} GiB; "
                f"the limit is {MEMORY_BUDGET / 2**30:.0f} GiB (lower sim.population_cap or the grid size)"
            )
        founders = sum(s.count for s in self.species)
        if self.founders is not None:
            founders += self.founders.count * self.founders.prior.count
        if founders > self.sim.population_cap:
            raise ValueError(
                f"the founding species have {founders} agents in all, more than sim.population_cap "
                f"({self.sim.population_cap})"
            )
        return self
