"""Passes paired as two tasks (:mod:`evosim.engine.kernels.tasks`): every flavour gives the bytes
of the passes called one after the other."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import G_BRAIN, N_GENES
from evosim.engine import state as st
from evosim.engine.kernels import spatial, stats, tasks
from tests.helpers import Agents, named

BUILDS = {
    "two tasks in turn": tasks.index_and_count_brains.serial,  # the serial flavour
    "two tasks on threads": tasks.index_and_count_brains.parallel,
}


def _index(n: int, n_cells: int) -> st.Index:
    """An index whose buffers hold junk (the sort must overwrite what it reports)."""
    junk = np.full(n + 1, 7, np.int32)
    return st.Index(junk[:n].copy(), junk.copy(), np.full(n_cells + 1, 7, np.int32), -1)


@pytest.mark.parametrize("build", list(BUILDS))
@pytest.mark.parametrize("k", [1.0, 2.5])
def test_index_and_count_brains_is_the_sort_then_the_sums(build, k):
    rng = np.random.default_rng(31)
    n, n_species, w, h = 3000, 6, 24, 16
    ag = Agents(n, capacity=n + 8)
    ag.x[:n] = rng.integers(0, w, n)
    ag.y[:n] = rng.integers(0, h, n)
    ag.species[:n] = rng.integers(0, n_species, n)
    ag.genome[:n] = rng.random((n, N_GENES)).astype(ag.genome.dtype)
    a = named(st.Agents, ag.kw())
    # the reference: the two passes on their own, one after the other
    want_index = _index(n, w * h)
    want_groups = spatial.sort_by_cell(
        ag.x, ag.y, n, w, want_index.cell_end, want_index.order, want_index.group_start
    )
    want_neural = np.full((n_species, stats.BRAIN_POWERS), 0.25)  # sums are added to
    stats.add_brain_powers(ag.species, ag.genome, n, G_BRAIN, k, want_neural)

    index = _index(n, w * h)
    neural = np.full((n_species, stats.BRAIN_POWERS), 0.25)
    groups = BUILDS[build](a, n, w, index, G_BRAIN, k, neural)
    assert groups == want_groups == len(np.unique(ag.y[:n] * w + ag.x[:n]))
    assert index.order[:n].tobytes() == want_index.order[:n].tobytes()
    assert (
        index.group_start[: groups + 1].tobytes() == want_index.group_start[: groups + 1].tobytes()
    )
    assert index.cell_end.tobytes() == want_index.cell_end.tobytes()
    assert neural.tobytes() == want_neural.tobytes()
    # and the sums are those of a plain loop in row order
    b = ag.genome[:n, G_BRAIN].astype(np.float64)
    assert np.allclose(neural[:, 0] - 0.25, np.bincount(ag.species[:n], b, n_species))
