"""Where the viewer's states come from: a live simulation or a recorded run; the intervention hook.

Interventions: a simulation may offer them through two optional attributes,
looked up with ``getattr`` (the viewer works without them):

* ``sim.apply_intervention(name, species_id)`` — a method (or a plain callable
  attribute taking ``(sim, name, species_id)``) that applies the named
  intervention to one species now and logs it like any other; it may return
  a message to show.
* ``sim.intervention_names`` — the names to offer (a list, or a method
  returning one); else ``sim.interventions.names``; else the ``name`` of each
  item of ``sim.interventions``.
"""

from __future__ import annotations

import inspect
from typing import Any

from evosim.viewer.record import FrameReader
from evosim.viewer.state import ViewState


def intervention_names(sim: Any) -> list[str]:
    """Names of the interventions ``sim`` offers (empty without an ``apply_intervention`` hook)."""
    if getattr(sim, "apply_intervention", None) is None:
        return []
    names = getattr(sim, "intervention_names", None)
    if callable(names):
        names = names()
    if names is None:
        ivs = getattr(sim, "interventions", None)
        names = getattr(ivs, "names", None)
        if callable(names):
            names = names()
        if names is None:
            try:
                names = [getattr(iv, "name", None) for iv in ivs or []]
            except TypeError:  # not a sequence of interventions
                names = []
    return [str(n) for n in names if n]


def apply_intervention(sim: Any, name: str, species_id: int) -> Any:
    """Call the simulation's ``apply_intervention`` hook (method or plain callable attribute).

    Raises:
        LookupError: the simulation has no interventions.
    """
    hook = getattr(sim, "apply_intervention", None)
    if hook is None:
        raise LookupError("no interventions in this world")
    if inspect.ismethod(hook) and hook.__self__ is sim:
        return hook(name, species_id)
    return hook(sim, name, species_id)


class LiveSource:
    """Steps a :class:`~evosim.sim.Simulation` (optionally recording frames).

    Args:
        sim: the simulation.
        recorder: anything with ``on_tick(sim)`` (e.g. a FrameRecorder), called after each step.
    """

    mode = "live"

    def __init__(self, sim: Any, recorder: Any = None):
        self.sim = sim
        self.recorder = recorder
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
        if self._state is None or self._state.tick != self.sim.tick or self._state.n != self.sim.pop.n:
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
        if self.recorder is not None:
            self.recorder.on_tick(self.sim)
        return True

    def back(self) -> bool:
        """A live simulation cannot step back."""
        return False


class ReplaySource:
    """Plays the frames of a recorded run (:class:`~evosim.viewer.record.FrameReader`)."""

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
