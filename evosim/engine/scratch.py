"""Working arrays of one tick: the spatial index and per-agent and per-species buffers.

(The tick's per-row float scratch -- foraging's demand and energy per unit, the parents'
offers, the learners' model skills -- lives in the population's spare genome:
:meth:`evosim.engine.population.Population.spare_views`.)

Nothing here is state: a checkpoint saves none of it, and each tick rewrites
what it reads (the spatial index is built by ``index_cells`` and spent by
``die``). The buffers are allocated once for the population's capacity and
grow with it, so a tick allocates nothing per agent.
"""

from __future__ import annotations

import numpy as np

from evosim.defaults import N_GENES, ROW_DTYPE


class Scratch:
    """Per-tick buffers of a simulation (row indices are :data:`~evosim.defaults.ROW_DTYPE`).

    Args:
        n_cells: cells of the grid.
        capacity: rows of the population.

    Attributes:
        order: the spatial index: live rows sorted by cell (stable).
        group_start: start of each occupied cell's run in ``order`` (then the count).
        cell_end: per cell, the end of its run in ``order`` (``n_cells + 1`` entries).
        n_groups: occupied cells in the current index.
        n_indexed: agents covered by the current index (0: none; spent by deaths).
        survivors: rows kept by the deaths, in their new order.
        dependants: per row, its number of dependants while parents feed them (the
            same memory as ``survivors``, which is free until the deaths).
        cause: per row, its cause of death this tick (0: survives).
        parents: rows of this tick's parents.
        new_row: per old row, its row after the deaths (-1: dead).
        level: per row, the milestones it holds where it forages this tick (then, at the deaths,
            a survivor's level and adulthood).
        gene_sum: (S, G) per species, genome sums of the survivors (for the centroids).
        tech_counts: per species, over the survivors: adults, adults holding the
            final milestone, highest milestone level held (read by the detectors).
        gated_counts: (S, M) per species and milestone m, counted with ``tech_counts``: adults
            held below m by m's own requirement (they hold every milestone before m and have
            its skill; read by the ``gated`` trigger).
    """

    def __init__(self, n_cells: int, capacity: int, n_milestones: int = 0):
        self.cell_end = np.zeros(n_cells + 1, ROW_DTYPE)
        self.n_groups = 0
        self.n_indexed = 0
        self.order = np.zeros(0, ROW_DTYPE)
        self.gene_sum = np.zeros((0, N_GENES), np.float64)
        self.n_milestones = n_milestones
        self.gated_counts = np.zeros((0, n_milestones), np.int64)
        self.tech_counts: tuple[np.ndarray, np.ndarray, np.ndarray] = (
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
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
        self.dependants = self.survivors
        self.cause = np.zeros(capacity, np.int8)
        self.parents = np.zeros(capacity, ROW_DTYPE)
        self.new_row = np.zeros(capacity, ROW_DTYPE)
        self.level = np.zeros(capacity, np.uint8)

    def reserve_species(self, capacity: int) -> None:
        """Per-species buffers for ``capacity`` species (grown when the registry grows)."""
        if len(self.gene_sum) < capacity:
            self.gene_sum = np.zeros((capacity, N_GENES), np.float64)
            self.gated_counts = np.zeros((capacity, self.n_milestones), np.int64)
            self.tech_counts = (
                np.zeros(capacity, np.int64),
                np.zeros(capacity, np.int64),
                np.zeros(capacity, np.int64),
            )
