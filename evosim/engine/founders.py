"""The founders of a new run: the world's species placed on their start habitat."""

from __future__ import annotations

import numpy as np

from evosim.config.base import ConfigProblem
from evosim.config.maps import MAP_KEY
from evosim.config.priors import resolve_world
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
from evosim.engine.world import make_habitat


def check_founders(world: World, seed: int | None = None) -> None:
    """Refuse a world whose founders a new run could not place, as :class:`Simulation` would.

    Builds the habitat map of a run with ``seed`` (default ``world.sim.seed``) and checks
    each species' start habitat on it (:func:`start_cells`), without the rest of a run.
    Founders drawn from a prior are drawn from ``seed`` first, as a run draws them.

    Raises:
        ConfigProblem: at ``species[k].start``: a species starts on a habitat the map does
            not have.
    """
    seed = int(world.sim.seed if seed is None else seed)
    start_cells(resolve_world(world, seed), make_habitat(world.world, seed))


def start_cells(world: World, habitat: np.ndarray) -> list[np.ndarray]:
    """The cells each species of ``world`` may start on: flat indices into ``habitat``.

    Args:
        world: a world with its priors drawn (:func:`evosim.config.priors.resolve_world`).
        habitat: its habitat map (``make_habitat``).

    Raises:
        ConfigProblem: at ``species[k].start``: a species starts on a habitat the map does
            not have (the message names the habitat setting that left none).
    """
    flat = habitat.ravel()
    out = []
    for s_id, spec in enumerate(world.species):
        start = spec.start
        why = ""
        if start == "match":
            mean = spec.genes.habitat.values()["mean"]
            start = "land" if mean >= 0.5 else "water"
            why = f" (start: match, and genes.habitat.mean is {mean:.3g})"
        cells = (
            np.flatnonzero(flat == {"land": LAND, "water": WATER}[start])
            if start != "any"
            else np.arange(flat.size)
        )
        if cells.size == 0:
            detail, cause = _habitat_setting(world, start)
            raise ConfigProblem(
                ("species", s_id, "start"),
                f"species '{spec.name}' starts on {start}{why} but the map has no {start} cells",
                detail,
                cause,
            )
        out.append(cells)
    return out


def _habitat_setting(world: World, start: str) -> tuple[str, tuple]:
    """(what left the map without ``start`` cells, its key path) for a refusal's message."""
    g = world.world
    h = g.habitat
    if h.source == "file":
        return f"world.habitat.file {h.file}", MAP_KEY
    lf = h.land_fraction
    detail = f"world.habitat.land_fraction {lf}"
    if 0.0 < lf < 1.0:  # the generator makes round(land_fraction * cells) cells land
        detail += f" of the {g.width}x{g.height} cells rounds to {'no' if start == 'land' else 'all'} land"
    return detail, ("world", "habitat", "land_fraction")


def place_founders(
    world: World, seed: int, p: Population, species: SpeciesRegistry, habitat: np.ndarray
) -> None:
    """Add each species' founders to ``p`` (ids 0..), as the world file lists them.

    Positions are uniform over the species' start habitat, genes ~ N(mean, sd) clipped
    to the bounds, energy ``energy * (0.5 + U)``; all keyed by (seed, tick 0, id). Age 0, or
    the age of maturity their childhood gene sets if the species starts ``adult``.

    Raises:
        ConfigProblem: a species starts on a habitat the map does not have (:func:`start_cells`).
    """
    width = habitat.shape[1]
    for s_id, (spec, cells) in enumerate(zip(world.species, start_cells(world, habitat))):
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
