"""The agents, as a structure of arrays with spare capacity.

Rows ``0 .. n-1`` are the live agents; rows beyond are spare. Arrays grow by a
quarter when births need room, up to the population cap. Dtypes come from
:data:`evosim.defaults.AGENT_FIELDS`.
"""

from __future__ import annotations

import numpy as np

from evosim.defaults import AGENT_FIELDS, GENOME_DTYPE, N_GENES
from evosim.engine.kernels.life import gather_agents
from evosim.engine.state import Agents, reuse_per

# gather() lays the other fields over the spare genome's bytes (28 per row) at fixed offsets, in two
# groups: id, parent_id, species, x (24 bytes), then the other seven (26)
assert N_GENES * GENOME_DTYPE.itemsize == 28 and tuple(
    dt.itemsize for dt in AGENT_FIELDS.values()
) == (8, 8, 4, 4, 4, 4, 4, 4, 4, 4, 2), "kernels.life.gather_agents: update its byte offsets"
assert tuple(AGENT_FIELDS) == (
    "id", "parent_id", "species", "x", "y", "energy", "age", "birth_tick", "guardian", "skill",
    "lessons",
), "kernels.life.gather_agents permutes each field by name: add a new field there too"  # fmt: skip


class Population:
    """Agent arrays (one attribute per field of ``AGENT_FIELDS`` plus ``genome``).

    Attributes:
        n: number of live agents.
        capacity: rows allocated.
        next_id: the id the next newborn gets.
    """

    FIELDS: tuple[str, ...] = (*AGENT_FIELDS, "genome")
    #: Growth factor of the arrays, 9/8 as an exact fraction: 1.125x rather than 2x keeps spare rows (memory) at
    #: most an eighth of the live ones after a growth; the copies stay amortised O(1) per row (8 per row).
    GROWTH_NUM, GROWTH_DEN = 9, 8
    #: Rows allocated at least (a small world does not regrow its arrays tick after tick).
    MIN_CAPACITY = 1024

    def __init__(self, capacity: int):
        self.n = 0
        self.next_id = 0
        self.capacity = 0
        for name, dt in AGENT_FIELDS.items():
            setattr(self, name, np.zeros(0, dt))
        self.genome = np.zeros((0, N_GENES), GENOME_DTYPE)
        self._genome_spare = self.genome  # gather() writes here, then swaps it with genome
        self.reserve(capacity)

    # typed attribute declarations for readers and type checkers
    id: np.ndarray
    parent_id: np.ndarray
    species: np.ndarray
    x: np.ndarray
    y: np.ndarray
    energy: np.ndarray
    age: np.ndarray
    birth_tick: np.ndarray
    guardian: np.ndarray
    skill: np.ndarray
    lessons: np.ndarray
    genome: np.ndarray

    def reserve(self, capacity: int) -> None:
        """Make room for at least ``capacity`` rows, keeping live rows."""
        if capacity <= self.capacity:
            return
        for name in self.FIELDS:
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._genome_spare = np.zeros_like(self.genome)
        self.capacity = capacity

    def ensure_room(self, extra: int, cap: int) -> None:
        """Grow (by ``GROWTH_NUM / GROWTH_DEN``, at most to ``cap``) so ``n + extra`` rows fit."""
        need = self.n + extra
        if need > self.capacity:
            grown = -(
                -self.capacity * self.GROWTH_NUM // self.GROWTH_DEN
            )  # ceil(capacity * GROWTH)
            self.reserve(min(max(need, grown, self.MIN_CAPACITY), max(cap, need)))

    def gather(self, rows: np.ndarray, m: int) -> None:
        """Make rows ``rows[:m]`` (any order) the live agents, in that order (no allocation)."""
        # the spare genome's bytes serve as scratch for the other fields first
        gather_agents(self.agents(), rows, m, self._genome_spare)
        self.genome, self._genome_spare = self._genome_spare, self.genome
        self.n = m

    def spare_views(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Two float64 arrays and one float32 array, one element per row, laid over the spare genome.

        The spare genome only serves :meth:`gather` (at the deaths); between two gathers a
        tick's per-row float scratch (foraging's demand and energy per unit, the parents'
        offers, the learners' model skills) lives in its bytes (28 per row: 8 + 8 + 4 used),
        so it costs no memory of its own. The views are valid until the next :meth:`gather` or
        growth, which overwrite or replace the spare genome: take them anew each tick.
        """
        raw = self._genome_spare.reshape(-1).view(np.uint8)
        cap = self.capacity
        return (
            raw[: 8 * cap].view(np.float64),
            raw[8 * cap : 16 * cap].view(np.float64),
            raw[16 * cap : 20 * cap].view(np.float32),
        )

    def agents(self) -> Agents:
        """The agent arrays as the kernels take them (all capacity rows; rebuild after a growth or gather)."""
        memo = self.__dict__.setdefault("_agents", {})  # one per genome array (see reuse_per)
        return reuse_per(  # type: ignore[no-any-return]
            memo, self.genome, Agents, self.id, self.parent_id, self.species, self.x, self.y,
            self.energy, self.age, self.birth_tick, self.guardian, self.skill, self.lessons,
            self.genome,
        )  # fmt: skip

    def spare_id(self) -> object:
        """The spare genome's array object: :meth:`spare_views` are valid while it is the same."""
        return self._genome_spare

    def live(self, name: str) -> np.ndarray:
        """View of field ``name`` for the live agents."""
        return getattr(self, name)[: self.n]

    def nbytes(self) -> int:
        """Bytes held by the agent arrays and the spare genome of :meth:`gather` (all capacity)."""
        return sum(getattr(self, f).nbytes for f in self.FIELDS) + self._genome_spare.nbytes

    def state(self) -> dict[str, np.ndarray]:
        """Copies of the live rows of every field (for checkpoints and tests)."""
        return {f: self.live(f).copy() for f in self.FIELDS}

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], next_id: int) -> Population:
        """Rebuild from :meth:`state` output."""
        n = len(arrays["id"])
        pop = cls(max(n, cls.MIN_CAPACITY))
        for f in cls.FIELDS:
            getattr(pop, f)[:n] = arrays[f]
        pop.n = n
        pop.next_id = next_id
        return pop
