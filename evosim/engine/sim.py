"""The simulation: state plus the tick loop, in the ODD's schedule order.

>>> from evosim import load_world, Simulation
>>> sim = Simulation(load_world(overrides={"world.width": 32, "world.height": 32}), seed=1)
>>> sim.advance(10)
>>> sorted(sim.populations())
['grazer', 'swimmer']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosim.config.schema import World
from evosim.defaults import (
    GENES,
    LAND,
    RNG_CAP,
    RNG_INIT_ENERGY,
    RNG_INIT_GENOME,
    RNG_INIT_POSITION,
    ROW_DTYPE,
    WATER,
)
from evosim.engine.detectors import Detectors
from evosim.engine.interventions import Interventions
from evosim.engine.kernels import culture as k_culture
from evosim.engine.kernels import food as k_food
from evosim.engine.kernels import forage as k_forage
from evosim.engine.kernels import life as k_life
from evosim.engine.kernels import move as k_move
from evosim.engine.kernels import spatial as k_spatial
from evosim.engine.kernels.rng import normal_array, uniform_array
from evosim.engine.params import ladder_from_world, params_from_world
from evosim.engine.population import Population
from evosim.engine.species import SpeciesRegistry
from evosim.engine.world import (
    food_arrays,
    initial_food,
    make_habitat,
    make_richness,
    regrowth_rate,
)
from evosim.errors import ConfigError


class Simulation:
    """A world in motion.

    Args:
        world: a validated world (see :func:`evosim.load_world`).
        seed: overrides ``world.sim.seed``.

    Attributes:
        tick: ticks completed.
        pop: the agents (:class:`~evosim.population.Population`).
        habitat, food: the (H, W) grids.
        species: the :class:`~evosim.species.SpeciesRegistry`.
        births, deaths: per-species counters since the last :meth:`take_counts`
            (deaths has one column per cause: 0 unused, 1 starvation, 2 old age, 3 culled).
        events: ``(tick, kind, species, details)`` tuples not yet taken by a recorder.
        on_death: optional ``f(sim, rows)`` called with the rows of the agents
            about to be removed (their ``_cause`` is set), e.g. for lineage logs.
    """

    def __init__(self, world: World, seed: int | None = None):
        seed = int(world.sim.seed if seed is None else seed)
        g = world.world
        self._build(
            world,
            seed,
            SpeciesRegistry(world),
            Population(max(1024, sum(s.count for s in world.species))),
            make_habitat(g, seed),
            make_richness(g.width, g.height, g.food.patches, seed),
        )
        self.food[...] = initial_food(self.habitat, g.food) * self.richness
        self._place_founders()
        self.interventions.update(
            self
        )  # `when: {tick: 0}` (and `every` from 0) apply before the first tick

    @classmethod
    def from_state(
        cls, world: World, arrays: dict[str, np.ndarray], scalars: dict[str, Any]
    ) -> Simulation:
        """A simulation that continues a saved state (a checkpoint's) under ``world``.

        Nothing of a new run's start happens: no founders are placed, nothing
        is applied at tick 0, and no trigger has fired for any species yet
        (:func:`evosim.io.checkpoint.restore` carries that record over when it applies).

        Args:
            world: the world to continue under; same grid size as the saved state (its
                parameters and interventions may differ: a branch).
            arrays: ``pop.<field>`` (:meth:`Population.state`), ``species.<array>``
                (:meth:`SpeciesRegistry.state`) and ``sim.<name>`` for each of
                :data:`evosim.io.checkpoint.SIM_ARRAYS`.
            scalars: :data:`evosim.io.checkpoint.SIM_SCALARS`, ``next_id`` and ``pending_events``.
        """
        from evosim.io.checkpoint import SIM_ARRAYS, SIM_SCALARS

        def part(prefix: str) -> dict[str, np.ndarray]:
            return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}

        grids = part("sim.")
        sim = cls.__new__(cls)
        sim._build(
            world,
            int(scalars["seed"]),
            SpeciesRegistry.from_state(world, part("species.")),
            Population.from_state(part("pop."), int(scalars["next_id"])),
            grids["habitat"],
            grids["richness"],
        )
        for k in SIM_ARRAYS:
            if k in (
                "food",
                "census",
            ):  # copied into the grids _build made (the census is a view of its padded grid)
                getattr(sim, k)[...] = grids[k]
            elif k not in ("habitat", "richness"):
                setattr(sim, k, np.array(grids[k]))
        for k in SIM_SCALARS:
            setattr(sim, k, scalars[k])
        sim.events = [tuple(e) for e in scalars["pending_events"]]
        return sim

    def _build(
        self,
        world: World,
        seed: int,
        species: SpeciesRegistry,
        pop: Population,
        habitat: np.ndarray,
        richness: np.ndarray,
    ) -> None:
        """Set up everything but the founders (:meth:`__init__`) or the saved state (:meth:`from_state`)."""
        self.world = world
        self.seed = seed
        self.params = params_from_world(world)
        self.species = species
        self.events: list[tuple[int, str, int, str]] = []
        self.on_death: Callable[[Simulation, np.ndarray], None] | None = None
        self.habitat = np.array(habitat)
        self.richness = np.array(richness)
        self.capacity, _ = food_arrays(world.world.food)
        self.hard = initial_food(self.habitat, world.world.hard_food)
        self.hard_capacity, self.hard_rate = food_arrays(world.world.hard_food)
        self.farmed = np.zeros(self.habitat.shape, np.float32)
        self.ladder = ladder_from_world(world)
        self.learning_attempts = 0
        self.innovations = 0
        self.cap = world.sim.population_cap
        self.tick = 0
        self.agent_steps = 0
        self.total_births = 0
        self.total_deaths = 0
        self.cap_reached_at: int | None = None
        self.cap_refused = 0
        self.species_limit_logged = False
        self.pop = pop
        self._counts = np.zeros(
            self.habitat.size + 1, ROW_DTYPE
        )  # the end of each cell's run in _order
        self._n_indexed = 0  # agents covered by the current spatial index (0: none)
        self._gene_sum = np.zeros((0, len(GENES)), np.float64)
        #: per species, counted over the survivors at each death step (read by the detectors): adults,
        #: adults holding the final milestone, highest milestone level held
        self.tech_counts: tuple[np.ndarray, np.ndarray, np.ndarray] = tuple(
            np.zeros(0, np.int64) for _ in range(3)
        )
        # perception reads padded grids with a wrapped halo (no wrap-around arithmetic): the habitat, the
        # easy food signed by habitat (written by regrow_food) and the census (which lives in the interior
        # of its padded grid); only their halos are refreshed each tick
        self._halo = halo = int(max(self.params.radius_min, self.params.radius_max))
        padded = (self.habitat.shape[0] + 2 * halo, self.habitat.shape[1] + 2 * halo)
        inner = (slice(halo, padded[0] - halo), slice(halo, padded[1] - halo))
        self._habitat_pad = np.zeros(padded, self.habitat.dtype)
        k_move.pad_torus(self.habitat, self._habitat_pad, halo)
        self.food = np.zeros(self.habitat.shape, np.float32)
        self._sight_pad = np.zeros(
            padded, np.float32
        )  # +food on land, -food on water (regrow_food writes it)
        self._census_pad = np.full(padded, -1, np.int64)
        self.census = self._census_pad[inner]
        self._census_cells = np.zeros(
            0, np.int64
        )  # flat indices (padded grid) the last census wrote
        self._n_census_cells = -1  # < 0: unknown, the next census clears the whole grid
        self._scratch_for(self.pop.capacity)
        self._reset_counts()
        self.detectors = Detectors(self)
        self.interventions = Interventions(self)

    # ------------------------------------------------------------ the schedule
    def step(self) -> None:
        """Advance one tick (docs/model.md, "Process overview and scheduling")."""
        self.agent_steps += self.pop.n
        self.regrow_food()
        self.sense_and_move()
        self.index_cells()
        self.forage()
        self.metabolise()
        self.learn()
        self.reproduce()
        self.die()
        self.tick += 1
        self.update_species()
        self.interventions.update(self)

    def advance(self, ticks: int, on_tick: Callable[[Simulation], None] | None = None) -> None:
        """Run ``ticks`` ticks (stopping early at extinction), calling ``on_tick`` after each."""
        for _ in range(ticks):
            if self.extinct:
                break
            self.step()
            if on_tick is not None:
                on_tick(self)

    # ------------------------------------------------------------ the processes
    def regrow_food(self) -> None:
        """Easy food regrows (faster where farmers stood last tick); hard food regrows."""
        food, hard = self.world.world.food, self.world.world.hard_food
        k_food.regrow_layers(
            self.food,
            self._sight_pad,
            self._halo,
            self.hard,
            self.habitat,
            self.richness,
            self.farmed,
            self.capacity,
            regrowth_rate(food, self.tick),
            food.regrowth_floor,
            self.hard_capacity,
            self.hard_rate,
            hard.regrowth_floor,
        )

    def sense_and_move(self) -> None:
        """Independent agents choose and make a move; then dependants follow their parents."""
        p = self.pop
        k_move.refresh_halo(
            self._sight_pad, self._halo
        )  # the food as regrow_food left it, signed by habitat
        if self.params.social_attraction > 0.0:
            k_move.refresh_halo(self._census_pad, self._halo)
        k_move.sense_and_move(
            p.x,
            p.y,
            p.genome,
            p.energy,
            p.id,
            p.species,
            p.guardian,
            p.n,
            self._sight_pad,
            self._habitat_pad,
            self._census_pad,
            self._halo,
            self.seed,
            self.tick,
            self.params,
        )
        k_move.follow_guardians(
            p.x, p.y, p.genome, p.energy, p.guardian, p.n, self.habitat, self.params
        )

    def index_cells(self) -> None:
        """Group agents by cell; census of the majority species per cell (read by the next move)."""
        p = self.pop
        self.n_groups = k_spatial.cell_index(
            p.x, p.y, p.n, self.habitat.shape[1], self._counts, self._order, self._group_start
        )
        self._n_indexed = p.n
        if self.params.social_attraction > 0.0:
            if len(self._census_cells) < self.n_groups:  # grow, keeping the cells to clear
                self._census_cells = np.concatenate(
                    [self._census_cells, np.zeros(self.n_groups, np.int64)]
                )
            self._n_census_cells = k_spatial.census(
                self._order,
                self._group_start,
                self.n_groups,
                p.species,
                p.x,
                p.y,
                self._census_pad,
                self._halo,
                self._census_cells,
                self._n_census_cells,
            )

    def forage(self) -> None:
        """Share each cell's easy and hard food among its agents; then food sharing among conspecifics (if on)."""
        p, lad = self.pop, self.ladder  # `farmed` was cleared by regrow_food, which read it
        k_forage.forage(
            self._order,
            self._group_start,
            self.n_groups,
            p.x,
            p.y,
            p.genome,
            p.energy,
            p.age,
            p.skill,
            p.species,
            self.food,
            self.hard,
            self.habitat,
            self.farmed,
            self.species.manipulators,
            lad.threshold,
            lad.energy_mult,
            lad.hard_access,
            lad.hard_mult,
            lad.regrowth_bonus,
            self.params,
            self._want,
            self._gain,
        )
        if self.params.share_rate > 0.0:
            k_forage.share_food(
                self._order,
                self._group_start,
                self.n_groups,
                p.species,
                p.genome,
                p.energy,
                self.params,
            )

    def metabolise(self) -> None:
        """Upkeep and ageing; parents feed their dependants."""
        p = self.pop
        k_life.metabolise(
            p.genome,
            p.energy,
            p.age,
            p.guardian,
            p.species,
            self.species.upkeep_extra,
            p.n,
            self.params,
        )
        k_life.feed_dependants(p.energy, p.guardian, p.n, self.params, self._keep, self._want)

    def learn(self) -> None:
        """Social learning (Henrich 2004) and innovation, capped by brain and the technology ladder."""
        p, s, lad = self.pop, self.species, self.ladder
        np.copyto(self._skill_prev[: p.n], p.live("skill"))  # models are read from this snapshot
        best, row, second = k_culture.species_top2(p.species, p.skill, p.n, len(s))
        attempts, innovations = k_culture.learn_and_innovate(
            p.skill,
            self._skill_prev,
            p.id,
            p.species,
            p.x,
            p.y,
            p.genome,
            p.age,
            p.guardian,
            self.habitat,
            p.n,
            self._order,
            self._counts,
            best,
            row,
            second,
            s.manipulators,
            s.fire_substitute,
            lad.threshold,
            lad.min_dexterity,
            lad.needs_land,
            self.seed,
            self.tick,
            self.params,
        )
        self.learning_attempts += attempts
        self.innovations += innovations

    def reproduce(self) -> None:
        """Adults with enough energy give birth (refused beyond the cap); distant children found species."""
        p = self.pop
        k = k_life.find_parents(p.genome, p.energy, p.age, p.n, self.params, self._parents)
        parents = self._parents[:k]
        room = self.cap - p.n
        if k > room:
            parents = self._cap_births(parents, room)
            k = len(parents)
        if k == 0:
            return
        p.ensure_room(k, self.cap)
        if p.capacity > len(self._keep):
            self._scratch_for(p.capacity)
        s = self.species
        distant = np.zeros(k, np.uint8)
        k_life.give_birth(
            parents,
            k,
            p.n,
            p.next_id,
            self.tick,
            self.seed,
            p.id,
            p.parent_id,
            p.species,
            p.x,
            p.y,
            p.energy,
            p.age,
            p.birth_tick,
            p.guardian,
            p.skill,
            p.genome,
            s.lo,
            s.hi,
            s.mutation,
            s.centroid,
            self.params,
            distant,
        )
        children = np.arange(p.n, p.n + k)
        for c in children[distant.astype(bool)]:
            self._speciate(int(c))
        born = np.bincount(p.species[children], minlength=len(s))
        self.births = _grow(self.births, len(s))
        self.births[: len(born)] += born
        s.alive[: len(born)] += born
        self.total_births += k
        p.n += k
        p.next_id += k

    def die(self) -> None:
        """Starvation and old age; dead rows are removed, dependants of the dead are orphaned."""
        p = self.pop
        before = p.n
        self.deaths = _grow(self.deaths, len(self.species))
        if len(self._gene_sum) < self.species.capacity:
            self._gene_sum = np.zeros((self.species.capacity, len(GENES)), np.float64)
            self.tech_counts = tuple(np.zeros(self.species.capacity, np.int64) for _ in range(3))
        k_life.select_survivors(
            p.genome,
            p.energy,
            p.age,
            p.species,
            p.skill,
            p.n,
            self.params,
            self.ladder.threshold,
            self._cause,
            self.deaths,
            self.species.alive,
            self._gene_sum,
            *self.tech_counts,
        )
        self.species.update_centroids(self._gene_sum)
        # survivors are stored in the cell order of this tick's index (cache-friendly next tick)
        m = k_life.cell_ordered_survivors(
            self._order, self._n_indexed, before, self._cause, self._keep
        )
        self._n_indexed = 0  # the index is spent
        self._drop(before, m)
        self._record_extinctions()  # stamped like the deaths that caused them (the tick of this step)

    def _drop(self, before: int, m: int) -> None:
        """Remove the rows whose ``_cause`` is set, keeping rows ``_keep[:m]`` in that order.

        The lineage hook sees the dead before they go; dependants of the dead
        are orphaned.
        """
        p = self.pop
        if self.on_death is not None and m < before:
            self.on_death(self, np.flatnonzero(self._cause[:before]))
        self.total_deaths += before - m
        p.gather(self._keep, m)
        k_life.remap_guardians(p.guardian, self._keep, m, before, self._new_row)

    def remove(self, mask: np.ndarray, cause: int) -> None:
        """Remove the live agents where ``mask`` is true (e.g. a cull), recording ``cause``."""
        p = self.pop
        before = p.n
        dead = np.flatnonzero(mask[:before])
        if len(dead) == 0:
            return
        self._cause[:before] = 0
        self._cause[dead] = cause
        self.deaths = _grow(self.deaths, len(self.species))
        np.add.at(self.deaths, (p.species[dead], cause), 1)
        np.subtract.at(self.species.alive, p.species[dead], 1)
        keep = np.flatnonzero(~mask[:before])
        self._keep[: len(keep)] = keep
        self._drop(before, len(keep))
        self._record_extinctions()

    def apply_intervention(self, name: str, species_id: int) -> None:
        """Apply the world's intervention ``name`` to one species now (the viewer's hook); logged as usual."""
        k = self.interventions.names.index(name)
        self.interventions.apply(
            self, k, [species_id] if self.species.alive[species_id] > 0 else []
        )

    def update_species(self) -> None:
        """Detectors and milestones (logged as events); extinctions were recorded by :meth:`die`."""
        self.detectors.update(self)

    def _record_extinctions(self) -> None:
        """Update peaks; stamp species left without members extinct at the current tick (once)."""
        s = self.species
        alive = s.view("alive")
        np.maximum(s.view("peak"), alive, out=s.view("peak"))
        for sid in np.flatnonzero((alive == 0) & (s.view("destruction") < 0)):
            s.destruction[sid] = self.tick
            self.events.append((self.tick, "extinction", int(sid), f"{s.names[sid]} went extinct"))

    def flop(self) -> float:
        """Estimated compute spent so far (docs/model.md, "Compute accounting")."""
        c = self.world.compute
        return (
            self.agent_steps * c.flop_per_agent_step
            + self.total_births * c.flop_per_birth
            + self.learning_attempts * c.flop_per_learning_attempt
            + self.innovations * c.flop_per_innovation
        )

    def _speciate(self, row: int) -> None:
        """Child at ``row`` founds a new species (unless the species limit is reached)."""
        p, s = self.pop, self.species
        parent_sp = int(p.species[row])
        sid = s.found(parent_sp, p.genome[row], self.tick)
        if sid < 0:
            if not self.species_limit_logged:
                self.species_limit_logged = True
                self.events.append(
                    (
                        self.tick,
                        "species_limit",
                        parent_sp,
                        f"max_species={s.max_species} reached; no more speciation",
                    )
                )
            return
        p.species[row] = sid
        self.events.append(
            (self.tick, "speciation", sid, f"{s.names[sid]} split from {s.names[parent_sp]}")
        )

    # ------------------------------------------------------------ helpers
    def _cap_births(self, parents: np.ndarray, room: int) -> np.ndarray:
        """At the cap, let a random (id-keyed, order-blind) subset of ``room`` parents breed."""
        if self.cap_reached_at is None:
            self.cap_reached_at = self.tick
            self.events.append(
                (self.tick, "cap_reached", -1, f"population cap {self.cap} reached; births refused")
            )
        self.cap_refused += len(parents) - max(room, 0)
        if room <= 0:
            return parents[:0]
        u = uniform_array(self.seed, self.tick, self.pop.id[parents], RNG_CAP, 0)
        return np.sort(parents[np.argsort(u, kind="stable")[:room]])

    def _scratch_for(self, capacity: int) -> None:
        """Per-agent scratch arrays for ``capacity`` rows (row indices are int32: the cap is at most 50 M)."""
        old_order = getattr(self, "_order", np.zeros(0, ROW_DTYPE))
        self._order = np.zeros(capacity, ROW_DTYPE)
        k = min(len(old_order), capacity)
        self._order[:k] = old_order[:k]  # the spatial index survives growth within a tick
        self._group_start = np.zeros(capacity + 1, ROW_DTYPE)
        self._keep = np.zeros(capacity, ROW_DTYPE)
        self._cause = np.zeros(capacity, np.int8)
        self._parents = np.zeros(capacity, ROW_DTYPE)
        self._new_row = np.zeros(capacity, ROW_DTYPE)
        self._skill_prev = np.zeros(capacity, np.float32)
        self._want = np.zeros(capacity, np.float64)
        self._gain = np.zeros(capacity, np.float64)

    def _reset_counts(self) -> None:
        self.births = np.zeros(len(self.species), np.int64)
        self.deaths = np.zeros((len(self.species), 4), np.int64)

    def take_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Births and deaths per species since the last call; resets them."""
        out = (self.births, self.deaths)
        self._reset_counts()
        return out

    def _place_founders(self) -> None:
        """Founders: ids 0.., positions uniform over their start habitat, genes ~ N(mean, sd) clipped."""
        p = self.pop
        flat = self.habitat.ravel()
        width = self.habitat.shape[1]
        for s_id, spec in enumerate(self.world.species):
            start = spec.start
            if start == "match":
                start = "land" if spec.genes.habitat.mean >= 0.5 else "water"
            cells = (
                np.flatnonzero(flat == {"land": LAND, "water": WATER}[start])
                if start != "any"
                else np.arange(flat.size)
            )
            if cells.size == 0:
                raise ConfigError(
                    f"species '{spec.name}' starts on {start} (species[{s_id}].start) but the map has no {start} cells"
                )
            ids = np.arange(p.n, p.n + spec.count, dtype=np.int64)
            rows = slice(p.n, p.n + spec.count)
            pick = (uniform_array(self.seed, 0, ids, RNG_INIT_POSITION, 0) * cells.size).astype(
                np.int64
            )
            c = cells[np.minimum(pick, cells.size - 1)]
            p.x[rows], p.y[rows] = c % width, c // width
            for g, gene in enumerate(GENES):
                gs = getattr(spec.genes, gene)
                v = gs.mean + gs.sd * normal_array(self.seed, 0, ids, RNG_INIT_GENOME, g)
                p.genome[rows, g] = np.clip(v, gs.min, gs.max)
            jitter = uniform_array(self.seed, 0, ids, RNG_INIT_ENERGY, 0)
            p.energy[rows] = spec.energy * (0.5 + jitter)
            p.id[rows] = ids
            p.parent_id[rows] = -1
            p.species[rows] = s_id
            p.age[rows] = 0
            p.birth_tick[rows] = 0
            p.guardian[rows] = -1
            p.skill[rows] = 0.0
            p.n += spec.count
            self.species.alive[s_id] = spec.count
            self.species.peak[s_id] = spec.count
        p.next_id = p.n

    # ------------------------------------------------------------ queries
    @property
    def extinct(self) -> bool:
        """True once no agent is alive."""
        return self.pop.n == 0

    def populations(self, extant_only: bool = False) -> dict[str, int]:
        """Live agents per species name (all species ever formed, or only extant ones)."""
        alive = self.species.view("alive")
        return {name: int(c) for name, c in zip(self.species.names, alive) if c or not extant_only}

    def land_share(self) -> float:
        """Share of live agents standing on land."""
        p = self.pop
        return float(self.habitat[p.live("y"), p.live("x")].mean()) if p.n else 0.0

    def mean_gene(self, gene: str) -> float:
        """Mean of one gene over all live agents."""
        return (
            float(self.pop.live("genome")[:, GENES.index(gene)].mean())
            if self.pop.n
            else float("nan")
        )


def _grow(counter: np.ndarray, n_species: int) -> np.ndarray:
    """Pad a per-species counter with zero rows up to ``n_species``."""
    if len(counter) >= n_species:
        return counter
    pad = np.zeros((n_species - len(counter), *counter.shape[1:]), counter.dtype)
    return np.concatenate([counter, pad])
