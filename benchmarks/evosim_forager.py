"""The minimal forager ecology on evosim's own numba kernels (the peer of ``mesa_forager.py``).

Rules and parameters equal :mod:`mesa_forager`'s: food regrows logistically
(:func:`evosim.engine.kernels.food.regrow`); each agent steps to a uniformly random
cell of its Moore neighbourhood or stays (:func:`random_walk`);
agents are grouped by cell (:func:`evosim.engine.kernels.spatial.cell_index`) and eat
(:func:`forage_simple`: a cell's ``min(F, k * intake)``
shared equally by its k agents -- evosim's order-blind rule, where Mesa's
agents eat first come, first served); then :func:`metabolise_split_die`
charges metabolism, splits and marks the dead, and
:func:`evosim.engine.kernels.life.compact` removes them.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from evosim.defaults import RNG_MOVE
from evosim.engine.kernels.food import regrow
from evosim.engine.kernels.life import compact
from evosim.engine.kernels.move import DX, DY, wrap
from evosim.engine.kernels.rng import hash64
from evosim.engine.kernels.spatial import cell_index
from evosim.engine.state import Index

#: Parameter names of evosim's regrowth kernel (its signature grows as features are added).
REGROW_PARAMS = tuple(inspect.signature(regrow.py_func).parameters)

__all__ = ["Forager", "make_forager", "metabolise_split_die"]

#: Minimal forager: agents per cell at its steady state (it cycles by about +-40 %
#: around this), the food per cell and the founders' energy range of the steady start.
FORAGER_DENSITY, FORAGER_FOOD, FORAGER_ENERGY = 0.3, 2.0, (0.5, 12.0)


@nb.njit(cache=True, nogil=True)
def random_walk(x, y, ids, n, height, width, seed, tick):
    """Move every agent to a uniformly random cell of its Moore neighbourhood (or stay)."""
    for i in range(n):
        d = np.int64(
            ((hash64(seed, tick, ids[i], RNG_MOVE, 0) >> np.uint64(32)) * np.uint64(9))
            >> np.uint64(32)
        )
        x[i] = wrap(np.int64(x[i]) + DX[d], width)
        y[i] = wrap(np.int64(y[i]) + DY[d], height)


@nb.njit(cache=True, nogil=True)
def forage_simple(order, group_start, n_groups, x, y, energy, food, intake):
    """Minimal forager rule (benchmarks): equal shares of min(F, k * intake)."""
    for g in range(n_groups):
        s = group_start[g]
        e = group_start[g + 1]
        i0 = order[s]
        f = np.float64(food[y[i0], x[i0]])
        want = intake * (e - s)
        take = want if want < f else f
        each = take / (e - s)
        for j in range(s, e):
            energy[order[j]] += each
        food[y[i0], x[i0]] = np.float32(f - take)


@nb.njit(cache=True, nogil=True)
def metabolise_split_die(x, y, energy, ids, n, next_id, cap, metabolism, threshold, keep):
    """Pay metabolism; split at ``threshold`` (child: half the energy, same cell); die at <= 0.

    The Mesa peer's rules, applied in index order: an agent splits only while
    the population (survivors so far + births + not yet visited) is under
    ``cap``. Children are written at rows ``n ..``. Writes the surviving rows
    (increasing, children last) to ``keep``.

    Returns:
        (survivors including children, births).
    """
    m = 0
    b = 0
    for i in range(n):
        e = energy[i] - metabolism
        if e >= threshold:
            if m + b + (n - i) < cap:
                e *= 0.5
                c = n + b
                x[c] = x[i]
                y[c] = y[i]
                energy[c] = e
                ids[c] = next_id + b
                b += 1
        energy[i] = e
        if e > 0.0:
            keep[m] = i
            m += 1
    for j in range(b):
        keep[m] = n + j
        m += 1
    return m, b


@dataclass
class Forager:
    """The minimal forager ecology on evosim kernels (parameters equal the Mesa peer's defaults)."""

    n_agents: int
    width: int
    height: int
    seed: int = 0
    r: float = 0.2
    capacity: float = 10.0
    floor: float = 0.5
    intake: float = 2.0
    metabolism: float = 0.5
    split_threshold: float = 12.0
    initial_energy: float = 5.0
    tick: int = 0

    def __post_init__(self) -> None:
        n, rows, grid = self.n_agents, 2 * self.n_agents, (self.height, self.width)
        self.cap, self.n, self.next_id = rows, n, n  # cap: as in Mesa, twice the founders
        self.x, self.y = np.zeros(rows, np.int32), np.zeros(rows, np.int32)
        self.energy, self.ids = np.zeros(rows, np.float32), np.zeros(rows, np.int64)
        cells = np.random.default_rng(self.seed).integers(0, self.width * self.height, n)
        self.x[:n], self.y[:n], self.energy[:n], self.ids[:n] = (
            cells % self.width,
            cells // self.width,
            self.initial_energy,
            np.arange(n),
        )
        self.order, self.keep, self.group_start = (
            np.zeros(rows, np.int64),
            np.zeros(rows, np.int64),
            np.zeros(rows + 1, np.int64),
        )
        self.counts = np.zeros(self.width * self.height + 1, np.int64)
        self.food = np.full(grid, self.capacity, np.float32)
        self.habitat, self.k, self.rate = (
            np.ones(grid, np.uint8),
            np.full(2, self.capacity),
            np.full(2, self.r),
        )
        # regrow's arguments by name, so optional grids of newer signatures are passed as neutral
        # (no farming bonus, uniform richness) and built once, not per tick
        grids = {
            "bonus": lambda: np.zeros(grid, np.float32),
            "richness": lambda: np.ones(grid, np.float32),
        }
        given = {
            "food": self.food,
            "habitat": self.habitat,
            "capacity": self.k,
            "rate": self.rate,
            "floor": self.floor,
        }
        self.regrow_args = tuple(given[p] if p in given else grids[p]() for p in REGROW_PARAMS)
        self.n_groups = self.survivors = self.births = 0  # results of this tick's phases

    def step(self) -> None:
        """One tick: regrow, random walk, index cells, eat, metabolise/split/die, remove the dead.

        Each phase is a method (``benchmarks/profile_world.py --forager`` times them one by one).
        """
        self.regrow_food()
        self.walk()
        self.index_cells()
        self.eat()
        self.metabolise()
        self.remove_dead()
        self.tick += 1

    def regrow_food(self) -> None:
        """Logistic regrowth of every cell (:func:`evosim.engine.kernels.food.regrow`)."""
        regrow(*self.regrow_args)

    def walk(self) -> None:
        """Each agent steps to a random cell of its Moore neighbourhood or stays."""
        random_walk(self.x, self.y, self.ids, self.n, self.height, self.width, self.seed, self.tick)

    def index_cells(self) -> None:
        """Group the agents by cell (``order``, ``group_start``, ``n_groups``)."""
        index = Index(self.order, self.group_start, self.counts, 0)  # (n_groups: returned)
        self.n_groups = cell_index(self.x, self.y, self.n, self.width, index)

    def eat(self) -> None:
        """Each cell's food shared equally by its agents."""
        forage_simple(
            self.order,
            self.group_start,
            self.n_groups,
            self.x,
            self.y,
            self.energy,
            self.food,
            self.intake,
        )

    def metabolise(self) -> None:
        """Pay metabolism, split, mark the dead (:func:`metabolise_split_die`): survivors listed in ``keep``."""
        self.survivors, self.births = metabolise_split_die(
            self.x,
            self.y,
            self.energy,
            self.ids,
            self.n,
            self.next_id,
            self.cap,
            self.metabolism,
            self.split_threshold,
            self.keep,
        )

    def remove_dead(self) -> None:
        """Keep the rows listed by :meth:`metabolise` (children included), in that order."""
        for arr in (self.x, self.y, self.energy, self.ids):
            compact(arr, self.keep, self.survivors)
        self.n, self.next_id = self.survivors, self.next_id + self.births

    def agent_bytes(self) -> int:
        """Bytes of the per-agent arrays and per-agent scratch (all rows)."""
        return sum(
            a.nbytes
            for a in (
                self.x,
                self.y,
                self.energy,
                self.ids,
                self.order,
                self.group_start,
                self.keep,
            )
        )


def make_forager(n: int, seed: int = 0) -> Forager:
    """A minimal forager ecology of about ``n`` agents, started near its steady state.

    Same rules and parameters as the Mesa peer; only the start differs from
    Mesa's (one agent per cell, full food, energy 5), which booms to the cap
    and crashes: here the grid has ``n / FORAGER_DENSITY`` cells, food starts
    at ``FORAGER_FOOD`` per cell and energies uniform in ``FORAGER_ENERGY``.
    """
    side = max(4, round(math.sqrt(n / FORAGER_DENSITY)))
    f = Forager(n, side, side, seed)
    f.food[:] = FORAGER_FOOD
    f.energy[:n] = np.random.default_rng(seed).uniform(*FORAGER_ENERGY, n)
    return f
