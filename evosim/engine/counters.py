"""The run's counters: the tick, totals for compute accounting and the summary, per-sample counts."""

from __future__ import annotations

from typing import Any

import numpy as np

from evosim.config.schema import ComputeConfig
from evosim.defaults import N_DEATH_COLUMNS

#: The scalars of :meth:`Counters.state`, in checkpoint order (``seed`` is the simulation's).
SCALARS = (
    "tick",
    "agent_steps",
    "total_births",
    "total_deaths",
    "cap_reached_at",
    "cap_refused",
    "learning_attempts",
    "innovations",
    "species_limit_logged",
)
#: The per-species arrays of :meth:`Counters.state`.
ARRAYS = ("births", "deaths", "neural", "neural_intelligent", "neural_technological")
#: Columns of the neural-compute sums (:attr:`Counters.neural`): the exponent of each column;
#: the last is the configured ``compute.neural_exponent`` (None here: read from the config).
NEURAL_POWERS = (1, 2, 3, None)


class Counters:
    """What a run has counted so far.

    Attributes:
        tick: ticks completed.
        agent_steps: agents alive at the start of each tick, summed over ticks.
        total_births, total_deaths: since the run began.
        learning_attempts, innovations: since the run began (compute accounting).
        cap_reached_at: tick the population cap first refused a birth (None: never).
        cap_refused: births refused at the cap.
        species_limit_logged: the ``species_limit`` event was written (once per run).
        births: (S,) int64 births per species since the last :meth:`take`.
        deaths: (S, :data:`~evosim.defaults.N_DEATH_COLUMNS`) int64 deaths per species and
            cause (column ``DEATH_STARVATION``, ``DEATH_OLD_AGE``, ``DEATH_CULLED``; column 0
            unused) since the last :meth:`take`.
        neural: (S, 4) float64 per species, summed over every agent alive at the start of each
            tick since the run began: brain, brain², brain³ and brain**k (k =
            ``compute.neural_exponent``; :data:`NEURAL_POWERS`). Neural compute is
            ``compute.neural_flop_per_agent_tick`` times a column (:meth:`neural_flop`).
            Not reset by :meth:`take`.
        neural_intelligent, neural_technological: copies of :attr:`neural` taken at the end
            of the tick of the first intelligence / technology detection (as many rows as
            there were species then; (0, 4) until it happens).
    """

    def __init__(self, n_species: int):
        self.tick = 0
        self.agent_steps = 0
        self.total_births = 0
        self.total_deaths = 0
        self.cap_reached_at: int | None = None
        self.cap_refused = 0
        self.learning_attempts = 0
        self.innovations = 0
        self.species_limit_logged = False
        self.births = np.zeros(0, np.int64)
        self.deaths = np.zeros((0, N_DEATH_COLUMNS), np.int64)
        self.neural = np.zeros((n_species, len(NEURAL_POWERS)), np.float64)
        self.neural_intelligent = np.zeros((0, len(NEURAL_POWERS)), np.float64)
        self.neural_technological = np.zeros((0, len(NEURAL_POWERS)), np.float64)
        self.take(n_species)

    def take(self, n_species: int) -> tuple[np.ndarray, np.ndarray]:
        """Births and deaths per species since the last call; resets them (to ``n_species`` rows)."""
        out = (self.births, self.deaths)
        self.births = np.zeros(n_species, np.int64)
        self.deaths = np.zeros((n_species, N_DEATH_COLUMNS), np.int64)
        return out

    def grow(self, n_species: int) -> None:
        """Pad the per-species counts with zero rows up to ``n_species``."""
        self.births = _grow(self.births, n_species)
        self.deaths = _grow(self.deaths, n_species)
        self.neural = _grow(self.neural, n_species)

    def flop(self, c: ComputeConfig) -> float:
        """Estimated compute spent so far (docs/model.md, "Compute accounting")."""
        return (
            self.agent_steps * c.flop_per_agent_step
            + self.total_births * c.flop_per_birth
            + self.learning_attempts * c.flop_per_learning_attempt
            + self.innovations * c.flop_per_innovation
        )

    def neural_flop(self, c: ComputeConfig, sums: np.ndarray | None = None) -> float:
        """Neural compute of the whole world: ``c.neural_flop_per_agent_tick`` times the sum of
        brain**k over agent-ticks (``sums``: :attr:`neural` or one of its copies; default: now)."""
        col = self.neural if sums is None else sums
        return c.neural_flop_per_agent_tick * float(col[:, -1].sum())

    def capture_neural(self, intelligent_at: np.ndarray, technological_at: np.ndarray) -> None:
        """Copy :attr:`neural` at the first detection of each kind (the detection ticks per
        species; called after the detectors, at every tick they mark a species)."""
        if len(self.neural_intelligent) == 0 and (intelligent_at >= 0).any():
            self.neural_intelligent = self.neural.copy()
        if len(self.neural_technological) == 0 and (technological_at >= 0).any():
            self.neural_technological = self.neural.copy()

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Copies of the per-species counts (:data:`ARRAYS`) and the scalars (:data:`SCALARS`)."""
        return (
            {k: np.array(getattr(self, k)) for k in ARRAYS},
            {k: getattr(self, k) for k in SCALARS},
        )

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], scalars: dict[str, Any]) -> Counters:
        """Rebuild from :meth:`state` output."""
        c = cls(0)
        for k in ARRAYS:
            setattr(c, k, np.array(arrays[k]))
        for k in SCALARS:
            setattr(c, k, scalars[k])
        return c


def _grow(counter: np.ndarray, n_species: int) -> np.ndarray:
    """Pad a per-species counter with zero rows up to ``n_species``."""
    if len(counter) >= n_species:
        return counter
    pad = np.zeros((n_species - len(counter), *counter.shape[1:]), counter.dtype)
    return np.concatenate([counter, pad])
