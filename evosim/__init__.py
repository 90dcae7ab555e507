"""evosim: a numba-accelerated sandbox where species evolve under natural selection.

Public API::

    from evosim import load_world, Simulation, run, load_run
    world = load_world("worlds/earthlike.yaml", overrides={"world.width": 128})
    sim = Simulation(world, seed=1)
    sim.advance(500)
    sim.populations()
    run(world, "runs/demo", ticks=1000)
    r = load_run("runs/demo")

The names are loaded on first use, so ``import evosim`` is cheap and reading a
run folder with :func:`load_run` never loads numba. The packages, from the
bottom layer up: :mod:`evosim.config` (world files), :mod:`evosim.engine` (the
model and its numba kernels), :mod:`evosim.io` (run folders), then
:mod:`evosim.experiments` and :mod:`evosim.viewer`, and :mod:`evosim.cli` on
top (docs/architecture.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evosim.errors import ConfigError
from evosim.version import __version__

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "load_world": "evosim.config.load",
    "Simulation": "evosim.engine.sim",
    "run": "evosim.io.runner",
    "load_run": "evosim.io.logs",
    "load_experiment": "evosim.experiments.experiment",
}

__all__ = [
    "ConfigError",
    "Simulation",
    "__version__",
    "load_experiment",
    "load_run",
    "load_world",
    "run",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from evosim.config.load import load_world
    from evosim.engine.sim import Simulation
    from evosim.experiments.experiment import load_experiment
    from evosim.io.logs import load_run
    from evosim.io.runner import run


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evosim' has no attribute {name!r}")
