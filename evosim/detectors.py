"""Intelligence and technology detectors, milestone events and compute accounting.

A species is *intelligent* from the tick at which its mean brain has stayed
above ``detectors.brain_threshold`` with at least ``min_population`` members
for ``intelligence_window`` consecutive ticks; *technological* from the tick
at which at least ``tech_share`` of its adults have held the final milestone
(with ``min_population`` members) for ``tech_window`` consecutive ticks. The
compute spent so far is recorded at each detection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evosim.defaults import G_BRAIN

if TYPE_CHECKING:  # pragma: no cover
    from evosim.sim import Simulation


class Detectors:
    """Per-tick checks; state lives in the species registry, results in ``sim.events``.

    Attributes:
        first_intelligent, first_technological: ``(tick, flop, species)`` of
            the first detection, or None.
        max_level: highest milestone level each species has reached.
    """

    def __init__(self, sim: Simulation):
        self.cfg = sim.world.detectors
        self.names = [m.name for m in sim.world.technology.ladder]
        self.first_intelligent: tuple[int, float, int] | None = None
        self.first_technological: tuple[int, float, int] | None = None
        self.max_level = np.zeros(0, np.int64)
        self.reached_now: list[tuple[int, str]] = []  # (species, milestone) first reached this tick

    def update(self, sim: Simulation) -> None:
        """Run after each tick's deaths (species centroids and ``sim.tech_counts`` are current)."""
        s, c, t = sim.species, self.cfg, sim.tick
        n_sp = len(s)
        alive = s.view("alive")
        big = alive >= c.min_population
        # intelligence: centroid brain is the live members' mean
        ok = big & (s.view("centroid")[:, G_BRAIN] > c.brain_threshold)
        self._windows(sim, ok, s.view("brain_since"), s.view("intelligent_at"), c.intelligence_window, "intelligent")
        # technology and milestones
        adults, holders, top = (a[:n_sp] for a in sim.tech_counts)  # counted over this tick's survivors
        ok = big & (holders >= c.tech_share * np.maximum(adults, 1)) & (adults > 0) & (len(self.names) > 0)
        self._windows(sim, ok, s.view("tech_since"), s.view("technological_at"), c.tech_window, "technological")
        if len(self.max_level) < n_sp:
            self.max_level = np.concatenate([self.max_level, np.zeros(n_sp - len(self.max_level), np.int64)])
        self.reached_now = []
        for sid in np.flatnonzero(top > self.max_level[:n_sp]):
            for lv in range(self.max_level[sid] + 1, top[sid] + 1):
                sim.events.append((t, "milestone", int(sid), f"{s.names[sid]} first reached {self.names[lv - 1]}"))
                self.reached_now.append((int(sid), self.names[lv - 1]))
            self.max_level[sid] = top[sid]

    def _windows(self, sim: Simulation, ok: np.ndarray, since: np.ndarray, at: np.ndarray, window: int, kind: str) -> None:
        t = sim.tick
        since[~ok] = -1
        since[ok & (since < 0)] = t
        fired = np.flatnonzero(ok & (at < 0) & (t - since + 1 >= window))  # held at `window` consecutive ticks
        for sid in fired:
            at[sid] = t
            flop = sim.flop()
            sim.events.append((t, kind, int(sid), f"{sim.species.names[sid]} became {kind}; compute so far {flop:.4g} FLOP"))
            attr = "first_intelligent" if kind == "intelligent" else "first_technological"
            if getattr(self, attr) is None:
                setattr(self, attr, (t, flop, int(sid)))
