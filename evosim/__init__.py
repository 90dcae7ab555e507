"""evosim: a numba-accelerated sandbox where species evolve under natural selection.

Public API::

    from evosim import load_world, Simulation, run
    world = load_world("worlds/earthlike.yaml", overrides={"world.width": 128})
    sim = Simulation(world, seed=1)
    sim.advance(500)
    sim.populations()
"""

from __future__ import annotations

__version__ = "0.1.0"

from evosim.config import ConfigError, load_world  # noqa: E402
from evosim.sim import Simulation  # noqa: E402
from evosim.runner import run  # noqa: E402

__all__ = ["ConfigError", "Simulation", "__version__", "load_world", "run"]
