"""The engine's thread setting and compile cache, for callers outside the engine.

Only :mod:`evosim.engine` imports its numba kernels (an import contract); the CLI, the run
loop and the experiment tasks set threads and ask about the cache here. Importing this
module loads numba.
"""

from __future__ import annotations

from evosim.engine.kernels import conf


def set_threads(threads: int | None = None) -> int:
    """Run the simulation kernels on ``threads`` threads (None: every core); returns the count set.

    Raises:
        ValueError: ``threads`` < 1 or more than numba may use on this machine.
    """
    return conf.set_threads(threads)


def threads() -> int:
    """The thread count set by :func:`set_threads` (1 unless set, or ``EVOSIM_PARALLEL=1``)."""
    return conf.threads()


def kernels_cached() -> bool:
    """True if numba's on-disk cache holds the kernels a run starts on (no compile pause expected)."""
    return conf.cached()


def first_calls_seconds() -> float:
    """Seconds spent so far compiling (or loading) kernels for new argument types, mid-run too."""
    return conf.first_calls_seconds()
