"""The two-pass compactions (count per block, then write from each block's offset) give the one
pass's result, in both builds.

The engine splits them among the threads only on more than two threads (``conf.split_now``),
which the determinism tests on a 2-core machine never reach, so they are checked here on
inputs of several blocks (``life.BLOCK`` rows each) against the one pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import AGENT_FIELDS, ROW_DTYPE
from evosim.engine import state as st
from evosim.engine.kernels import life, spatial
from tests.helpers import Agents, kargs, named, params

N = 3 * life.BLOCK + 1234  # four blocks, the last one short


def _builds(kernel):
    """The serial and the parallel build of a kernel (the parallel one runs on numba's threads)."""
    return [kernel.serial, kernel.parallel]


@pytest.mark.parametrize("build", [0, 1], ids=["serial", "parallel"])
def test_find_parents_split_is_the_one_pass(build):
    rng = np.random.default_rng(21)
    p = params(maturity_min=10, maturity_max=30, birth_energy_min=12.0, birth_energy_max=40.0)
    ag = Agents(N, age=rng.integers(0, 40, N), energy=rng.uniform(-1.0, 45.0, N),
                genome=rng.uniform(0.0, 1.0, (N, 7)))  # fmt: skip
    a = named(st.Agents, kargs(ag))
    fn = _builds(life.find_parents)[build]
    one = np.full(N, -1, ROW_DTYPE)
    two = np.full(N, -1, ROW_DTYPE)
    k1 = fn(a, N, p, one, False)
    k2 = fn(a, N, p, two, True)
    assert 0 < k1 < N and k1 == k2
    assert np.array_equal(one[:k1], two[:k2])


@pytest.mark.parametrize("build", [0, 1], ids=["serial", "parallel"])
def test_cell_ordered_survivors_split_is_the_one_pass(build):
    rng = np.random.default_rng(22)
    n_indexed = N - 700  # the last 700 rows were born after the index
    order = rng.permutation(n_indexed).astype(ROW_DTYPE)
    cause = (rng.random(N) < 0.2).astype(np.int8)
    fn = _builds(life.cell_ordered_survivors)[build]
    got = []
    for split in (False, True):
        buf = named(st.Arena, {"cause": cause, "survivors": np.full(N, -1, ROW_DTYPE)})
        m = fn(order, n_indexed, N, buf, split)
        got.append(buf.survivors[:m].copy())
    assert np.array_equal(got[0], got[1])
    expected = [i for i in [*order.tolist(), *range(n_indexed, N)] if cause[i] == 0]
    assert got[0].tolist() == expected


@pytest.mark.parametrize("build", [0, 1], ids=["serial", "parallel"])
@pytest.mark.parametrize("stripes", [2, 8, 300])
def test_striped_cell_index_is_the_counting_sort(build, stripes):
    rng = np.random.default_rng(stripes)
    width, height = 37, 23
    x = rng.integers(0, width, N).astype(AGENT_FIELDS["x"])
    y = rng.integers(0, height, N).astype(AGENT_FIELDS["y"])
    fn = _builds(spatial.cell_index)[build]
    got = []
    for k in (1, stripes):  # one stripe: the one counting sort
        index = st.Index(
            np.full(N, -7, ROW_DTYPE), np.full(N + 1, -7, ROW_DTYPE),
            np.full(width * height + 1, 99, ROW_DTYPE), -1,
        )  # fmt: skip
        g = fn(x, y, N, width, index, np.zeros(N, ROW_DTYPE), k)
        got.append(
            (g, index.order.copy(), index.group_start[: g + 1].copy(), index.cell_end.copy())
        )
    (g1, o1, s1, e1), (g2, o2, s2, e2) = got
    assert g1 == g2 and np.array_equal(o1, o2) and np.array_equal(s1, s2)
    assert np.array_equal(e1, e2)
    assert np.array_equal(o1, np.argsort(y.astype(np.int64) * width + x, kind="stable"))
