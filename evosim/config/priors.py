"""Resolving a world's priors: distributions replaced by numbers drawn from the run's seed.

A world is *unresolved* while a founder gene setting is a distribution
(:mod:`evosim.config.draws`) or it has ``founders`` (``count`` species drawn from
one body-plan ``prior``). :func:`resolve_world` draws every value and returns a
world with numbers only and the drawn founders appended to ``species``: that
world is what a run records in ``config.yaml``, so running that file repeats
the run exactly.

Each value has its own random stream: a Philox generator keyed by
``SeedSequence(seed, spawn_key=(RNG_PRIORS, part, k, gene, setting))``
(``part`` 0 for ``species[k]``, 1 for the k-th drawn founder), so a value
depends on the seed and on where it is, never on how many other values were
drawn: replicate k of an experiment (its own seed) gets its own tree of life,
and adding founders leaves the earlier ones unchanged.
"""

from __future__ import annotations

import numpy as np

from evosim.config.draws import is_draw
from evosim.config.genes import _SETTINGS, GeneSpec
from evosim.config.schema import SpeciesConfig, World
from evosim.defaults import GENES, RNG_PRIORS


def _rng(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.Generator(
        np.random.Philox(np.random.SeedSequence(seed, spawn_key=(RNG_PRIORS, *key)))
    )


def resolve_gene(spec: GeneSpec, seed: int, key: tuple[int, ...]) -> dict[str, float]:
    """Numbers for one gene: each distribution drawn, then the mean clipped into [min, max].

    Args:
        spec: the gene's settings.
        seed: the run's seed.
        key: where the gene is (part, species index, gene index), keying its streams.
    """
    out = {}
    for j, name in enumerate(_SETTINGS):
        v = getattr(spec, name)
        out[name] = v.draw(_rng(seed, (*key, j))) if is_draw(v) else float(v)
    out["mean"] = min(max(out["mean"], out["min"]), out["max"])
    return out


def resolve_species(spec: SpeciesConfig, seed: int, key: tuple[int, int], name: str) -> dict:
    """Plain data of a species entry with every gene setting a number."""
    data = spec.model_dump(mode="json")
    data["name"] = name
    for g, gene in enumerate(GENES):
        data["genes"][gene] = resolve_gene(getattr(spec.genes, gene), seed, (*key, g))
    return data


def resolve_world(world: World, seed: int | None = None) -> World:
    """The world with its priors drawn from ``seed`` (default ``world.sim.seed``); itself if it has none.

    The result has numbers only, ``founders`` empty and the drawn founding
    species after those of ``species``; its ``sim.seed`` is ``seed``.
    """
    seed = world.sim.seed if seed is None else int(seed)
    if not world.drawn():
        return world
    data = world.model_dump(mode="json")
    data["sim"]["seed"] = seed
    data["species"] = [
        resolve_species(s, seed, (0, i), s.name) for i, s in enumerate(world.species)
    ]
    if world.founders is not None:
        names = world.founders.names()
        data["species"] += [
            resolve_species(world.founders.prior, seed, (1, k), names[k]) for k in range(len(names))
        ]
    data["founders"] = None
    return World.model_validate(data)
