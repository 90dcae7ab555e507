"""The simulation: state plus the tick loop, in the ODD's schedule order.

>>> from evosim import load_world, Simulation
>>> sim = Simulation(load_world(overrides={"world.width": 32, "world.height": 32}), seed=1)
>>> sim.advance(10)
>>> sorted(sim.populations())
['cephalopod', 'cetacean', 'corvid', 'primate']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosim.config.priors import resolve_world
from evosim.config.schema import World
from evosim.defaults import G_BRAIN, GENES, LAND, RNG_CAP, RNG_RESEED
from evosim.engine import observation
from evosim.engine.counters import Counters
from evosim.engine.detectors import Detectors, Event
from evosim.engine.flavour import FlavourChooser
from evosim.engine.founders import place_founders
from evosim.engine.grids import Grids
from evosim.engine.interventions import Interventions
from evosim.engine.kernels import conf
from evosim.engine.kernels import culture as k_culture
from evosim.engine.kernels import food as k_food
from evosim.engine.kernels import forage as k_forage
from evosim.engine.kernels import ladder as k_ladder
from evosim.engine.kernels import life as k_life
from evosim.engine.kernels import move as k_move
from evosim.engine.kernels import spatial as k_spatial
from evosim.engine.kernels import stats as k_stats
from evosim.engine.kernels import tasks as k_tasks
from evosim.engine.kernels.rng import uniform_array
from evosim.engine.params import Params, ladder_from_world, params_from_world
from evosim.engine.population import Population
from evosim.engine.scratch import Scratch
from evosim.engine.species import SpeciesRegistry
from evosim.engine.state import Clock, reuse, reuse_per
from evosim.engine.world import regrowth_rate

#: Called with ``(pop, rows, cause, tick)`` for the agents about to be removed: their rows of
#: ``pop``, their causes of death (``evosim.defaults.DEATH_*``) and the tick they die at.
DeathHook = Callable[[Population, np.ndarray, np.ndarray, int], None]


class Simulation:
    """A world in motion.

    The state is held by a few objects, each able to save and rebuild itself
    (``state()`` / ``from_state()``): :attr:`pop` (the agents), :attr:`species`
    (the registry), :attr:`grids` (habitat and food layers), :attr:`counters`
    (tick and totals), plus the interventions' firing record and the pending
    events. :attr:`scratch` holds a tick's working arrays (not state).

    Args:
        world: a validated world (see :func:`evosim.load_world`).
        seed: overrides ``world.sim.seed``.

    Attributes:
        world, seed: the run's world and seed.
        stream: the key of every random draw: the seed, or after :meth:`reseed` a key derived
            from (seed, branch tick, reseed key) by :func:`stream_key`.
        reseeded: ``(branch tick, key)`` of :meth:`reseed`, or None.
        params, ladder: the world's parameters and technology ladder as the kernels take them.
        cap: the population cap.
        pop: the agents (:class:`~evosim.engine.population.Population`).
        species: the :class:`~evosim.engine.species.SpeciesRegistry`.
        grids: the :class:`~evosim.engine.grids.Grids`.
        counters: the :class:`~evosim.engine.counters.Counters` (``births`` and ``deaths``
            are per species since the last :meth:`take_counts`).
        scratch: the :class:`~evosim.engine.scratch.Scratch` buffers of a tick.
        flavours: the :class:`~evosim.engine.flavour.FlavourChooser` that picks each tick's
            build of the kernels (serial or parallel) by measured speed.
        detectors, interventions: checked at the end of every tick.
        events: ``(tick, kind, species, details)`` tuples not yet taken by a recorder.
        on_death: optional :data:`DeathHook` called with the agents about to be removed
            (e.g. for lineage logs).
    """

    reseeded: tuple[int, int] | None

    def __init__(self, world: World, seed: int | None = None):
        seed = int(world.sim.seed if seed is None else seed)
        world = resolve_world(world, seed)  # founders drawn from a prior: numbers from the seed
        params = params_from_world(world)
        self._build(
            world,
            seed,
            params,
            SpeciesRegistry(world),
            Population(max(Population.MIN_CAPACITY, sum(s.count for s in world.species))),
            Grids.new(world, seed, _halo(params)),
            Counters(len(world.species)),
        )
        place_founders(world, seed, self.pop, self.species, self.grids.habitat)
        # `when: {tick: 0}` (and `every` from 0) apply before the first tick
        self.interventions.update(0, self.detectors.reached_now)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The complete state between ticks, as (arrays, JSON-able scalars); no array is shared.

        Arrays: ``pop.<field>`` (:meth:`Population.state`), ``sim.<name>`` for the grids
        (:meth:`Grids.state`) and the per-species counts (:meth:`Counters.state`),
        ``species.<array>`` (:meth:`SpeciesRegistry.state`). Scalars: the counters', the
        seed, the next agent id, the pending events and the interventions' firing record.
        """
        counts, scalars = self.counters.state()
        arrays = {f"pop.{k}": v for k, v in self.pop.state().items()}
        arrays.update({f"sim.{k}": v for k, v in self.grids.state().items()})
        arrays.update({f"sim.{k}": v for k, v in counts.items()})
        arrays.update({f"species.{k}": v for k, v in self.species.state().items()})
        out = {"tick": scalars.pop("tick"), "seed": self.seed, **scalars}
        if self.reseeded is not None:  # only then: other checkpoints keep their bytes
            out["reseed"] = list(self.reseeded)
        out["next_id"] = int(self.pop.next_id)
        out["pending_events"] = list(self.events)
        out.update(self.interventions.state())
        return arrays, out

    @classmethod
    def from_state(
        cls, world: World, arrays: dict[str, np.ndarray], scalars: dict[str, Any]
    ) -> Simulation:
        """A simulation that continues a saved state (:meth:`state`'s output) under ``world``.

        Nothing of a new run's start happens: no founders are placed and nothing
        is applied at tick 0. Which species each trigger has fired for is carried
        over only when ``world`` has the same interventions as the run that saved
        the state; a branch with other interventions starts with none fired.

        Args:
            world: the world to continue under; same grid size as the saved state (its
                parameters and interventions may differ: a branch).
            arrays, scalars: as :meth:`state` returns them (other arrays are ignored).
        """

        def part(prefix: str) -> dict[str, np.ndarray]:
            return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}

        own = part("sim.")
        params = params_from_world(world)
        sim = cls.__new__(cls)
        sim._build(
            world,
            int(scalars["seed"]),
            params,
            SpeciesRegistry.from_state(world, part("species.")),
            Population.from_state(part("pop."), int(scalars["next_id"])),
            Grids.from_state(world, own, _halo(params)),
            Counters.from_state(own, scalars),
        )
        sim.events.extend(tuple(e) for e in scalars["pending_events"])
        sim.interventions.restore(scalars)
        if scalars.get("reseed") is not None:
            branch_tick, key = (int(v) for v in scalars["reseed"])
            sim._set_stream(branch_tick, key)
        return sim

    def reseed(self, key: int) -> None:
        """From the next tick on, draw from a fresh random stream keyed by (seed, this tick, ``key``).

        The state is unchanged; only the random numbers of the future differ, so
        futures branched from one state with different keys differ, and the same
        key gives the same future byte for byte (``evosim run --from CKPT --reseed K``;
        docs/replay.md). The key and the tick are saved with the state, so a
        reseeded run resumes on its own stream.
        """
        self._set_stream(self.tick, int(key))

    def _set_stream(self, branch_tick: int, key: int) -> None:
        self.reseeded = (int(branch_tick), int(key))
        self.stream = stream_key(self.seed, branch_tick, key)
        self.interventions.seed = self.stream

    def _build(
        self,
        world: World,
        seed: int,
        params: Params,
        species: SpeciesRegistry,
        pop: Population,
        grids: Grids,
        counters: Counters,
    ) -> None:
        """Set up everything but the founders (:meth:`__init__`) or the saved state (:meth:`from_state`)."""
        self.world = world
        self.seed = seed
        self.stream = seed
        self.reseeded = None
        self.params = params
        self.ladder = ladder_from_world(world)
        self._graded: tuple[object, bool] = (None, False)  # (ladder, graded?), see _graded_levels
        self._models: dict[int, k_culture.Models] = {}  # learning's models, per buffer (reuse_per)
        self._clock: Clock | None = None  # the tick's clock (see clock)
        # learners whose social radius covers the grid draw their models from their whole species
        soc = world.traits.sociality
        r_max = int(max(soc.radius_min, soc.radius_max) + 0.5)
        self._well_mixed = 2 * r_max >= min(grids.habitat.shape)
        self.cap = world.sim.population_cap
        self.species = species
        self.pop = pop
        self.grids = grids
        self.counters = counters
        self.scratch = Scratch(grids.habitat.size, pop.capacity, len(self.ladder.threshold))
        self.events: list[Event] = []
        self.on_death: DeathHook | None = None
        self.flavours = FlavourChooser(
            conf.PARALLEL_MIN_AGENTS,
            compiled=conf.parallel_cached,
            paused=conf.first_calls_seconds,
        )
        self.detectors = Detectors(world, species, self.events)
        self.interventions = Interventions(
            world,
            seed,
            species,
            pop,
            grids,
            self.events,
            self.remove,
            self.add_copies,
            lambda: self.cap - self.pop.n,
        )

    @property
    def tick(self) -> int:
        """Ticks completed."""
        return self.counters.tick

    def clock(self) -> Clock:
        """The random streams' key and the tick, as the kernels take them (one tuple per tick)."""
        self._clock = reuse(self._clock, Clock, self.stream, self.tick)
        return self._clock

    # ------------------------------------------------------------ the schedule
    def step(self) -> None:
        """Advance one tick (docs/model.md, "Process overview and scheduling")."""
        self.counters.agent_steps += self.pop.n
        # serial or parallel kernels, whichever measures faster here (the same result either way)
        conf.use_parallel(self.flavours.choose(self.pop.n, conf.threads()))
        self.regrow_food()
        self.sense_and_move()
        self.index_cells_and_count_brains()
        self.forage()
        self.metabolise()
        self.learn()
        self.reproduce()
        self.die()
        self.counters.tick += 1
        self.update_species()
        self.interventions.update(
            self.tick,
            self.detectors.reached_now,
            self.scratch.tally.adults,
            self.scratch.tally.gated,
        )
        self.flavours.done()

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
        rate = regrowth_rate(food, self.tick, self.grids.rate)
        k_food.regrow_layers(self.grids.cells(), rate, food.regrowth_floor, hard.regrowth_floor)

    def sense_and_move(self) -> None:
        """Independent agents choose and make a move; then dependants follow their parents."""
        p, g = self.pop, self.grids
        k_move.refresh_halo(
            g.sight_pad, g.halo
        )  # the food as regrow_food left it, signed by habitat
        if self.params.social_attraction > 0.0:
            k_move.refresh_halo(g.census_pad, g.halo)
        a, cells = p.agents(), g.cells()
        k_move.sense_and_move(a, p.n, cells, self.clock(), self.params)
        k_move.follow_guardians(a, p.n, cells, self.params)

    def index_cells_and_count_brains(self) -> None:
        """Group agents by cell (read by foraging, learning and the deaths' row order).

        Neural compute: per species, the powers of the brain gene summed over the live agents
        (``counters.neural``; docs/model.md, "Neural compute"). Moving changed no genome,
        species or row, so these are the brains of the tick's start; on 2 threads the sums run
        beside the one-pass sort (:func:`~evosim.engine.kernels.tasks.index_and_count_brains`).
        """
        p, g, sc, c = self.pop, self.grids, self.scratch, self.counters
        c.grow(len(self.species))
        k = float(self.world.compute.neural_exponent)
        if conf.split_now():  # more than 2 threads: the grid sorted in stripes, in parallel
            k_stats.add_brain_powers(p.species, p.genome, p.n, G_BRAIN, k, c.neural)
            stripes, tmp = 4 * conf.threads(), sc.arena(p).sort_tmp
            sc.n_groups = k_spatial.cell_index(p.x, p.y, p.n, g.shape[1], sc.index(), tmp, stripes)
        else:
            sc.n_groups = k_tasks.index_and_count_brains(
                p.agents(), p.n, g.shape[1], sc.index(), G_BRAIN, k, c.neural
            )
        sc.n_indexed = p.n

    def forage(self) -> None:
        """Share each cell's easy and hard food among its agents; then food sharing among conspecifics (if on).

        Walking the occupied cells, foraging also takes the census of the majority species per
        cell that the next tick's movement reads (if aggregation is on; no agent has moved since
        the index).
        """
        # (`farmed` was cleared by regrow_food, which read it)
        a, index = self.pop.agents(), self.scratch.index()
        if self.params.social_attraction > 0.0:
            self.grids.census_room(self.scratch.n_groups)
        self._graded_levels(self.scratch.arena(self.pop).level)
        k_forage.forage(
            a,
            self.grids.cells(),
            self.species.arrays(),
            index,
            self.ladder,
            self.params,
            self.scratch.arena(self.pop),
        )
        if self.params.share_rate > 0.0:
            k_forage.share_food(a, index, self.params)

    def _graded_levels(self, out: np.ndarray) -> None:
        """With a graded rung in the ladder, every agent's level by the graded rule into ``out``
        (read by ``forage`` and ``judge``, which otherwise apply the step rule themselves)."""
        lad = self.ladder
        if self._graded[0] is not lad:  # (two numpy reductions: once per ladder, not per call)
            self._graded = (
                lad,
                bool((lad.dexterity_width > 0).any() or (lad.land_width > 0).any()),
            )
        if self._graded[1]:
            k_ladder.graded_levels(
                self.pop.agents(),
                self.grids.habitat,
                self.species.arrays(),
                self.pop.n,
                self.ladder,
                out,
            )

    def metabolise(self) -> None:
        """Upkeep and ageing; parents feed their dependants."""
        a, n = self.pop.agents(), self.pop.n
        k_life.metabolise(a, self.species.arrays(), n, self.params)
        k_life.feed_dependants(a, n, self.params, self.scratch.arena(self.pop))

    def learn(self) -> None:
        """Juveniles copy the adults around them (Henrich 2004); adults innovate."""
        p, s, sc = self.pop, self.species, self.scratch
        a, n = p.agents(), p.n
        model_z = sc.arena(p).model_z  # each row's skill as a model
        k_culture.model_skills(a, n, self.params, model_z)
        if self._well_mixed:  # some social radius covers the grid: rank each species' adults once
            depth = int(self.params.max_models) + 1  # + 1: the learner itself may be among them
            top = k_culture.species_top_models(a, model_z, n, len(s), depth)
        else:
            top = _NO_TOP
        attempts, innovations = k_culture.learn_and_innovate(
            a,
            n,
            reuse_per(self._models, model_z, k_culture.Models, model_z, *top),
            self.grids.cells(),
            sc.index(),
            s.arrays(),
            self.clock(),
            self.params,
        )
        self.counters.learning_attempts += attempts
        self.counters.innovations += innovations

    def reproduce(self) -> None:
        """Adults with enough energy give birth (refused beyond the cap); distant children found species."""
        p, sc, c = self.pop, self.scratch, self.counters
        k = k_life.find_parents(p.agents(), p.n, self.params, sc.parents, conf.split_now())
        parents = sc.parents[:k]
        room = self.cap - p.n
        if k > room:
            parents = self._cap_births(parents, room)
            k = len(parents)
        if k == 0:
            return
        p.ensure_room(k, self.cap)
        if p.capacity > sc.capacity:
            sc.reserve(p.capacity)
        s = self.species
        distant = np.zeros(k, np.uint8)
        clock = self.clock()
        k_life.give_birth(
            p.agents(), s.arrays(), parents, p.n, p.next_id, clock, self.params, distant
        )
        for child in np.flatnonzero(distant).tolist():
            self._speciate(p.n + child)
        born = np.bincount(p.species[p.n : p.n + k], minlength=len(s))
        c.grow(len(s))
        c.births[: len(born)] += born
        s.alive[: len(born)] += born
        c.total_births += k
        p.n += k
        p.next_id += k

    def die(self) -> None:
        """Starvation and old age; dead rows are removed, dependants of the dead are orphaned."""
        p, s, sc = self.pop, self.species, self.scratch
        before = p.n
        self.counters.grow(len(s))
        sc.reserve_species(s.capacity)
        a, buf = p.agents(), sc.arena(p)
        self._graded_levels(buf.status)
        k_life.judge(a, p.n, self.params, self.grids.habitat, s.arrays(), self.ladder, buf)
        k_life.tally(a, p.n, self.ladder, buf, self.counters.deaths, s.alive, sc.tally, s.centroid)
        # survivors are stored in the cell order of this tick's index (cache-friendly next tick)
        m = k_life.cell_ordered_survivors(sc.order, sc.n_indexed, before, buf, conf.split_now())
        sc.n_indexed = 0  # the index is spent
        self._drop(before, m)
        self._record_extinctions()  # stamped like the deaths that caused them (the tick of this step)

    def _drop(self, before: int, m: int) -> None:
        """Remove the rows whose ``scratch.cause`` is set, keeping rows ``scratch.survivors[:m]`` in that order.

        The death hook sees the dead before they go; dependants of the dead
        are orphaned.
        """
        p, sc = self.pop, self.scratch
        if self.on_death is not None and m < before:
            dead = np.flatnonzero(sc.cause[:before])
            self.on_death(p, dead, sc.cause[dead], self.tick)
        self.counters.total_deaths += before - m
        p.gather(sc.survivors, m)
        k_life.remap_guardians(p.agents(), m, before, sc.arena(p))

    def remove(self, mask: np.ndarray, cause: int) -> None:
        """Remove the live agents where ``mask`` is true (e.g. a cull), recording ``cause``."""
        p, sc, c = self.pop, self.scratch, self.counters
        before = p.n
        dead = np.flatnonzero(mask[:before])
        if len(dead) == 0:
            return
        sc.cause[:before] = 0
        sc.cause[dead] = cause
        c.grow(len(self.species))
        np.add.at(c.deaths[:, cause], p.species[dead], 1)
        np.subtract.at(self.species.alive, p.species[dead], 1)
        keep = np.flatnonzero(~mask[:before])
        sc.survivors[: len(keep)] = keep
        self._drop(before, len(keep))
        self._record_extinctions()

    def add_copies(self, rows: np.ndarray) -> None:
        """Append a copy of each live agent at ``rows`` (a population boost; no cap check here).

        A copy is its original's twin: every field but the id (a new one) is copied, so it
        stands on the same cell with the same genome, skill, energy, age, parent and birth
        tick. The originals must be independent (``guardian < 0``): a copy has no dependants.
        Copies are not births: ``counters.births`` leaves them out; ``species.alive`` counts them.
        """
        p, s, k = self.pop, self.species, len(rows)
        if k == 0:
            return
        p.ensure_room(k, self.cap)
        if p.capacity > self.scratch.capacity:
            self.scratch.reserve(p.capacity)
        new = np.arange(p.n, p.n + k)
        for f in Population.FIELDS:
            a = getattr(p, f)
            a[new] = a[rows]
        p.id[new] = np.arange(p.next_id, p.next_id + k, dtype=p.id.dtype)
        added = np.bincount(p.species[new], minlength=len(s))
        s.alive[: len(added)] += added
        p.n += k
        p.next_id += k
        self._record_extinctions()  # (updates the peaks)

    def apply_intervention(self, name: str, species_id: int) -> None:
        """Apply the world's intervention ``name`` to one species now (the viewer's hook); logged as usual."""
        k = self.interventions.names.index(name)
        self.interventions.apply(
            self.tick, k, [species_id] if self.species.alive[species_id] > 0 else []
        )

    def update_species(self) -> None:
        """Detectors and milestones (logged as events); extinctions were recorded by :meth:`die`."""
        if self.detectors.update(self.tick, self.scratch.tally, self.flop()):
            # (only the detectors mark species: the first marks of each kind come with a firing)
            s = self.species
            self.counters.capture_neural(s.view("intelligent_at"), s.view("technological_at"))

    def _record_extinctions(self) -> None:
        """Update peaks; stamp species left without members extinct at the current tick (once)."""
        s = self.species
        for sid in k_stats.peaks_and_extinctions(s.alive, s.peak, s.destruction, len(s), self.tick):
            self.events.append((self.tick, "extinction", int(sid), f"{s.names[sid]} went extinct"))

    def flop(self) -> float:
        """Estimated compute spent so far (docs/model.md, "Compute accounting")."""
        return self.counters.flop(self.world.compute)

    def neural_flop(self) -> float:
        """Neural compute spent so far by every brain (docs/model.md, "Neural compute")."""
        return self.counters.neural_flop(self.world.compute)

    def _speciate(self, row: int) -> None:
        """Child at ``row`` founds a new species (unless the species limit is reached)."""
        p, s, c = self.pop, self.species, self.counters
        parent_sp = int(p.species[row])
        sid = s.found(parent_sp, p.genome[row], self.tick)
        if sid < 0:
            if not c.species_limit_logged:
                c.species_limit_logged = True
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
        c = self.counters
        if c.cap_reached_at is None:
            c.cap_reached_at = self.tick
            self.events.append(
                (self.tick, "cap_reached", -1, f"population cap {self.cap} reached; births refused")
            )
        c.cap_refused += len(parents) - max(room, 0)
        if room <= 0:
            return parents[:0]
        u = uniform_array(self.stream, self.tick, self.pop.id[parents], RNG_CAP, 0)
        return np.sort(parents[np.argsort(u, kind="stable")[:room]])

    def take_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Births and deaths per species since the last call; resets them."""
        return self.counters.take(len(self.species))

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
        return float((self.grids.habitat[p.live("y"), p.live("x")] == LAND).mean()) if p.n else 0.0

    def milestone_levels(self) -> np.ndarray:
        """Milestones each live agent holds where it stands now (uint8; docs/model.md §7.10)."""
        return observation.milestone_levels(self.pop, self.species, self.grids, self.ladder)

    def observe(self) -> observation.Observation:
        """What the recorder and the viewer read now: per-species sums, milestone levels, and the
        adults and final-milestone holders the detector counted (:class:`~evosim.engine.observation.Observation`)."""
        return observation.observe(
            self.pop, self.species, self.grids, self.scratch, self.ladder, self.params
        )

    def adults(self) -> np.ndarray:
        """Whether each live agent is an adult: age >= maturity (kernels/phenotype.maturity)."""
        return observation.adults_now(self.pop, self.params)

    def mean_gene(self, gene: str) -> float:
        """Mean of one gene over all live agents."""
        return (
            float(self.pop.live("genome")[:, GENES.index(gene)].mean())
            if self.pop.n
            else float("nan")
        )


#: The per-species model ranking of well-mixed learning, when no learner is well mixed (unused).
_NO_TOP = (np.zeros((0, 1)), np.zeros((0, 1), np.int64), np.zeros(0, np.int64))


def stream_key(seed: int, branch_tick: int, key: int) -> int:
    """The random-stream key of a reseeded branch: a 63-bit hash of (seed, branch tick, key).

    numpy's ``SeedSequence`` mixes the words (with the purpose :data:`~evosim.defaults.RNG_RESEED`),
    so nearby keys give unrelated streams, and none of them is the seed's own.
    """
    seq = np.random.SeedSequence([int(seed), int(branch_tick), RNG_RESEED, int(key)])
    return int(seq.generate_state(1, np.uint64)[0]) & (2**63 - 1)


def _halo(params: Params) -> int:
    """Width of the wrapped halo of the padded grids: the longest sight radius."""
    return int(max(params.radius_min, params.radius_max))
