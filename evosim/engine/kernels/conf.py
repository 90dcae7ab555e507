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
only. A kernel may build its serial flavour from another function with the same arguments and
results (``@kernel(parallel=True, one_thread=f)``), where the threaded form does more work in
all than one thread needs: ``life.tally`` splits its rows' work into two tasks that each read
every row, which on one thread would read them twice, so its serial flavour is one pass.

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
one thread is set and the caller asks for it (:func:`use_parallel`):
:meth:`evosim.Simulation.step` asks each tick as its
:class:`~evosim.engine.flavour.FlavourChooser` says, from
:data:`PARALLEL_MIN_AGENTS` agents on, by measured speed (threads pay on free
cores and cost several times over on busy ones).
``EVOSIM_PARALLEL=1`` forces the parallel flavour (at any thread count, e.g.
to compare it with the serial one at 1 thread), ``EVOSIM_PARALLEL=0`` forces the
serial one. Without ``EVOSIM_PARALLEL`` a library user runs on one thread until
:func:`set_threads` says otherwise.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
from numba._dispatcher import compute_fingerprint

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


#: Below this many agents a tick runs the serial flavour even with several threads: too little work
#: to share (on the earthlike world 2,000 and 4,000 measured alike on an idle machine). From it on
#: the simulation's :class:`~evosim.engine.flavour.FlavourChooser` picks the faster flavour by time.
PARALLEL_MIN_AGENTS = 4_000

# Threads that wait at the end of a parallel loop spin for a bounded time, then sleep (OpenMP,
# numba's default threading layer here, GNU libgomp: GOMP_SPINCOUNT spins of about 10 ns, so
# ~1 ms). A tick runs ~20-45 parallel loops with serial kernels and Python between them:
# sleeping at once (OMP_WAIT_POLICY=PASSIVE alone) made every loop wake its threads, and 2
# threads ran the earthlike world 1.5x *slower* than one on an idle machine; a spin of ~0.1 ms
# (10,000) still let them fall asleep in the longer gaps (2 threads 1.27x one in-tick, median of
# 4 runs) where ~1 ms (100,000) keeps them awake through a tick (1.39x). Spinning without
# bound (ACTIVE) takes the core from the thread waited for on a busy machine (7x slower); with
# the bounded spin the simulation's FlavourChooser measures there that threads lose and stops
# using them (docs/benchmarks.md, "Threads that measure themselves"). A user's own settings win.
# Set before numba loads its OpenMP pool (at the first parallel call).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "100000")

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
    """True if the flavour a run starts on has cache files for this source (no long compile expected).

    That is the serial flavour, or the parallel one under ``EVOSIM_PARALLEL=1``; with several
    threads the parallel build is compiled later, if ever (:func:`parallel_cached`).
    """
    return _flavour_cached("parallel" if FORCED else "serial")


def parallel_cached() -> bool:
    """True if the parallel flavour has cache files for this source (trying it compiles nothing)."""
    return _flavour_cached("parallel")


def _flavour_cached(flavour: str) -> bool:
    return any(_cache_dir().glob(f"*__{flavour}_{DIGEST}-*.nbi"))


class _Threads:
    """The process's thread setting (module state: numba's own thread count is per process too)."""

    count = nb.get_num_threads() if FORCED else 1
    parallel_now = bool(FORCED)
    first_calls_s = 0.0  # seconds in kernels' first calls per argument types (compiling or loading)


def set_threads(threads: int | None = None) -> int:
    """Run the kernels on ``threads`` threads (None: every core numba may use); returns the count set.

    The serial flavour runs until :func:`use_parallel` asks for the parallel one (a simulation's
    tick does, when threads measure faster): work between ticks, such as a recorder's first
    sample, must not compile the parallel build before any tick has tried it.

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
    use_parallel(False)
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


def first_calls_seconds() -> float:
    """Seconds this process has spent in kernels' first calls for their argument types: compiling
    them, or loading them from the disk cache (and running that one call). A progress bar leaves
    them out of a run's rate: the parallel build compiles mid-run, when threads are first tried."""
    return _Threads.first_calls_s


def parallel_now() -> bool:
    """True while the parallel flavour runs (see :func:`use_parallel`)."""
    return _Threads.parallel_now


def split_now() -> bool:
    """True while the parallel flavour runs on more than two threads: then the two-pass
    compactions (count per block, then write from each block's offset: ``find_parents``,
    ``cell_ordered_survivors``, the striped ``cell_index``) split their rows among the threads.
    They read every row twice, so two threads do not gain on them: on 2 threads the earthlike
    world's ticks ran 1-4 % faster with the one pass (docs/benchmarks.md, fifth round)."""
    return _Threads.parallel_now and _Threads.count > 2


def _build(fn: Callable[..., Any], flavour: str, parallel: bool) -> Any:
    """A numba dispatcher of a copy of ``fn`` named for ``flavour`` and :data:`DIGEST` (its own cache)."""
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__qualname__ = f"{fn.__qualname__}__{flavour}_{DIGEST}"
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return nb.njit(**JIT, cache=True, parallel=parallel)(copy)


class _NoKey(Exception):
    """An argument the dispatch cache cannot key (the call goes through numba's dispatcher)."""


#: Types numba types by their Python type alone (a key of the dispatch cache is the type itself).
_SCALARS = frozenset(
    {int, float, bool, type(None), np.bool_, np.float32, np.float64}
    | {getattr(np, f"{s}int{b}") for s in ("", "u") for b in (8, 16, 32, 64)}
)
#: Keys of tuple arguments by identity, ``id(obj) -> (obj, key)`` (the object is kept, so its id
#: cannot be reused while it is here); emptied when it reaches :data:`_TUPLE_KEYS_MAX` entries.
_TUPLE_KEYS: dict[int, tuple[Any, Any]] = {}
_TUPLE_KEYS_MAX = 256
#: Each distinct tuple key (its type and its items' keys) numbered once: what a call's key holds.
_INTERNED: dict[Any, int] = {}


def _arg_key(a: Any) -> Any:
    """What numba's type of the argument ``a`` depends on, cheaply (see :class:`Kernel`).

    An array: numba's own fingerprint of it (dtype, ndim, layout, writability). A scalar: its
    type. A tuple (a named tuple of the engine state, ``Params``...): its type and its items'
    keys, computed once per tuple object (tuples are immutable, and an array's dtype, ndim,
    layout and writability do not change while the tuple holds it). Anything else: no key.
    """
    t = type(a)
    if t is np.ndarray:
        return compute_fingerprint(a)
    if t in _SCALARS:
        return t
    if isinstance(a, tuple):
        hit = _TUPLE_KEYS.get(id(a))
        if hit is not None and hit[0] is a:
            return hit[1]
        # one small int per distinct key: a call's key then hashes in constant time
        key = _INTERNED.setdefault((t, tuple(map(_arg_key, a))), len(_INTERNED))
        if len(_TUPLE_KEYS) >= _TUPLE_KEYS_MAX:
            _TUPLE_KEYS.clear()
        _TUPLE_KEYS[id(a)] = (a, key)
        return key
    raise _NoKey


def _entry_point(dispatcher: Any, args: tuple[Any, ...]) -> Any:
    """The compiled entry point numba runs for ``args`` (exact argument types), or None."""
    try:
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
    except Exception:  # noqa: BLE001 (no fast path, nothing else changes)
        return None
    cres = dispatcher.overloads.get(sig)
    return None if cres is None else cres.entry_point


class Kernel:
    """A numba kernel called from Python: its serial build and, for ``prange`` kernels, its parallel build.

    Calling it runs the flavour in use (:func:`parallel_now`). ``serial`` and ``parallel``
    are the numba dispatchers themselves (the parallel one is built on first use).

    **Dispatch cache.** numba's dispatcher types every argument at every call, and a named
    tuple slowly (its fingerprint spells each field's name): ~9 us for ``Params``, ~23 us for
    ``(Agents, Cells, Params, Clock)`` against ~3 us to run the same compiled code directly
    (docs/benchmarks.md, "Dispatch"). So each flavour keeps a table from the arguments' keys
    (:func:`_arg_key`: numba's fingerprint of an array, a tuple's key once per tuple object)
    to the entry point numba chose for them on the first such call; later calls with the same
    key run that entry point. A call whose arguments have no key, or that numba served
    through a conversion (no overload of exactly these types), always goes through the
    dispatcher. The machine code run is the same either way.
    """

    def __init__(
        self, fn: Callable[..., Any], has_prange: bool, one_thread: Callable[..., Any] | None = None
    ):
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self.has_prange = has_prange
        self.serial = _build(one_thread or fn, "serial", parallel=False)
        self._parallel: Any = None
        self._n_params = fn.__code__.co_argcount
        self._fast: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})

    @property
    def parallel(self) -> Any:
        """The parallel build (the serial one for a kernel without ``prange`` loops)."""
        if not self.has_prange:
            return self.serial
        if self._parallel is None:
            self._parallel = _build(self.py_func, "parallel", parallel=True)
        return self._parallel

    def __call__(self, *args: Any) -> Any:
        par = self.has_prange and _Threads.parallel_now
        dispatcher = self.parallel if par else self.serial
        if len(args) != self._n_params:  # defaults filled in by numba: no fast path
            return dispatcher(*args)
        try:
            key = tuple(map(_arg_key, args))
        except _NoKey:
            return dispatcher(*args)
        table = self._fast[par]
        entry = table.get(key)
        if entry is not None:
            return entry(*args)
        t0 = time.perf_counter()
        out = dispatcher(*args)  # compiles or loads the overload if needed
        _Threads.first_calls_s += time.perf_counter() - t0
        entry = _entry_point(dispatcher, args)
        if entry is not None:
            table[key] = entry
        return out

    def __repr__(self) -> str:
        return f"<evosim kernel {self.py_func.__module__}.{self.py_func.__qualname__}>"


def kernel(
    fn: Callable[..., Any] | None = None,
    *,
    parallel: bool = False,
    one_thread: Callable[..., Any] | None = None,
) -> Any:
    """Decorator of a kernel called from Python: ``@kernel``, or ``@kernel(parallel=True)`` for a
    kernel whose outer loop is a ``prange``; ``one_thread``: the function its serial flavour is
    built from instead (same arguments and results; see the module docstring)."""
    if fn is None:
        return lambda f: Kernel(f, parallel, one_thread)
    return Kernel(fn, parallel, one_thread)
