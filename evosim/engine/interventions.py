"""Interventions: when they apply, to which species, and what they do.

Checked at the end of every tick (after deaths, species bookkeeping and the
detectors), in the order they are listed. Every application is written to
``events.csv`` (kind ``intervention``, with the species and tick); an
intervention whose target matches no species is logged as
``intervention_no_match``. The viewer applies them by hand through
:meth:`evosim.engine.sim.Simulation.apply_intervention`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosim.config.interventions import InterventionConfig, TargetConfig
from evosim.defaults import DEATH_CULLED, GENES, RNG_CULL
from evosim.engine.kernels.rng import uniform_array

if TYPE_CHECKING:  # pragma: no cover
    from evosim.engine.sim import Simulation


def select(sim: Simulation, target: TargetConfig) -> list[int]:
    """Ids of extant species matching ``target``."""
    s = sim.species
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
    for g, r in target.selector.items():
        m = means[:, GENES.index(g)]
        ok &= (r.min <= m) & (m <= r.max)
    return extant[ok].tolist()


class Interventions:
    """The world's interventions and their firing state."""

    def __init__(self, sim: Simulation):
        self.specs: list[InterventionConfig] = list(sim.world.interventions)
        self.fired: list[set[int]] = [set() for _ in self.specs]  # species a trigger fired for

    @property
    def names(self) -> list[str]:
        """Names, in order (the viewer lists them)."""
        return [iv.name for iv in self.specs]

    def update(self, sim: Simulation) -> None:
        """Apply whatever is due at the end of tick ``sim.tick``."""
        t = sim.tick
        for k, iv in enumerate(self.specs):
            w = iv.when
            if w.tick is not None or w.every is not None:
                due = (
                    t == w.tick
                    if w.tick is not None
                    else (t >= w.start and (t - w.start) % w.every == 0)
                )
                if due:
                    self.apply(sim, k, select(sim, iv.target))
                continue
            hits = [sid for sid in self._triggered(sim, w) if not (w.once and sid in self.fired[k])]
            if not hits:
                continue
            matching = set(select(sim, iv.target))
            hits = [sid for sid in hits if sid in matching]
            if hits:
                self.fired[k].update(hits)
                self.apply(sim, k, hits)

    def _triggered(self, sim: Simulation, w) -> list[int]:
        s, t = sim.species, sim.tick
        if w.trigger == "intelligent":
            return np.flatnonzero(s.view("intelligent_at") == t).tolist()
        if w.trigger == "technological":
            return np.flatnonzero(s.view("technological_at") == t).tolist()
        if w.trigger == "milestone":
            return [sid for sid, name in sim.detectors.reached_now if name == w.milestone]
        alive = s.view("alive")
        cond = (
            alive > w.value if w.trigger == "population_above" else (alive < w.value) & (alive > 0)
        )
        return np.flatnonzero(cond).tolist()

    def apply(self, sim: Simulation, k: int, species: list[int]) -> None:
        """Apply intervention ``k`` to ``species`` (ids) now, logging each application."""
        iv = self.specs[k]
        e = iv.effect
        if e.kind == "food":
            _food(sim, e)
            sim.events.append(
                (sim.tick, "intervention", -1, f"{iv.name}: {e.layer} food {e.amount:+g} per cell")
            )
            return
        if not species:
            sim.events.append(
                (sim.tick, "intervention_no_match", -1, f"{iv.name}: no species matched")
            )
            return
        s = sim.species
        for sid in species:
            if e.kind == "manipulators":
                if e.level >= float(s.manipulators[sid]):  # the strongest grant sets level and cost
                    s.manipulators[sid] = e.level
                    s.upkeep_extra[sid] = e.energy_cost
                    what = f"manipulators {e.level:g} (energy cost {e.energy_cost:g}/tick)"
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
                rows = np.flatnonzero(sim.pop.live("species") == sid)
                sim.pop.genome[rows, g] = np.clip(
                    sim.pop.genome[rows, g], s.lo[sid, g], s.hi[sid, g]
                )
                what = f"{e.gene} bounds [{s.lo[sid, g]:g}, {s.hi[sid, g]:g}]"
            else:  # cull
                p = sim.pop
                mine = p.live("species") == sid
                u = uniform_array(sim.seed, sim.tick, p.live("id"), RNG_CULL, k)
                culled = mine & (u < e.share)
                sim.remove(culled, DEATH_CULLED)
                what = f"culled {int(culled.sum())} of {int(mine.sum())}"
            sim.events.append((sim.tick, "intervention", sid, f"{iv.name}: {what}"))


def _food(sim: Simulation, e) -> None:
    grid, cap = (sim.food, sim.capacity) if e.layer == "easy" else (sim.hard, sim.hard_capacity)
    h, w = grid.shape
    r = e.region
    ys = slice(r.y, min(r.y + r.height, h)) if r else slice(0, h)
    xs = slice(r.x, min(r.x + r.width, w)) if r else slice(0, w)
    k = cap[sim.habitat[ys, xs]] * (sim.richness[ys, xs] if e.layer == "easy" else 1.0)
    grid[ys, xs] = np.clip(grid[ys, xs].astype(np.float64) + e.amount, 0.0, k).astype(grid.dtype)
