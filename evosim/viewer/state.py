"""What the viewer draws: a snapshot of a world at one tick.

A :class:`ViewState` is built either from a live
:class:`~evosim.sim.Simulation` (:meth:`ViewState.from_sim`) or from a recorded
frame (:mod:`evosim.viewer.record`). Fields that later parts of the model add
(per-agent skill, milestone flags, species' intelligent / technological marks)
are optional: they are read with ``getattr`` and a default, so the viewer shows
more as the model grows and nothing breaks before.

Optional attributes read from a simulation (all may be absent):

* ``sim.pop.skill`` — float per agent (skill z >= 0).
* ``sim.pop.milestone`` — int per agent: number of the highest milestone held
  (0 = none, 1 = the first milestone, ...); or ``sim.pop.milestones`` /
  ``sim.pop.tech`` — bit flags per agent (bit k = milestone k held); without
  those, levels are derived from skill and ``sim.ladder.threshold``.
* ``sim.milestone_names`` — names of the milestones (else the names in
  ``sim.world.technology.ladder``).
* ``sim.species.intelligent_at`` / ``sim.species.technological_at`` — per
  species the tick it was marked (``-1``, ``None`` or NaN = not yet).
* ``sim.species.parent`` — per species the parent species id (-1 for roots).
* ``sim.species.manipulators`` / ``sim.species.fire_substitute`` — what
  interventions granted each species.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from evosim.defaults import GENES

#: Per-agent fields of a state (besides ``genome``) and the dtype they are read as.
AGENT_ARRAYS = ("x", "y", "species", "energy", "age", "id", "parent_id")


def _marks(table: Any, name: str, n: int) -> np.ndarray:
    """Per-species tick of a mark (``-1`` = none) from ``table.<name>``, whatever its form."""
    out = np.full(n, -1, np.int64)
    raw = getattr(table, name, None) if table is not None else None
    if raw is None:
        return out
    if isinstance(raw, np.ndarray) and raw.dtype != object:  # the usual case: one array, -1 = none
        v = np.asarray(raw[:n], np.float64)
        ok = np.isfinite(v) & (v >= 0)
        out[: len(v)][ok] = v[ok].astype(np.int64)
        return out
    if isinstance(raw, dict):
        items = list(raw.items())
    else:
        items = list(enumerate(raw))
    for k, v in items:  # one entry per species, not per agent
        if isinstance(k, (int, np.integer)) and 0 <= k < n and v is not None:
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            if np.isfinite(f) and f >= 0:
                out[k] = int(f)
    return out


def milestone_level(flags: np.ndarray) -> np.ndarray:
    """Highest milestone held, from bit flags: 0 for none, ``k + 1`` if bit ``k`` is the highest set.

    >>> milestone_level(np.array([0, 1, 2, 3, 4, 16])).tolist()
    [0, 1, 2, 2, 3, 5]
    """
    flags = np.asarray(flags)
    if flags.dtype == np.bool_ and flags.ndim == 2:  # (n, milestones) booleans
        held = flags.any(axis=1)
        last = flags.shape[1] - np.argmax(flags[:, ::-1], axis=1)
        return np.where(held, last, 0).astype(np.uint8)
    _, exp = np.frexp(np.maximum(flags.astype(np.float64), 0.0))
    return exp.astype(np.uint8)


def agent_milestones(sim: Any, n: int) -> np.ndarray | None:
    """Per live agent the number of the highest milestone held (0 none), or ``None`` without a ladder.

    Read from ``sim.pop.milestone`` (levels) or ``sim.pop.milestones`` /
    ``sim.pop.tech`` (bit flags); else derived from skill and the ladder's
    increasing thresholds (``sim.ladder.threshold``): the number of thresholds
    at or below the agent's skill.
    """
    pop = sim.pop
    level = getattr(pop, "milestone", None)
    if level is not None:
        return np.asarray(level[:n]).astype(np.uint8)
    for name in ("milestones", "tech"):
        flags = getattr(pop, name, None)
        if flags is not None:
            return milestone_level(np.asarray(flags[:n]))
    threshold = getattr(getattr(sim, "ladder", None), "threshold", None)
    skill = getattr(pop, "skill", None)
    if threshold is not None and skill is not None and len(threshold):
        lv = np.searchsorted(np.asarray(threshold, np.float64), np.asarray(skill[:n], np.float64), side="right")
        return np.minimum(lv, 255).astype(np.uint8)
    return None


def milestone_names(sim: Any) -> list[str]:
    """Names of the milestones: ``sim.milestone_names``, else ``sim.world.technology.ladder`` names."""
    names = getattr(sim, "milestone_names", None)
    if names is None:
        ladder = getattr(getattr(getattr(sim, "world", None), "technology", None), "ladder", None) or []
        names = [getattr(m, "name", f"m{i + 1}") for i, m in enumerate(ladder)]
    return [str(x) for x in names]


def species_values(table: Any, name: str, n: int, dtype: Any = np.float64) -> np.ndarray | None:
    """``table.<name>[:n]`` as an array, or ``None`` if the table has no such attribute."""
    raw = getattr(table, name, None)
    return None if raw is None else np.asarray(raw, dtype)[:n].copy()


@dataclass
class ViewState:
    """A world at one tick, as the viewer needs it.

    Per-agent arrays have one entry per live agent (length ``n``); optional
    ones are ``None`` when the model does not provide them (yet).

    Attributes:
        tick: ticks completed.
        habitat: (H, W) uint8, 1 = land.
        food: (H, W) float food per cell.
        capacity: food capacity per habitat (index 0 water, 1 land).
        x, y, species: positions (cells) and species ids.
        genome: (n, len(GENES)) genes in [0, 1], columns in :data:`evosim.defaults.GENES` order.
        energy, age, id, parent_id: per-agent values (``None`` if not recorded).
        skill: per-agent skill or ``None``.
        milestone: per-agent highest milestone held (0 none) or ``None``.
        species_names: name per species id.
        milestone_names: names of the milestones (level ``k`` is ``milestone_names[k - 1]``).
        intelligent_at, technological_at: per species the tick it was marked, -1 if not (yet).
        species_parent: per species the parent species id (-1 root) or ``None``.
        manipulators: per species the granted manipulator level (interventions) or ``None``.
        fire_substitute: per species 1 if granted a fire substitute, or ``None``.
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
    intelligent_at: np.ndarray | None = None
    technological_at: np.ndarray | None = None
    species_parent: np.ndarray | None = None
    manipulators: np.ndarray | None = None
    fire_substitute: np.ndarray | None = None
    world_name: str = ""
    source: str = "live"

    def __post_init__(self) -> None:
        k = len(self.species_names)
        if self.intelligent_at is None:
            self.intelligent_at = np.full(k, -1, np.int64)
        if self.technological_at is None:
            self.technological_at = np.full(k, -1, np.int64)

    # ------------------------------------------------------------ builders
    @classmethod
    def from_sim(cls, sim: Any) -> ViewState:
        """Snapshot a live simulation (copies of the live rows; the sim may step on afterwards).

        Args:
            sim: an :class:`evosim.sim.Simulation` (or anything with the same attributes).
        """
        p = sim.pop
        n = int(p.n)
        arrays = {name: np.array(getattr(p, name)[:n]) for name in AGENT_ARRAYS}
        skill = getattr(p, "skill", None)
        sp = sim.species
        names = list(sp.names)
        k = len(names)
        world = getattr(sim, "world", None)
        return cls(
            tick=int(sim.tick),
            habitat=sim.habitat,
            food=sim.food.copy(),
            capacity=np.asarray(sim.capacity, np.float64),
            genome=np.array(p.genome[:n]),
            skill=None if skill is None else np.array(skill[:n], np.float32),
            milestone=agent_milestones(sim, n),
            species_names=names,
            milestone_names=milestone_names(sim),
            intelligent_at=_marks(sp, "intelligent_at", k),
            technological_at=_marks(sp, "technological_at", k),
            species_parent=species_values(sp, "parent", k, np.int64),
            manipulators=species_values(sp, "manipulators", k),
            fire_substitute=species_values(sp, "fire_substitute", k, np.uint8),
            world_name=str(getattr(world, "name", "")),
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
        k = max(s.n_species, int(s.species.max()) + 1 if s.n else 0)
        sp = np.asarray(s.species, np.intp)
        count = np.bincount(sp, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = np.where(count > 0, count, np.nan)
            g = np.asarray(s.genome)  # bincount takes the float32 columns as they are (fastest)
            means = np.stack([np.bincount(sp, g[:, j], minlength=k) for j in range(g.shape[1])], axis=1) / denom[:, None]
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
