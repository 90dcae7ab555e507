"""The engine's thread setting and compile cache, and the time series' text, for callers outside the engine.

Only :mod:`evosim.engine` imports its numba kernels (an import contract); the CLI, the run
loop and the experiment tasks set threads and ask about the cache here, and the recorder
writes its time-series lines here. Importing this module loads numba.
"""

from __future__ import annotations

import numpy as np

from evosim.engine.kernels import conf
from evosim.engine.kernels import text as k_text


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


def csv_lines(
    tick: int, species: np.ndarray, names: np.ndarray, name_end: np.ndarray,
    values: np.ndarray, is_int: np.ndarray,
) -> str:  # fmt: skip
    """The time series' CSV lines of one sample: per row r, ``tick``, ``species[r]``, its name's
    CSV text (UTF-8 bytes ``names[name_end[s - 1]:name_end[s]]``), then row r of the float64
    matrix ``values``: integers (columns where ``is_int``) as digits, other values as their
    ``repr``, a non-finite value blank; each line ended by a newline.

    One kernel call writes them all (:func:`evosim.engine.kernels.text.csv_lines`); the
    floats are the bytes of Python's ``repr``.
    """
    if values.dtype != np.float64 or values.ndim != 2 or len(values) != len(species):
        raise TypeError(f"csv_lines takes one float64 row per species, not {values.shape}")
    if len(species) == 0:
        return ""
    values = np.ascontiguousarray(values)
    species = np.ascontiguousarray(species, np.int64)
    name_bytes = int((name_end[species] - np.where(species > 0, name_end[species - 1], 0)).sum())
    out = np.empty(len(species) * (44 + 25 * values.shape[1]) + name_bytes, np.uint8)
    k = k_text.csv_lines(
        np.int64(tick), species, names, name_end, values.view(np.uint64),
        np.ascontiguousarray(is_int, np.uint8), out,
    )  # fmt: skip
    return out[:k].tobytes().decode("utf-8")
