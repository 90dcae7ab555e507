"""Intelligence and technology detectors, milestone events and compute accounting.

A species is *intelligent* from the tick at which its mean brain has stayed
above ``detectors.brain_threshold`` with at least ``min_population`` members
for ``intelligence_window`` consecutive ticks; *technological* from the tick
at which at least ``tech_share`` of its adults have held the final milestone
(with ``min_population`` members) for ``tech_window`` consecutive ticks. The
compute spent so far is recorded at each detection.
"""

from __future__ import annotations

import numpy as np

from evosim.config.schema import World
from evosim.defaults import G_BRAIN
from evosim.engine.species import SpeciesRegistry

#: An event: ``(tick, kind, species id or -1, details)``.
Event = tuple[int, str, int, str]


class Detectors:
    """Per-tick checks; state lives in the species registry, results go to ``events``.

    The registry keeps, per species, the detection ticks (``intelligent_at``,
    ``technological_at``), the compute spent at each detection
    (``intelligent_flop``, ``technological_flop``) and the highest milestone
    level reached (``max_level``), so it all grows with the registry and is
    saved in checkpoints with it.

    Args:
        world: gives the detector settings and the technology ladder's names.
        species: the registry the detectors read and mark.
        events: the list detections and milestones are appended to.

    Attributes:
        names: the milestones' names, in ladder order (level ``k`` is ``names[k - 1]``).
        reached_now: ``(species, milestone)`` pairs first reached this tick.
    """

    def __init__(self, world: World, species: SpeciesRegistry, events: list[Event]):
        self.cfg = world.detectors
        self.names = [m.name for m in world.technology.ladder]
        self.species = species
        self.events = events
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
        s = self.species
        at = s.view(f"{kind}_at")
        hit = np.flatnonzero(at >= 0)
        if len(hit) == 0:
            return None
        sid = int(hit[np.argmin(at[hit])])
        return int(at[sid]), float(s.view(f"{kind}_flop")[sid]), sid

    def update(
        self, tick: int, tech_counts: tuple[np.ndarray, np.ndarray, np.ndarray], flop: float
    ) -> None:
        """Run after tick ``tick``'s deaths (species centroids are current).

        Args:
            tick: the tick just completed.
            tech_counts: per species, over this tick's survivors: adults, adults holding
                the final milestone, highest milestone level held.
            flop: compute spent so far (recorded with each detection).
        """
        s, c, t = self.species, self.cfg, tick
        n_sp = len(s)
        alive = s.view("alive")
        big = alive >= c.min_population
        # intelligence: centroid brain is the live members' mean
        ok = big & (s.view("centroid")[:, G_BRAIN] > c.brain_threshold)
        self._windows(t, flop, ok, s.view("brain_since"), c.intelligence_window, "intelligent")
        # technology and milestones
        adults, holders, top = (a[:n_sp] for a in tech_counts)
        ok = (
            big
            & (holders >= c.tech_share * np.maximum(adults, 1))
            & (adults > 0)
            & (len(self.names) > 0)
        )
        self._windows(t, flop, ok, s.view("tech_since"), c.tech_window, "technological")
        max_level = s.view("max_level")
        self.reached_now = []
        for sid in np.flatnonzero(top > max_level):
            for lv in range(max_level[sid] + 1, top[sid] + 1):
                self.events.append(
                    (t, "milestone", int(sid), f"{s.names[sid]} first reached {self.names[lv - 1]}")
                )
                self.reached_now.append((int(sid), self.names[lv - 1]))
            max_level[sid] = top[sid]

    def _windows(
        self, t: int, flop: float, ok: np.ndarray, since: np.ndarray, window: int, kind: str
    ) -> None:
        """Detect ``kind`` where ``ok`` has held ``window`` consecutive ticks; record tick and compute."""
        s = self.species
        at, flops = s.view(f"{kind}_at"), s.view(f"{kind}_flop")
        since[~ok] = -1
        since[ok & (since < 0)] = t
        fired = np.flatnonzero(
            ok & (at < 0) & (t - since + 1 >= window)
        )  # held at `window` consecutive ticks
        for sid in fired:
            at[sid] = t
            flops[sid] = flop
            self.events.append(
                (t, kind, int(sid), f"{s.names[sid]} became {kind}; compute so far {flop:.4g} FLOP")
            )
