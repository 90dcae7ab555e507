"""The founders of a new run: the world's species placed on their start habitat."""

from __future__ import annotations

import numpy as np

from evosim.config.schema import World
from evosim.defaults import (
    G_CHILDHOOD,
    GENES,
    LAND,
    RNG_INIT_ENERGY,
    RNG_INIT_GENOME,
    RNG_INIT_POSITION,
    WATER,
)
from evosim.engine.kernels.rng import normal_array, uniform_array
from evosim.engine.population import Population
from evosim.engine.species import SpeciesRegistry
from evosim.errors import ConfigError


def place_founders(
    world: World, seed: int, p: Population, species: SpeciesRegistry, habitat: np.ndarray
) -> None:
    """Add each species' founders to ``p`` (ids 0..), as the world file lists them.

    Positions are uniform over the species' start habitat, genes ~ N(mean, sd) clipped
    to the bounds, energy ``energy * (0.5 + U)``; all keyed by (seed, tick 0, id). Age 0, or
    the age of maturity their childhood gene sets if the species starts ``adult``.

    Raises:
        ConfigError: a species starts on a habitat the map does not have.
    """
    flat = habitat.ravel()
    width = habitat.shape[1]
    for s_id, spec in enumerate(world.species):
        start = spec.start
        if start == "match":
            start = "land" if spec.genes.habitat.values()["mean"] >= 0.5 else "water"
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
        pick = (uniform_array(seed, 0, ids, RNG_INIT_POSITION, 0) * cells.size).astype(np.int64)
        c = cells[np.minimum(pick, cells.size - 1)]
        p.x[rows], p.y[rows] = c % width, c // width
        for g, gene in enumerate(GENES):
            gs = getattr(spec.genes, gene)
            v = gs.mean + gs.sd * normal_array(seed, 0, ids, RNG_INIT_GENOME, g)
            p.genome[rows, g] = np.clip(v, gs.min, gs.max)
        jitter = uniform_array(seed, 0, ids, RNG_INIT_ENERGY, 0)
        p.energy[rows] = spec.energy * (0.5 + jitter)
        p.id[rows] = ids
        p.parent_id[rows] = -1
        p.species[rows] = s_id
        p.age[rows] = 0
        if spec.adult:  # the first age at which age >= maturity (kernels/phenotype.maturity)
            ch = world.traits.childhood
            g_child = p.genome[rows, G_CHILDHOOD].astype(np.float64)
            p.age[rows] = np.ceil(ch.maturity_min + (ch.maturity_max - ch.maturity_min) * g_child)
        p.birth_tick[rows] = 0
        p.guardian[rows] = -1
        p.skill[rows] = 0.0
        p.lessons[rows] = 0
        p.n += spec.count
        species.alive[s_id] = spec.count
        species.peak[s_id] = spec.count
    p.next_id = p.n
