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
from evosim.engine.kernels import detect as k_detect
from evosim.engine.species import SpeciesRegistry
from evosim.engine.state import Detection, DetectorSettings, Tally, reuse

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
        marks: the registry's arrays the detectors read and mark, as the kernel takes them
            (:class:`~evosim.engine.state.Detection`; None before the first update).
    """

    def __init__(self, world: World, species: SpeciesRegistry, events: list[Event]):
        self.cfg = world.detectors
        self.names = [m.name for m in world.technology.ladder]
        self.species = species
        self.events = events
        self.reached_now: list[tuple[int, str]] = []
        c = self.cfg
        self._settings = DetectorSettings(
            float(c.brain_threshold), int(c.intelligence_window), int(c.min_population),
            float(c.tech_share), int(c.tech_window), len(self.names) > 0,
        )  # fmt: skip
        self.marks: Detection | None = None

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

    def update(self, tick: int, counts: Tally, flop: float) -> bool:
        """Run after tick ``tick``'s deaths (species centroids are current); True if a species
        became intelligent or technological at this tick.

        Args:
            tick: the tick just completed.
            counts: per species, over this tick's survivors (:class:`~evosim.engine.state.Tally`):
                ``adults``, ``holders`` of the final milestone, ``top`` milestone level held.
            flop: compute spent so far (recorded with each detection).

        The windows and milestones are one kernel pass (:func:`evosim.engine.kernels.detect.detect`);
        the events are written here, intelligence first, then technology, then milestones.
        """
        s, t = self.species, tick
        self.marks = reuse(
            self.marks, Detection, s.alive, s.centroid, s.brain_since, s.intelligent_at,
            s.intelligent_flop, s.tech_since, s.technological_at, s.technological_flop,
            s.max_level,
        )  # fmt: skip
        intel, tech, ms_species, ms_level = k_detect.detect(
            self.marks, counts, self._settings, len(s), t, flop
        )
        for kind, fired in (("intelligent", intel), ("technological", tech)):
            for sid in fired:
                self.events.append(
                    (
                        t,
                        kind,
                        int(sid),
                        f"{s.names[sid]} became {kind}; compute so far {flop:.4g} FLOP",
                    )
                )
        self.reached_now = []
        for sid, lv in zip(ms_species.tolist(), ms_level.tolist()):
            self.events.append(
                (t, "milestone", sid, f"{s.names[sid]} first reached {self.names[lv - 1]}")
            )
            self.reached_now.append((sid, self.names[lv - 1]))
        return len(intel) + len(tech) > 0
