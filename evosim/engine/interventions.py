"""Interventions: when they apply, to which species, and what they do.

Checked at the end of every tick (after deaths, species bookkeeping and the
detectors), in the order they are listed. Every application is written to
``events.csv`` (kind ``intervention``, with the species and tick); an
intervention whose target matches no species is logged as
``intervention_no_match``. The viewer applies them by hand through
:meth:`evosim.engine.sim.Simulation.apply_intervention`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from evosim.config.interventions import InterventionConfig, TargetConfig
from evosim.config.schema import World
from evosim.defaults import DEATH_CULLED, GENES, RNG_BOOST, RNG_CULL
from evosim.engine.detectors import Event
from evosim.engine.grids import Grids
from evosim.engine.kernels.rng import uniform_array
from evosim.engine.population import Population
from evosim.engine.species import SpeciesRegistry


def select(s: SpeciesRegistry, target: TargetConfig) -> list[int]:
    """Ids of extant species of ``s`` matching ``target``."""
    extant = s.extant()
    if target.all:
        return extant.tolist()
    if target.species is not None:
        wanted = set(target.species)
        return [i for i in extant.tolist() if s.names[i] in wanted]
    if target.founder is not None:
        roots = [i for i in np.flatnonzero(s.view("parent") < 0) if s.names[i] == target.founder]
        return extant[s.root[extant] == roots[0]].tolist() if roots else []
    means = s.centroid[extant]
    ok = np.ones(len(extant), bool)
    assert target.selector is not None  # the schema requires one target kind
    for g, r in target.selector.items():
        m = means[:, GENES.index(g)]
        ok &= (r.min <= m) & (m <= r.max)
    return extant[ok].tolist()


class Interventions:
    """The world's interventions and their firing state.

    Args:
        world: gives the interventions, in order.
        seed: the run's seed (keys a cull's random draws).
        species: the registry (targets are chosen from it; grants and bounds are written to it).
        pop: the agents (a ``gene_bounds`` effect clips their genomes).
        grids: the food layers a ``food`` effect changes.
        events: the list applications are appended to.
        remove: ``remove(mask, cause)`` removes the live agents where ``mask`` is true
            (:meth:`evosim.engine.sim.Simulation.remove`; a cull).
        copy: ``copy(rows)`` appends copies of the live agents at ``rows``
            (:meth:`evosim.engine.sim.Simulation.add_copies`; a population boost).
        room: ``room()``: how many agents the population cap still admits.

    Attributes:
        specs: the interventions.
        fired: per intervention, the species a trigger has fired for.
        since: per intervention, for trigger ``gated``: species -> first tick of its current run of
            ticks meeting the condition (saved with ``fired``).
    """

    def __init__(
        self,
        world: World,
        seed: int,
        species: SpeciesRegistry,
        pop: Population,
        grids: Grids,
        events: list[Event],
        remove: Callable[[np.ndarray, int], None],
        copy: Callable[[np.ndarray], None],
        room: Callable[[], int],
    ):
        self.specs: list[InterventionConfig] = list(world.interventions)
        self.fired: list[set[int]] = [set() for _ in self.specs]
        self.since: list[dict[int, int]] = [{} for _ in self.specs]
        self.detectors = world.detectors
        self.milestones = [m.name for m in world.technology.ladder]
        self.dexterity_upkeep = world.traits.dexterity.upkeep
        self.seed = seed
        self.species = species
        self.pop = pop
        self.grids = grids
        self.events = events
        self.remove = remove
        self.copy = copy
        self.room = room

    def state(self) -> dict[str, Any]:
        """The interventions (as JSON data) and which species each trigger has fired for."""
        return {
            "interventions_fired": [sorted(f) for f in self.fired],
            "interventions_since": [sorted(s.items()) for s in self.since],
            "interventions": [iv.model_dump(mode="json") for iv in self.specs],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Carry over :meth:`state`'s firing record when the interventions are the same.

        A branch with other interventions starts with none fired.
        """
        if state.get("interventions") == [iv.model_dump(mode="json") for iv in self.specs]:
            self.fired = [set(f) for f in state.get("interventions_fired", [])]
            since = state.get("interventions_since") or [[] for _ in self.specs]
            self.since = [{int(sid): int(t0) for sid, t0 in s} for s in since]
        else:
            self.fired = [set() for _ in self.specs]
            self.since = [{} for _ in self.specs]

    @property
    def names(self) -> list[str]:
        """Names, in order (the viewer lists them)."""
        return [iv.name for iv in self.specs]

    def update(
        self,
        t: int,
        reached_now: list[tuple[int, str]],
        adults: np.ndarray | None = None,
        gated: np.ndarray | None = None,
    ) -> None:
        """Apply whatever is due at the end of tick ``t``.

        Args:
            t: the tick just completed.
            reached_now: ``(species, milestone)`` pairs first reached this tick (the detectors').
            adults, gated: per species, the adults counted over this tick's survivors, and per
                species and milestone those held below it by its own requirement
                (:func:`evosim.engine.kernels.life.tally`); None before the first tick.
        """
        for k, iv in enumerate(self.specs):
            hits = self._due(t, k, reached_now, adults, gated)
            if hits is None:
                continue
            if iv.when.tick is None and iv.when.every is None:  # a trigger: fires once per species
                self.fired[k].update(hits)
            self.apply(t, k, hits)

    def due(
        self,
        t: int,
        reached_now: list[tuple[int, str]],
        adults: np.ndarray | None = None,
        gated: np.ndarray | None = None,
    ) -> list[str]:
        """The interventions that would apply at the end of tick ``t``, applying none of them.

        A shadow of :meth:`update` (arguments as there): it changes nothing, so a run without
        these interventions can tell where a run with them would first leave its path
        (``branch_tick: auto``). Not for trigger ``gated``, whose record of runs below the gate
        changes before it fires (the experiment refuses that pairing).
        """
        return [
            iv.name
            for k, iv in enumerate(self.specs)
            if self._due(t, k, reached_now, adults, gated) is not None
        ]

    def _due(
        self,
        t: int,
        k: int,
        reached_now: list[tuple[int, str]],
        adults: np.ndarray | None,
        gated: np.ndarray | None,
    ) -> list[int] | None:
        """Intervention ``k`` at the end of tick ``t``: the species it applies to now (a timed one
        may apply to none, and logs that), or None if it does not apply."""
        iv = self.specs[k]
        w = iv.when
        if w.tick is not None or w.every is not None:
            every = w.every
            due = t == w.tick if every is None else (t >= w.start and (t - w.start) % every == 0)
            return select(self.species, iv.target) if due else None
        hits = [
            sid
            for sid in self._triggered(t, k, w, reached_now, adults, gated)
            if not (w.once and sid in self.fired[k])
        ]
        if not hits:
            return None
        matching = set(select(self.species, iv.target))
        return [sid for sid in hits if sid in matching] or None

    def _gated(
        self, t: int, k: int, w: Any, adults: np.ndarray | None, gated: np.ndarray | None
    ) -> list[int]:
        """Species held below ``w.milestone`` (share of adults) for ``w.window`` consecutive ticks."""
        c, n = self.detectors, len(self.species)
        if adults is None or gated is None or len(adults) < n:  # nothing counted yet (tick 0)
            return []
        below = gated[:n, self.milestones.index(w.milestone)]
        share = c.tech_share if w.share is None else w.share
        ok = (
            (self.species.view("alive") >= c.min_population)
            & (adults[:n] > 0)
            & (below >= share * adults[:n])
        )
        since = self.since[k]
        self.since[k] = since = {sid: since.get(sid, t) for sid in np.flatnonzero(ok).tolist()}
        window = c.tech_window if w.window is None else w.window
        return [sid for sid, t0 in since.items() if t - t0 + 1 >= window]

    def _triggered(
        self,
        t: int,
        k: int,
        w: Any,
        reached_now: list[tuple[int, str]],
        adults: np.ndarray | None,
        gated: np.ndarray | None,
    ) -> list[int]:
        s = self.species
        if w.trigger == "gated":
            return self._gated(t, k, w, adults, gated)
        if w.trigger == "stuck":
            at = s.view("intelligent_at")
            stuck = (at >= 0) & (s.view("technological_at") < 0) & (t - at >= w.window)
            return np.flatnonzero(stuck & (s.view("alive") > 0)).tolist()
        if w.trigger == "intelligent":
            return np.flatnonzero(s.view("intelligent_at") == t).tolist()
        if w.trigger == "technological":
            return np.flatnonzero(s.view("technological_at") == t).tolist()
        if w.trigger == "milestone":
            return [sid for sid, name in reached_now if name == w.milestone]
        alive = s.view("alive")
        cond = (
            alive > w.value if w.trigger == "population_above" else (alive < w.value) & (alive > 0)
        )
        return np.flatnonzero(cond).tolist()

    def apply(self, t: int, k: int, species: list[int]) -> None:
        """Apply intervention ``k`` to ``species`` (ids) at the end of tick ``t``, logging each application."""
        iv = self.specs[k]
        e = iv.effect
        if e.kind == "food":
            _food(self.grids, e)
            self.events.append(
                (t, "intervention", -1, f"{iv.name}: {e.layer} food {e.amount:+g} per cell")
            )
            return
        if not species:
            self.events.append((t, "intervention_no_match", -1, f"{iv.name}: no species matched"))
            return
        s, p = self.species, self.pop
        for sid in species:
            if e.kind == "manipulators":
                assert e.level is not None  # the schema requires a level for manipulators
                # default cost: what evolved hands at that level cost (the dexterity upkeep)
                cost = self.dexterity_upkeep * e.level if e.energy_cost is None else e.energy_cost
                if e.level >= float(s.manipulators[sid]):  # the strongest grant sets level and cost
                    s.manipulators[sid] = e.level
                    s.upkeep_extra[sid] = cost
                    what = f"manipulators {e.level:g} (energy cost {cost:g}/tick)"
                else:
                    what = f"manipulators {e.level:g} ignored: the species already has {float(s.manipulators[sid]):g}"
            elif e.kind == "fire_substitute":
                s.fire_substitute[sid] = 1
                what = "fire substitute"
            elif e.kind == "gene_bounds":
                g = GENES.index(e.gene)
                if e.min is not None:  # bounds stay ordered: a min above the max raises the max too
                    s.lo[sid, g] = e.min
                    s.hi[sid, g] = max(float(s.hi[sid, g]), e.min)
                if e.max is not None:
                    s.hi[sid, g] = e.max
                    s.lo[sid, g] = min(float(s.lo[sid, g]), e.max)
                rows = np.flatnonzero(p.live("species") == sid)
                p.genome[rows, g] = np.clip(p.genome[rows, g], s.lo[sid, g], s.hi[sid, g])
                what = f"{e.gene} bounds [{s.lo[sid, g]:g}, {s.hi[sid, g]:g}]"
            elif e.kind == "population_boost":
                assert e.share is not None  # the schema requires a share
                what = self._boost(t, k, sid, e.share)
            else:  # cull
                mine = p.live("species") == sid
                u = uniform_array(self.seed, t, p.live("id"), RNG_CULL, k)
                culled = mine & (u < e.share)
                self.remove(culled, DEATH_CULLED)
                what = f"culled {int(culled.sum())} of {int(mine.sum())}"
            self.events.append((t, "intervention", sid, f"{iv.name}: {what}"))

    def _boost(self, t: int, k: int, sid: int, share: float) -> str:
        """Copy a ``share`` of species ``sid``'s independent members (a keyed draw per member).

        Each copy is its original's twin: genome, skill, lessons, energy, age, cell, parent and
        birth tick, with a new id and no dependants. Beyond the population cap only the members
        with the lowest draws are copied. Returns the logged description.
        """
        p = self.pop
        mine = (p.live("species") == sid) & (p.live("guardian") < 0)
        u = uniform_array(self.seed, t, p.live("id"), RNG_BOOST, k)
        rows = np.flatnonzero(mine & (u < share))
        room = max(self.room(), 0)
        capped = len(rows) > room
        if capped:  # the lowest draws, in row order (as births at the cap)
            rows = np.sort(rows[np.argsort(u[rows], kind="stable")[:room]])
        self.copy(rows)
        what = f"population boost: copied {len(rows)} of {int(mine.sum())} independent members"
        return what + (" (the population cap allowed no more)" if capped else "")


def _food(g: Grids, e: Any) -> None:
    """Add ``e.amount`` to a food layer over ``e.region`` (or everywhere), within [0, capacity]."""
    grid, cap = (g.food, g.capacity) if e.layer == "easy" else (g.hard, g.hard_capacity)
    h, w = grid.shape
    r = e.region
    ys = slice(r.y, min(r.y + r.height, h)) if r else slice(0, h)
    xs = slice(r.x, min(r.x + r.width, w)) if r else slice(0, w)
    k = cap[g.habitat[ys, xs]] * (g.richness[ys, xs] if e.layer == "easy" else 1.0)
    grid[ys, xs] = np.clip(grid[ys, xs].astype(np.float64) + e.amount, 0.0, k).astype(grid.dtype)
