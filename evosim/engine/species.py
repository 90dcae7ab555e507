"""The species registry: one row per species ever formed, in arrays.

A species is founded either by the world file (a root, ``parent == -1``) or by
a child whose genome lies farther than ``speciation.threshold`` (Euclidean,
genes in [0, 1]) from its species' *centroid* (mean genome of its live
members at the end of the previous tick). The centroid moves with the
population, so a species that drifts as a whole stays one species, and only
outlying lineages split off (measuring from the fixed founder genome instead
makes every birth of a drifted species a speciation: an explosion of species).
The new species copies its parent's gene bounds, mutation sizes and granted
manipulators; its founder genome (recorded in species.csv) is the child's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evosim.config.schema import World
from evosim.defaults import GENES, GENOME_DTYPE, N_GENES
from evosim.engine.state import SpeciesArrays, reuse


class SpeciesRegistry:
    """Per-species arrays, index = species id; grows by doubling.

    Args:
        world: gives the root species (ids ``0..len(world.species)-1``) and the species limit.
        capacity: rows to allocate at first.
        roots: register the world's species (False: an empty registry, see :meth:`from_state`).

    Attributes:
        names: species names (roots from the world file, then ``<root>.<id>``).
        lo, hi, mutation: (S, G) float32 gene bounds and mutation sizes.
        founder: (S, G) float32 founder genomes.
        centroid: (S, G) float64 mean genome of live members (updated each tick).
        manipulators: (S,) float32 granted manipulator level (effective
            dexterity = max(dexterity gene, this)).
        fire_substitute: (S,) uint8, 1 lets members pass a ``needs_land`` milestone anywhere.
        upkeep_extra: (S,) float32 energy per member per tick (cost of granted manipulators).
        intelligent_at, technological_at: (S,) int64 detection ticks (-1: not yet).
        intelligent_flop, technological_flop: (S,) float64 compute spent so far
            at each detection (read where the detection tick is set).
        brain_since, tech_since: (S,) int64 start of the current run of ticks
            meeting the detector condition (-1: not meeting it).
        max_level: (S,) int64 highest milestone level the species has reached.
        parent, root: (S,) int64 parent species (-1 for roots) and root species.
        origin, destruction: (S,) int64 ticks (destruction -1 while extant).
        alive, peak: (S,) int64 live count and peak count.
    """

    _ARRAYS: dict[str, tuple[Any, int]] = {
        "lo": (GENOME_DTYPE, N_GENES), "hi": (GENOME_DTYPE, N_GENES), "mutation": (GENOME_DTYPE, N_GENES),
        "founder": (GENOME_DTYPE, N_GENES), "centroid": (np.float64, N_GENES),
        "manipulators": (np.float32, 0), "parent": (np.int64, 0),
        "root": (np.int64, 0), "origin": (np.int64, 0), "destruction": (np.int64, 0),
        "alive": (np.int64, 0), "peak": (np.int64, 0),
        "fire_substitute": (np.uint8, 0), "upkeep_extra": (np.float32, 0),
        "intelligent_at": (np.int64, 0), "technological_at": (np.int64, 0),
        "brain_since": (np.int64, 0), "tech_since": (np.int64, 0), "max_level": (np.int64, 0),
        "intelligent_flop": (np.float64, 0), "technological_flop": (np.float64, 0),
    }  # fmt: skip

    # typed attribute declarations (the arrays are made from _ARRAYS) for readers and type checkers
    lo: np.ndarray
    hi: np.ndarray
    mutation: np.ndarray
    founder: np.ndarray
    centroid: np.ndarray
    manipulators: np.ndarray
    parent: np.ndarray
    root: np.ndarray
    origin: np.ndarray
    destruction: np.ndarray
    alive: np.ndarray
    peak: np.ndarray
    fire_substitute: np.ndarray
    upkeep_extra: np.ndarray
    intelligent_at: np.ndarray
    technological_at: np.ndarray
    brain_since: np.ndarray
    tech_since: np.ndarray
    max_level: np.ndarray
    intelligent_flop: np.ndarray
    technological_flop: np.ndarray

    def __init__(self, world: World, capacity: int = 64, roots: bool = True):
        self.names: list[str] = []
        self.n = 0
        self.capacity = 0
        self.max_species = world.speciation.max_species
        for name, (dt, cols) in self._ARRAYS.items():
            setattr(self, name, np.zeros((0, cols) if cols else 0, dt))
        self._reserve(max(capacity, len(world.species)))
        for s in world.species if roots else ():
            sid = self._new_row(s.name, parent=-1, tick=0)
            for g, gene in enumerate(GENES):
                spec = getattr(s.genes, gene)
                self.lo[sid, g], self.hi[sid, g], self.mutation[sid, g] = (
                    spec.min,
                    spec.max,
                    spec.mutation,
                )
                self.founder[sid, g] = spec.mean
                self.centroid[sid, g] = spec.mean
            self.root[sid] = sid

    def state(self) -> dict[str, np.ndarray]:
        """Copies of every array for the species formed so far, and their ``names`` (for checkpoints)."""
        out = {k: self.view(k).copy() for k in self._ARRAYS}
        out["names"] = np.array(self.names, dtype=str)
        return out

    @classmethod
    def from_state(cls, world: World, arrays: dict[str, np.ndarray]) -> SpeciesRegistry:
        """Rebuild from :meth:`state` output; ``world`` gives the species limit.

        Raises:
            KeyError: ``arrays`` lacks one of the registry's arrays.
        """
        names = [str(x) for x in arrays["names"]]
        reg = cls(world, max(64, len(names)), roots=False)
        for k in cls._ARRAYS:
            getattr(reg, k)[: len(names)] = arrays[k]
        reg.names = names
        reg.n = len(names)
        return reg

    def __len__(self) -> int:
        return self.n

    def _reserve(self, capacity: int) -> None:
        if capacity <= self.capacity:
            return
        for name, (dt, cols) in self._ARRAYS.items():
            old = getattr(self, name)
            new = np.zeros((capacity, cols) if cols else capacity, dt)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self.capacity = capacity

    def _new_row(self, name: str, parent: int, tick: int) -> int:
        if self.n == self.capacity:
            self._reserve(2 * self.capacity)
        sid = self.n
        self.n += 1
        self.names.append(name)
        self.parent[sid] = parent
        self.origin[sid] = tick
        self.destruction[sid] = -1
        self.alive[sid] = 0
        self.peak[sid] = 0
        for name in ("intelligent_at", "technological_at", "brain_since", "tech_since"):
            getattr(self, name)[sid] = -1
        return sid

    def found(self, parent: int, genome: np.ndarray, tick: int) -> int:
        """Register a species founded at ``tick`` by an agent with ``genome``; returns its id.

        Returns -1 (no new species) when ``max_species`` is reached.
        """
        if self.n >= self.max_species:
            return -1
        root = int(self.root[parent])
        sid = self._new_row(f"{self.names[root]}.{self.n}", parent=parent, tick=tick)
        for name in ("lo", "hi", "mutation", "manipulators", "fire_substitute", "upkeep_extra"):
            getattr(self, name)[sid] = getattr(self, name)[parent]
        self.founder[sid] = genome
        self.centroid[sid] = genome
        self.root[sid] = root
        return sid

    def arrays(self) -> SpeciesArrays:
        """The per-species arrays the kernels read (all capacity rows; rebuild after a growth)."""
        self._arrays: SpeciesArrays | None = reuse(
            getattr(self, "_arrays", None), SpeciesArrays, self.manipulators,
            self.fire_substitute, self.upkeep_extra, self.lo, self.hi, self.mutation,
            self.centroid,
        )  # fmt: skip
        return self._arrays

    def view(self, name: str) -> np.ndarray:
        """Array ``name`` for the species formed so far."""
        return getattr(self, name)[: self.n]

    def extant(self) -> np.ndarray:
        """Ids of species with live agents."""
        return np.flatnonzero(self.view("alive") > 0)
