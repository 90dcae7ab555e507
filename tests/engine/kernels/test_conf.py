"""The kernel wrapper's dispatch cache: same results as numba's dispatcher, whatever the argument types."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evosim.engine.kernels import conf
from evosim.engine.kernels.conf import kernel


class _Pair(NamedTuple):
    values: np.ndarray
    scale: float


@kernel
def _weighted_sum(a, pair, k):
    """sum(a) * pair.scale + sum(pair.values) + k (a probe of every argument kind)."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    t = 0.0
    for i in range(pair.values.shape[0]):
        t += pair.values[i]
    return s * pair.scale + t + k


def _expected(a, pair, k):
    return float(np.sum(a, dtype=np.float64)) * pair.scale + float(pair.values.sum()) + k


def test_a_repeated_call_runs_the_cached_entry_point_with_the_same_result():
    a = np.arange(5, dtype=np.float64)
    pair = _Pair(np.ones(3), 2.0)
    first = _weighted_sum(a, pair, 1)
    assert len(_weighted_sum._fast[False]) >= 1
    assert _weighted_sum(a, pair, 1) == first == _expected(a, pair, 1)


def test_each_argument_type_gets_its_own_entry_point():
    """dtype, layout (a strided view), writability, a tuple's field types and scalar types all key the cache."""
    base = np.arange(10, dtype=np.float64)
    pair = _Pair(np.ones(3), 2.0)
    ro = base.copy()
    ro.flags.writeable = False
    cases = [
        (base, pair, 1),
        (base.astype(np.float32), pair, 1),
        (base[::2], pair, 1),  # not contiguous: a C-layout entry point would read it wrong
        (ro, pair, 1),
        (base, _Pair(np.ones(3, np.int64), 2.0), 1),
        (base, _Pair(np.ones(4), 3), 1),
        (base, pair, 1.5),
        (base, pair, np.int32(2)),
    ]
    for _ in range(2):  # the second round runs from the cache
        for a, p, k in cases:
            assert _weighted_sum(a, p, k) == _expected(a, p, k)
    assert len(_weighted_sum._fast[False]) >= len(cases) - 1


def test_a_tuple_key_is_kept_per_object_and_new_objects_are_keyed_anew():
    a = np.arange(4, dtype=np.float64)
    for n in range(1, 6):  # a new tuple each call, its field of another length each time
        pair = _Pair(np.full(n, 0.5), 1.0)
        assert _weighted_sum(a, pair, 0) == _expected(a, pair, 0)
    pair = _Pair(np.ones(2), 1.0)
    key = conf._arg_key(pair)
    assert conf._arg_key(pair) is key  # the same object: its key from the cache


def test_an_argument_without_a_key_goes_through_numba():
    a = [1.0, 2.0]  # a list: no key, numba's dispatcher types it (reflected list)
    pair = _Pair(np.ones(1), 1.0)
    try:
        conf._arg_key(a)
    except conf._NoKey:
        pass
    else:
        raise AssertionError("a list must have no key")
    assert _weighted_sum(np.asarray(a), pair, 0) == 4.0


def test_a_run_starts_on_the_serial_flavour_so_only_it_need_be_cached(monkeypatch, tmp_path):
    """With several threads the parallel build compiles later, if ever: not cached is no "compiling…"."""
    monkeypatch.setattr(conf, "_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(conf._Threads, "count", 2)
    monkeypatch.setattr(conf, "FORCED", None)
    assert not conf.cached()
    (tmp_path / f"move.sense_and_move__serial_{conf.DIGEST}-1.py311.nbi").touch()
    assert conf.cached() and not conf.parallel_cached()
    monkeypatch.setattr(conf, "FORCED", True)  # EVOSIM_PARALLEL=1: a run starts on the parallel one
    assert not conf.cached()
    (tmp_path / f"move.sense_and_move__parallel_{conf.DIGEST}-1.py311.nbi").touch()
    assert conf.cached() and conf.parallel_cached()
