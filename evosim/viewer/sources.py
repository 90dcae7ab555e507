"""Where the viewer's states come from: a live simulation or a recorded run.

A live source steps a :class:`~evosim.engine.sim.Simulation`; the viewer applies
interventions through the engine's own ``sim.apply_intervention(name,
species_id)`` (names: ``sim.interventions.names``). A replay source plays the
frames of a run folder, and fills the plot's history from the run's
``timeseries.csv`` when there is one.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from evosim.io.frames import FrameReader
from evosim.io.snapshot import History, TimeSeries, ViewState


class LiveSource:
    """Steps a :class:`~evosim.engine.sim.Simulation`.

    Args:
        sim: the simulation.
    """

    mode = "live"

    def __init__(self, sim: Any):
        self.sim = sim
        self._state: ViewState | None = None

    @property
    def tick(self) -> int:
        """The simulation's tick."""
        return int(self.sim.tick)

    @property
    def position(self) -> str:
        """Status text for the panel."""
        return "extinct" if self.sim.extinct else ""

    def state(self) -> ViewState:
        """The current snapshot (rebuilt only after the simulation moved)."""
        if self._state is None or self._state.tick != self.sim.tick:
            self._state = ViewState.from_sim(self.sim)
        return self._state

    def invalidate(self) -> None:
        """Forget the cached snapshot (the simulation changed without stepping, e.g. an intervention)."""
        self._state = None

    def step(self) -> bool:
        """One tick; ``False`` once everything is extinct."""
        if self.sim.extinct:
            return False
        self.sim.step()
        self._state = None
        return True

    def back(self) -> bool:
        """A live simulation cannot step back."""
        return False


class ReplaySource:
    """Plays the frames of a recorded run (:class:`~evosim.io.frames.FrameReader`)."""

    mode = "replay"

    def __init__(self, reader: FrameReader):
        self.reader = reader
        self.index = 0
        self.sim = None
        self._state: ViewState | None = None

    @property
    def tick(self) -> int:
        """The tick of the current frame."""
        return int(self.reader.ticks[self.index])

    @property
    def position(self) -> str:
        """Position text for the panel (``frame i/n``)."""
        return f"frame {self.index + 1}/{len(self.reader)}"

    def state(self) -> ViewState:
        """The current frame as a snapshot."""
        if self._state is None:
            self._state = self.reader.state(self.index)
        return self._state

    @cached_property
    def series(self) -> TimeSeries | None:
        """Population and mean skill per species of the run's ``timeseries.csv``.

        ``None`` when the frames are not in a run folder written by ``evosim run``
        (no ``config.yaml``) or the run sampled nothing yet.
        """
        from evosim.io.logs import load_run  # pandas: loaded for a replay only

        try:
            ts = load_run(self.reader.folder.parent).timeseries
        except FileNotFoundError:
            return None
        if ts.empty:
            return None
        return TimeSeries(
            ts["tick"].to_numpy(),
            ts["species"].to_numpy(),
            ts["population"].to_numpy(),
            ts["mean_skill"].to_numpy(np.float64, na_value=np.nan),
        )

    def history(self, tick: int) -> History | None:
        """The plot's history up to ``tick`` from :attr:`series` (``None`` without one)."""
        return None if self.series is None else self.series.history(tick)

    def seek(self, index: int) -> None:
        """Go to frame ``index`` (clamped)."""
        index = min(max(int(index), 0), len(self.reader) - 1)
        if index != self.index:
            self.index, self._state = index, None

    def step(self) -> bool:
        """Next frame; ``False`` at the end of the recording."""
        if self.index + 1 >= len(self.reader):
            return False
        self.seek(self.index + 1)
        return True

    def back(self) -> bool:
        """Previous frame; ``False`` at the first."""
        if self.index == 0:
            return False
        self.seek(self.index - 1)
        return True
