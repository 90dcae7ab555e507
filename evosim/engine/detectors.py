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
    from evosim.engine.sim import Simulation


class Detectors:
    """Per-tick checks; state lives in the species registry, results in ``sim.events``.

    The registry keeps, per species, the detection ticks (``intelligent_at``,
    ``technological_at``), the compute spent at each detection
    (``intelligent_flop``, ``technological_flop``) and the highest milestone
    level reached (``max_level``), so it all grows with the registry and is
    saved in checkpoints with it.

    Attributes:
        reached_now: ``(species, milestone)`` pairs first reached this tick.
    """

    def __init__(self, sim: Simulation):
        self._sim = sim
        self.cfg = sim.world.detectors
        self.names = [m.name for m in sim.world.technology.ladder]
        self.reached_now: list[tuple[int, str]] = []

    @property
    def first_intelligent(self) -> tuple[int, float, int] | None:
        """``(tick, flop, species)`` of the first intelligence detection, or None."""
        return self._first("intelligent")

    @property
    def first_technological(self) -> tuple[int, float, int] | None:
        """``(tick, flop, species)`` of the first technology detection, or None."""
        return self._first("technological")

    def _first(self, kind: str) -> tuple[int, float, int] | None:
        """The earliest detection of ``kind`` (on a tie, the lowest species id: the one detected first)."""
        s = self._sim.species
        at = s.view(f"{kind}_at")
        hit = np.flatnonzero(at >= 0)
        if len(hit) == 0:
            return None
        sid = int(hit[np.argmin(at[hit])])
        return int(at[sid]), float(s.view(f"{kind}_flop")[sid]), sid

    def update(self, sim: Simulation) -> None:
        """Run after each tick's deaths (species centroids and ``sim.tech_counts`` are current)."""
        s, c, t = sim.species, self.cfg, sim.tick
        n_sp = len(s)
        alive = s.view("alive")
        big = alive >= c.min_population
        # intelligence: centroid brain is the live members' mean
        ok = big & (s.view("centroid")[:, G_BRAIN] > c.brain_threshold)
        self._windows(sim, ok, s.view("brain_since"), c.intelligence_window, "intelligent")
        # technology and milestones
        adults, holders, top = (
            a[:n_sp] for a in sim.tech_counts
        )  # counted over this tick's survivors
        ok = (
            big
            & (holders >= c.tech_share * np.maximum(adults, 1))
            & (adults > 0)
            & (len(self.names) > 0)
        )
        self._windows(sim, ok, s.view("tech_since"), c.tech_window, "technological")
        max_level = s.view("max_level")
        self.reached_now = []
        for sid in np.flatnonzero(top > max_level):
            for lv in range(max_level[sid] + 1, top[sid] + 1):
                sim.events.append(
                    (t, "milestone", int(sid), f"{s.names[sid]} first reached {self.names[lv - 1]}")
                )
                self.reached_now.append((int(sid), self.names[lv - 1]))
            max_level[sid] = top[sid]

    def _windows(
        self, sim: Simulation, ok: np.ndarray, since: np.ndarray, window: int, kind: str
    ) -> None:
        """Detect ``kind`` where ``ok`` has held ``window`` consecutive ticks; record tick and compute."""
        t, s = sim.tick, sim.species
        at, flops = s.view(f"{kind}_at"), s.view(f"{kind}_flop")
        since[~ok] = -1
        since[ok & (since < 0)] = t
        fired = np.flatnonzero(
            ok & (at < 0) & (t - since + 1 >= window)
        )  # held at `window` consecutive ticks
        for sid in fired:
            at[sid] = t
            flops[sid] = flop = sim.flop()
            sim.events.append(
                (t, kind, int(sid), f"{s.names[sid]} became {kind}; compute so far {flop:.4g} FLOP")
            )
