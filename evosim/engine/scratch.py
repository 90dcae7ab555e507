"""Working arrays of one tick: the spatial index, the per-row arena and the per-species tally.

Nothing here is state: a checkpoint saves none of it, and each tick rewrites
what it reads (the spatial index is built by ``index_cells`` and spent by
``die``). The buffers are allocated once for the population's capacity and
grow with it, so a tick allocates nothing per agent. The kernels see them as
named tuples (:mod:`evosim.engine.state`): :meth:`Scratch.index`,
:meth:`Scratch.arena` (whose docstring, :class:`~evosim.engine.state.Arena`,
says which buffers share memory and why that is safe) and :attr:`Scratch.tally`.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

from evosim.defaults import N_GENES, ROW_DTYPE
from evosim.engine.state import Arena, Index, Tally, reuse

if TYPE_CHECKING:
    from evosim.engine.population import Population


def _tally(n_species: int, n_milestones: int) -> Tally:
    return Tally(
        gene_sum=np.zeros((n_species, N_GENES), np.float64),
        adults=np.zeros(n_species, np.int64),
        holders=np.zeros(n_species, np.int64),
        top=np.zeros(n_species, np.int64),
        gated=np.zeros((n_species, n_milestones), np.int64),
    )


class Scratch:
    """Per-tick buffers of a simulation (row indices are :data:`~evosim.defaults.ROW_DTYPE`).

    Args:
        n_cells: cells of the grid.
        capacity: rows of the population.
        n_milestones: milestones of the technology ladder.

    Attributes:
        order, group_start, cell_end: the spatial index's arrays (:class:`~evosim.engine.state.Index`).
        n_groups: occupied cells in the current index.
        n_indexed: agents covered by the current index (0: none; spent by deaths).
        survivors, cause, parents, new_row, level: the per-row buffers of
            :class:`~evosim.engine.state.Arena` that own their memory.
        tally: per species, the counts over the survivors of the last deaths
            (:class:`~evosim.engine.state.Tally`; read by the detectors and interventions).
    """

    def __init__(self, n_cells: int, capacity: int, n_milestones: int = 0):
        self.cell_end = np.zeros(n_cells + 1, ROW_DTYPE)
        self.n_groups = 0
        self.n_indexed = 0
        self.order = np.zeros(0, ROW_DTYPE)
        self.n_milestones = n_milestones
        self.tally = _tally(0, n_milestones)
        self.reserve(capacity)

    @property
    def capacity(self) -> int:
        """Rows the per-agent buffers hold."""
        return len(self.survivors)

    def reserve(self, capacity: int) -> None:
        """Per-agent buffers for ``capacity`` rows; the spatial index survives (growth within a tick)."""
        old_order = self.order
        self.order = np.zeros(capacity, ROW_DTYPE)
        k = min(len(old_order), capacity)
        self.order[:k] = old_order[:k]
        self.group_start = np.zeros(capacity + 1, ROW_DTYPE)
        self.survivors = np.zeros(capacity, ROW_DTYPE)
        self.cause = np.zeros(capacity, np.int8)
        self.parents = np.zeros(capacity, ROW_DTYPE)
        self.new_row = np.zeros(capacity, ROW_DTYPE)
        self.level = np.zeros(capacity, np.uint8)

    def reserve_species(self, capacity: int) -> None:
        """Per-species buffers for ``capacity`` species (grown when the registry grows)."""
        if len(self.tally.gene_sum) < capacity:
            self.tally = _tally(capacity, self.n_milestones)

    def index(self) -> Index:
        """The spatial index as the kernels take it (valid from ``index_cells_and_count_brains`` to ``die``)."""
        self._index: Index | None = reuse(
            getattr(self, "_index", None), Index, self.order, self.group_start, self.cell_end,
            int(self.n_groups),
        )  # fmt: skip
        return self._index

    def arena(self, pop: Population) -> Arena:
        """The tick's named scratch buffers; the float ones lie over ``pop``'s spare genome.

        Take it anew after a growth or a gather (see :class:`~evosim.engine.state.Arena`).
        """
        spare = (pop.spare_id(), self.survivors, self.cause, self.parents, self.new_row, self.level)
        memo = self.__dict__.setdefault("_arena", {})  # one per spare genome (see reuse_per)
        cached = memo.get(id(spare[0]))
        if cached is not None and all(map(operator.is_, cached[0], spare)):
            return cached[1]  # type: ignore[no-any-return]
        want, gain, model_z = pop.spare_views()
        arena = Arena(
            sort_tmp=self.survivors,
            dependants=self.survivors,
            survivors=self.survivors,
            cause=self.cause,
            parents=self.parents,
            new_row=self.new_row,
            level=self.level,
            status=self.level,
            want=want,
            gain=gain,
            offer=want,
            model_z=model_z,
        )
        if len(memo) >= 4:
            memo.clear()
        memo[id(spare[0])] = (spare, arena)
        return arena
