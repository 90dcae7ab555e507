"""How every numba kernel is built, cached and run: flags, flavours, threads (after PySDM's ``conf.py``).

**Two flavours.** A kernel whose outer loop is a ``prange`` over agents or
cells (``@kernel(parallel=True)``) is built twice: *serial* (``prange`` is a
plain ``range``) and *parallel* (numba's ``parallel=True``: the loop is split
over ``numba.get_num_threads()`` threads). Which one runs is decided at each
call (:func:`use_parallel`), so one process can switch; the results are
byte-identical because every loop iteration touches only its own agent or
cell, reductions are integer counts, and random numbers are keyed by agent id,
never by iteration order (``tests/test_determinism.py`` checks every ready
world at 1 and 2 threads). Other kernels (``@kernel``) have the serial flavour
only.

**One cache per flavour.** numba names a function's cache files after its
qualified name and line (``<module>.<qualname>-<line>.py311.nbi``) and keys
the entries by signature, not by the ``parallel`` flag, so one function built
both ways would share (and overwrite) one cache. Each flavour is therefore
compiled from its own copy of the Python function, named
``<qualname>__<flavour>_<digest>``: the serial and the parallel build of
``sense_and_move`` live side by side in ``kernels/__pycache__`` as
``move.sense_and_move__serial_<digest>-...`` and
``move.sense_and_move__parallel_<digest>-...``, and both load from disk on the
next start. ``<digest>`` hashes the source of every kernel module and of
``evosim/defaults.py``: numba keys a cache by its own file only, so without it
a change to an inlined helper in another module (``phenotype.maturity``, say)
or to a constant would leave stale machine code in the caches of the kernels
that inline it. Files of other digests are removed when this module is
imported.

**Threads.** :func:`set_threads` picks the thread count (``evosim run
--threads``, default all cores; experiment and sweep workers use 1, their
replicates already fill the cores). The parallel flavour runs when more than
one thread is set and the population is large enough for the threads to pay
(:data:`PARALLEL_MIN_AGENTS`; :meth:`evosim.Simulation.step` decides each tick).
``EVOSIM_PARALLEL=1`` forces the parallel flavour (at any thread count, e.g.
to compare it with the serial one at 1 thread), ``EVOSIM_PARALLEL=0`` forces the
serial one. Without ``EVOSIM_PARALLEL`` a library user runs on one thread until
:func:`set_threads` says otherwise.
"""

from __future__ import annotations

import functools
import hashlib
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

#: Flags shared by every numba function. ``fastmath`` stays off: it would let LLVM reassociate
#: sums and break bit-identical runs across machines. Inlined helpers (``inline="always"``) use
#: these as they are; kernels called from Python get ``cache=True`` through :func:`kernel`.
JIT: dict[str, Any] = dict(nogil=True, fastmath=False, error_model="numpy")


@nb.njit(inline="always", **JIT)
def ix(i: int) -> np.uint64:
    """``i`` as an unsigned array index: ``a[ix(i)]`` is ``a[i]`` for ``0 <= i < len(a)``.

    numba guards every access through a *signed* index that LLVM cannot prove
    non-negative (a computed offset, or a row read from another array) with a
    wrap-around for negative indices: about four instructions per access, and
    it blocks vectorisation. Kernels index through :func:`ix` where the index is
    known to be in range (only at the access: arithmetic between unsigned and
    signed integers gives floats in numba).
    """
    return np.uint64(i)


#: Below this many agents a tick runs the serial flavour even with several threads: starting
#: the threads of each parallel loop costs more than the work it shares (measured in
#: ``benchmarks/bench.py --threads``).
PARALLEL_MIN_AGENTS = 20_000

# Threads that wait at the end of a parallel loop sleep instead of spinning (OpenMP, numba's
# default threading layer here): spinning costs ~2 us less per loop on an idle machine, but on a
# loaded one a spinning thread takes the core from the thread it waits for, and a tick on two
# threads ran 7x slower than on one (benchmarks/bench.py; docs/benchmarks.md). A user's own
# setting wins. Set before numba loads its OpenMP pool (at the first parallel call).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_FORCED = os.environ.get("EVOSIM_PARALLEL", "").strip().lower()
#: ``EVOSIM_PARALLEL``: True / False forces the parallel / serial flavour; None lets the thread count decide.
FORCED: bool | None = None if _FORCED == "" else _FORCED not in ("0", "false", "no")


def _digest() -> str:
    """Hash of the source of every kernel module and of ``evosim/defaults.py`` (12 hex digits)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(here.glob("*.py")) + [here.parents[1] / "defaults.py"]:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


DIGEST = _digest()
FLAVOURS = ("serial", "parallel")


def _cache_dir() -> Path:
    return Path(__file__).resolve().parent / "__pycache__"


def _remove_stale_caches() -> None:
    """Delete this folder's cache files of kernels built from other sources (other digests)."""
    try:
        for f in _cache_dir().glob("*.nb[ic]"):
            name = f.name.split("-", 1)[0]
            for flavour in FLAVOURS:
                tag = f"__{flavour}_"
                if tag in name and not name.endswith(tag + DIGEST):
                    f.unlink(missing_ok=True)
    except OSError:  # a read-only install: numba caches elsewhere (its user-wide cache)
        pass


_remove_stale_caches()


def cached() -> bool:
    """True if every flavour the thread setting may run has cache files for this source.

    (No long compile expected: the serial flavour unless ``EVOSIM_PARALLEL=1``, the parallel one too
    with more than one thread.)
    """
    flavours = [] if FORCED else ["serial"]
    if FORCED or (FORCED is None and _Threads.count > 1):
        flavours.append("parallel")
    return all(any(_cache_dir().glob(f"*__{f}_{DIGEST}-*.nbi")) for f in flavours)


class _Threads:
    """The process's thread setting (module state: numba's own thread count is per process too)."""

    count = nb.get_num_threads() if FORCED else 1
    parallel_now = bool(FORCED)


def set_threads(threads: int | None = None) -> int:
    """Run the kernels on ``threads`` threads (None: every core numba may use); returns the count set.

    Raises:
        ValueError: ``threads`` < 1 or more than numba may use (``NUMBA_NUM_THREADS``, by default
            the number of cores).
    """
    most = nb.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set at import, untyped
    n = most if threads is None else int(threads)
    if not 1 <= n <= most:
        raise ValueError(
            f"{n} threads: numba may use 1 to {most} on this machine (NUMBA_NUM_THREADS)"
        )
    nb.set_num_threads(n)
    _Threads.count = n
    use_parallel(n > 1)
    return n


def threads() -> int:
    """The thread count set by :func:`set_threads` (1 unless set, or ``EVOSIM_PARALLEL=1``)."""
    return _Threads.count


def use_parallel(wanted: bool) -> bool:
    """Run the parallel flavour from now on if ``wanted`` and more than one thread is set.

    ``EVOSIM_PARALLEL`` overrides ``wanted``. Returns the flavour now in use (True: parallel).
    """
    _Threads.parallel_now = FORCED if FORCED is not None else (wanted and _Threads.count > 1)
    return _Threads.parallel_now


def parallel_now() -> bool:
    """True while the parallel flavour runs (see :func:`use_parallel`)."""
    return _Threads.parallel_now


def _build(fn: Callable[..., Any], flavour: str, parallel: bool) -> Any:
    """A numba dispatcher of a copy of ``fn`` named for ``flavour`` and :data:`DIGEST` (its own cache)."""
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = f"{fn.__qualname__}__{flavour}_{DIGEST}"
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return nb.njit(**JIT, cache=True, parallel=parallel)(copy)


class Kernel:
    """A numba kernel called from Python: its serial build and, for ``prange`` kernels, its parallel build.

    Calling it runs the flavour in use (:func:`parallel_now`). ``serial`` and ``parallel``
    are the numba dispatchers themselves (the parallel one is built on first use).
    """

    def __init__(self, fn: Callable[..., Any], has_prange: bool):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.has_prange = has_prange
        self.serial = _build(fn, "serial", parallel=False)
        self._parallel: Any = None

    @property
    def parallel(self) -> Any:
        """The parallel build (the serial one for a kernel without ``prange`` loops)."""
        if not self.has_prange:
            return self.serial
        if self._parallel is None:
            self._parallel = _build(self.py_func, "parallel", parallel=True)
        return self._parallel

    def __call__(self, *args: Any) -> Any:
        if _Threads.parallel_now and self.has_prange:
            return self.parallel(*args)
        return self.serial(*args)

    def __repr__(self) -> str:
        return f"<evosim kernel {self.py_func.__module__}.{self.py_func.__qualname__}>"


def kernel(fn: Callable[..., Any] | None = None, *, parallel: bool = False) -> Any:
    """Decorator of a kernel called from Python: ``@kernel``, or ``@kernel(parallel=True)`` for a
    kernel whose outer loop is a ``prange`` (see the module docstring)."""
    if fn is None:
        return lambda f: Kernel(f, parallel)
    return Kernel(fn, parallel)
