"""What the viewer draws: a snapshot of a world at one tick.

A :class:`ViewState` is built either from a live
:class:`~evosim.engine.sim.Simulation` (:meth:`ViewState.from_sim`) or from a recorded
frame (:mod:`evosim.io.frames`). Both read the engine's attributes
directly: the agent fields of :data:`evosim.defaults.AGENT_FIELDS` (skill
included), milestone levels from :meth:`Simulation.milestone_levels` (as the run recorder does),
milestone names from ``sim.detectors.names``, and per species the arrays of
:class:`~evosim.engine.species.SpeciesRegistry` (``intelligent_at`` /
``technological_at``, -1 = not yet; ``parent``; ``manipulators`` /
``fire_substitute`` granted by interventions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from evosim.defaults import GENES
from evosim.engine.sim import Simulation

#: Per-agent fields of a state, copied from the live rows of the population (same names, same dtypes).
AGENT_ARRAYS = ("x", "y", "species", "genome", "energy", "age", "id", "parent_id", "skill")
#: Per-species arrays of a state and the value meaning "none" (``__post_init__`` fills them to ``n_species``).
SPECIES_ARRAYS = {"intelligent_at": (np.int64, -1), "technological_at": (np.int64, -1),
                  "species_parent": (np.int64, -1), "manipulators": (np.float32, 0),
                  "fire_substitute": (np.uint8, 0)}  # fmt: skip


def _absent(name: str) -> np.ndarray:
    """An empty per-species array of ``name``'s dtype (``__post_init__`` fills it with the "none" value)."""
    return np.empty(0, SPECIES_ARRAYS[name][0])


def agent_milestones(sim: Simulation) -> np.ndarray | None:
    """Per live agent the number of milestones held (0 none), or ``None`` if the world has no ladder.

    The level counts the milestones the agent holds where it stands
    (:meth:`evosim.engine.sim.Simulation.milestone_levels`).
    """
    if not len(sim.ladder.threshold):
        return None
    return sim.milestone_levels()


@dataclass
class ViewState:
    """A world at one tick, as the viewer needs it.

    Per-agent arrays have one entry per live agent (length ``n``); optional
    ones are ``None`` when not recorded. Species ids index ``species_names``.
    The per-species arrays (``intelligent_at`` .. ``fire_substitute``) are
    filled to length ``n_species`` by ``__post_init__`` (with -1 for ticks and
    parents, 0 for grants) when not given or shorter, so they are never ``None``.

    Attributes:
        tick: ticks completed.
        habitat: (H, W) uint8, 1 = land.
        food: (H, W) float food per cell.
        capacity: food capacity per habitat (index 0 water, 1 land).
        x, y, species: positions (cells) and species ids.
        genome: (n, len(GENES)) genes in [0, 1], columns in :data:`evosim.defaults.GENES` order.
        energy, age, id, parent_id: per-agent values (``None`` if not recorded).
        skill: per-agent skill or ``None``.
        milestone: per-agent highest milestone held (0 none) or ``None`` (no ladder).
        species_names: name per species id.
        milestone_names: names of the milestones (level ``k`` is ``milestone_names[k - 1]``).
        intelligent_at, technological_at: per species the tick it was marked, -1 if not (yet).
        species_parent: per species the parent species id (-1 root).
        manipulators: per species the granted manipulator level (interventions), 0 if none.
        fire_substitute: per species 1 if granted a fire substitute, else 0.
        world_name: name of the world.
        source: ``"live"`` or ``"replay"``.
    """

    tick: int
    habitat: np.ndarray
    food: np.ndarray
    capacity: np.ndarray
    x: np.ndarray
    y: np.ndarray
    species: np.ndarray
    genome: np.ndarray
    species_names: list[str]
    energy: np.ndarray | None = None
    age: np.ndarray | None = None
    id: np.ndarray | None = None
    parent_id: np.ndarray | None = None
    skill: np.ndarray | None = None
    milestone: np.ndarray | None = None
    milestone_names: list[str] = field(default_factory=list)
    intelligent_at: np.ndarray = field(default_factory=lambda: _absent("intelligent_at"))
    technological_at: np.ndarray = field(default_factory=lambda: _absent("technological_at"))
    species_parent: np.ndarray = field(default_factory=lambda: _absent("species_parent"))
    manipulators: np.ndarray = field(default_factory=lambda: _absent("manipulators"))
    fire_substitute: np.ndarray = field(default_factory=lambda: _absent("fire_substitute"))
    world_name: str = ""
    source: str = "live"

    def __post_init__(self) -> None:
        k = self.n_species
        for name, (dtype, none) in SPECIES_ARRAYS.items():
            given = getattr(self, name)
            if len(given) == k:
                continue
            full = np.full(k, none, dtype)
            m = min(k, len(given))
            full[:m] = given[:m]
            setattr(self, name, full)

    # ------------------------------------------------------------ builders
    @classmethod
    def from_sim(cls, sim: Simulation) -> ViewState:
        """Snapshot a live simulation (copies of the live rows; the sim may step on afterwards).

        Args:
            sim: an :class:`evosim.engine.sim.Simulation`.
        """
        p, sp = sim.pop, sim.species
        arrays = {name: p.live(name).copy() for name in AGENT_ARRAYS}
        return cls(
            tick=int(sim.tick),
            habitat=sim.grids.habitat,
            food=sim.grids.food.copy(),
            capacity=np.asarray(sim.grids.capacity, np.float64),
            milestone=agent_milestones(sim),
            species_names=list(sp.names),
            milestone_names=list(sim.detectors.names),
            intelligent_at=sp.view("intelligent_at").copy(),
            technological_at=sp.view("technological_at").copy(),
            species_parent=sp.view("parent").copy(),
            manipulators=sp.view("manipulators").copy(),
            fire_substitute=sp.view("fire_substitute").copy(),
            world_name=sim.world.name,
            source="live",
            **arrays,
        )

    # ------------------------------------------------------------ derived
    @property
    def n(self) -> int:
        """Number of live agents."""
        return int(len(self.x))

    @property
    def n_species(self) -> int:
        """Number of species ever named (alive or extinct)."""
        return len(self.species_names)

    @property
    def n_ids(self) -> int:
        """Rows of the per-species tables (palette, :attr:`stats`): ``len(stats.count)``, at least ``n_species``."""
        return len(self.stats.count)

    def species_name(self, s: int) -> str:
        """Name of species ``s`` (``#s`` for an id without a name)."""
        return self.species_names[s] if 0 <= s < self.n_species else f"#{s}"

    def milestone_name(self, level: int) -> str:
        """Name of milestone ``level`` (1 = the first; ``m<level>`` for a level without a name)."""
        return (
            self.milestone_names[level - 1]
            if 1 <= level <= len(self.milestone_names)
            else f"m{level}"
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the grid."""
        return self.habitat.shape  # type: ignore[return-value]

    @cached_property
    def food_fraction(self) -> np.ndarray:
        """Food per cell as a share of its habitat's capacity, in [0, 1] (float32)."""
        cap = np.asarray(self.capacity, np.float32)
        cap = np.where(cap > 0, cap, 1.0).astype(np.float32)
        return np.clip(np.asarray(self.food, np.float32) / cap[self.habitat], 0.0, 1.0)

    def gene(self, name: str) -> np.ndarray:
        """One gene column (float32) for the live agents."""
        return np.asarray(self.genome[:, GENES.index(name)], np.float32)

    @cached_property
    def stats(self) -> SpeciesStats:
        """Per-species counts and means (computed once, with ``np.bincount``)."""
        return SpeciesStats.of(self)

    def row_of(self, agent_id: int) -> int | None:
        """Row of the agent with id ``agent_id``, or ``None`` if it is not alive here."""
        if self.id is None:
            return None
        hit = np.flatnonzero(self.id == agent_id)
        return int(hit[0]) if hit.size else None

    def ancestry(self, row: int, depth: int = 4) -> list[tuple[int, int | None]]:
        """Line of descent of the agent in ``row``: ``[(parent_id, row or None), ...]`` up to ``depth``.

        Walks parent ids while the ancestor is alive in this snapshot (a loop over
        generations, not over agents); stops at a founder (parent id -1) or at
        an ancestor that is no longer alive.
        """
        out: list[tuple[int, int | None]] = []
        if self.parent_id is None:
            return out
        r: int | None = row
        for _ in range(depth):
            pid = int(self.parent_id[r])
            if pid < 0:
                break
            r = self.row_of(pid)
            out.append((pid, r))
            if r is None:
                break
        return out


@dataclass
class SpeciesStats:
    """Per-species aggregates of a :class:`ViewState`.

    Attributes:
        count: live agents per species.
        mean_genes: (n_species, len(GENES)) mean genes (NaN where extinct).
        mean_skill, max_skill: per species, NaN where extinct or without skill data.
        top_milestone: per species the highest milestone any member holds (0 none).
    """

    count: np.ndarray
    mean_genes: np.ndarray
    mean_skill: np.ndarray
    max_skill: np.ndarray
    top_milestone: np.ndarray

    @classmethod
    def of(cls, s: ViewState) -> SpeciesStats:
        """Aggregate ``s`` by species."""
        sp = np.asarray(s.species, np.intp)
        count = np.bincount(sp, minlength=s.n_species)
        k = len(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = np.where(count > 0, count, np.nan)
            g = np.asarray(s.genome)  # bincount takes the float32 columns as they are (fastest)
            means = (
                np.stack([np.bincount(sp, g[:, j], minlength=k) for j in range(g.shape[1])], axis=1)
                / denom[:, None]
            )
            if s.skill is not None:
                z = np.asarray(s.skill, np.float64)
                mean_skill = np.bincount(sp, z, minlength=k) / denom
                max_skill = np.full(k, np.nan)
                if s.n:
                    max_skill = np.where(count > 0, 0.0, np.nan)
                    np.maximum.at(max_skill, sp, z)
            else:
                mean_skill = np.full(k, np.nan)
                max_skill = np.full(k, np.nan)
        top = np.zeros(k, np.int64)
        if s.milestone is not None and s.n:
            np.maximum.at(top, sp, np.asarray(s.milestone, np.int64))
        return cls(count, means, mean_skill, max_skill, top)


class History:
    """Population and mean skill per species over ticks, for the panel's live plot.

    Holds at most ``capacity`` samples; when full, every other sample is
    dropped, so the plot always covers the whole run at a coarser resolution.

    Args:
        capacity: samples kept (>= 4).
    """

    def __init__(self, capacity: int = 400):
        self.capacity = max(4, int(capacity))
        self.ticks = np.zeros(0, np.int64)
        self.pop = np.zeros((0, 0), np.float64)
        self.skill = np.zeros((0, 0), np.float64)
        self._stride = 1
        self._seen = 0

    def __len__(self) -> int:
        return len(self.ticks)

    def add(self, state: ViewState) -> None:
        """Record ``state`` (ignored if its tick is already the last one; rewinds on an earlier tick)."""
        t = int(state.tick)
        rewound = False
        if len(self.ticks) and t <= self.ticks[-1]:
            if t == self.ticks[-1]:
                return
            keep = self.ticks < t
            self.ticks, self.pop, self.skill = self.ticks[keep], self.pop[keep], self.skill[keep]
            rewound = True
        self._seen += 1
        if self._seen % self._stride and len(self.ticks) and not rewound:
            return
        st = state.stats
        k = max(len(st.count), self.pop.shape[1])
        if k > self.pop.shape[1]:
            pad = ((0, 0), (0, k - self.pop.shape[1]))
            self.pop = np.pad(self.pop, pad)
            self.skill = np.pad(self.skill, pad, constant_values=np.nan)
        row_pop = np.zeros((1, k))
        row_pop[0, : len(st.count)] = st.count
        row_skill = np.full((1, k), np.nan)
        row_skill[0, : len(st.mean_skill)] = st.mean_skill
        self.ticks = np.append(self.ticks, t)
        self.pop = np.vstack([self.pop, row_pop])
        self.skill = np.vstack([self.skill, row_skill])
        if len(self.ticks) > self.capacity:
            self.ticks, self.pop, self.skill = self.ticks[::2], self.pop[::2], self.skill[::2]
            self._stride *= 2

    @property
    def has_skill(self) -> bool:
        """True once any sample holds a skill value."""
        return bool(np.isfinite(self.skill).any()) if self.skill.size else False


class TimeSeries:
    """Population and mean skill per (tick, species) sample, e.g. the rows of a run's ``timeseries.csv``.

    Species without a row at a sampled tick count 0 (skill NaN), as the run
    recorder writes no row for a species extinct before that tick.

    Args:
        tick, species, population, mean_skill: columns of equal length (any row order).
    """

    def __init__(
        self, tick: np.ndarray, species: np.ndarray, population: np.ndarray, mean_skill: np.ndarray
    ):
        order = np.argsort(np.asarray(tick, np.int64), kind="stable")
        self.tick = np.asarray(tick, np.int64)[order]
        self.species = np.asarray(species, np.intp)[order]
        self.population = np.asarray(population, np.float64)[order]
        self.mean_skill = np.asarray(mean_skill, np.float64)[order]
        self.ticks, starts = np.unique(self.tick, return_index=True)
        self._bounds = np.append(
            starts, len(self.tick)
        )  # rows of ticks[j]: bounds[j] .. bounds[j + 1]

    def history(self, upto: int, capacity: int = 400) -> History:
        """A :class:`History` of the samples at ticks ``<= upto``.

        At most ``capacity`` of them, evenly spaced, the last included.
        """
        out = History(capacity)
        k = int(np.searchsorted(self.ticks, upto, side="right"))
        if k == 0:
            return out
        stride = 1 if k <= out.capacity else -(-k // (out.capacity - 1))  # leaves room for the last
        keep = np.union1d(np.arange(k)[::stride], [k - 1])
        lo, hi = self._bounds[keep], self._bounds[keep + 1]
        rows = np.concatenate(
            [np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist())]
        )  # one per kept tick
        at = np.repeat(np.arange(len(keep)), hi - lo)
        sp = self.species[rows]
        out.pop = np.zeros((len(keep), int(sp.max()) + 1))
        out.skill = np.full(out.pop.shape, np.nan)
        out.pop[at, sp] = self.population[rows]
        out.skill[at, sp] = self.mean_skill[rows]
        out.ticks = self.ticks[keep]
        return out
