"""Spatial index: counting sort of agents by cell, and census."""

from __future__ import annotations

import numpy as np

from evosim.engine.kernels import spatial
from tests.helpers import call, cell_groups


def index(x, y, width, height, n=None, capacity=None):
    """(groups, order, group_start) of cell_index, on scratch pre-filled with junk (the kernel must reset it)."""
    g = cell_groups(x, y, width, height, n, capacity)
    return g["n_groups"], g["order"], g["group_start"]


def test_cell_index_hand_checked():
    #        agent: 0  1  2  3  4
    x = [2, 0, 2, 1, 0]
    y = [1, 0, 1, 0, 0]  # cells (width 3): 5, 0, 5, 1, 0
    g, order, starts = index(x, y, width=3, height=2)
    assert g == 3
    assert order[:5].tolist() == [1, 4, 3, 0, 2]  # by cell, then by index (stable)
    assert starts[: g + 1].tolist() == [0, 2, 3, 5]


def test_cell_index_ignores_rows_beyond_n_and_handles_no_agents():
    g, order, starts = index([1, 0, 3, 3], [0, 0, 0, 0], width=4, height=1, n=2)
    assert g == 2 and order[:2].tolist() == [1, 0] and starts[:3].tolist() == [0, 1, 2]
    g, _, starts = index([], [], width=4, height=4, capacity=1)
    assert g == 0 and starts[0] == 0


def test_cell_index_matches_a_stable_argsort():
    rng = np.random.default_rng(5)
    width, height, n = 13, 7, 500
    x = rng.integers(0, width, n)
    y = rng.integers(0, height, n)
    g, order, starts = index(x, y, width, height)
    cell = y * width + x
    ref = np.argsort(cell, kind="stable")
    assert np.array_equal(order[:n], ref)
    sc = cell[ref]
    ref_starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    assert g == len(np.unique(cell)) == len(ref_starts)
    assert np.array_equal(starts[:g], ref_starts) and starts[g] == n
    for k in range(g):  # every group is one cell
        members = order[starts[k] : starts[k + 1]]
        assert len(set(cell[members].tolist())) == 1


def test_census_majority_species_ties_to_lowest_id():
    """Census code per cell: species * 65536 + count of its majority species (ties: lowest id); -1 where empty."""
    # cell (0,0): species 2,1,2,1 (tie -> 1); cell (1,0): 0,3,3 (-> 3); cell (2,1): one of species 4
    x = [0, 0, 0, 0, 1, 1, 1, 2]
    y = [0, 0, 0, 0, 0, 0, 0, 1]
    sp = np.array([2, 1, 2, 1, 0, 3, 3, 4], np.int32)
    g, order, starts = index(x, y, width=3, height=2)
    code = np.full((2, 3), 5, np.int64)
    written = np.zeros(8, np.int64)
    k = call(
        spatial.census,
        order=order,
        group_start=starts,
        n_groups=g,
        species=sp,
        x=np.array(x, np.int32),
        y=np.array(y, np.int32),
        code=code,
        halo=0,
        written=written,
        n_written=-1,
    )
    assert code.tolist() == [[1 * 65536 + 2, 3 * 65536 + 2, -1], [-1, -1, 4 * 65536 + 1]]
    assert k == 3 and sorted(written[:k].tolist()) == [0, 1, 5]


def test_census_clears_only_what_it_wrote_and_writes_the_interior_of_a_padded_grid():
    halo = 2
    code = np.full((2 + 2 * halo, 3 + 2 * halo), -1, np.int64)
    written = np.zeros(8, np.int64)
    g, order, starts = index([0, 2], [0, 1], width=3, height=2)
    sp = np.array([1, 2], np.int32)
    k = call(
        spatial.census,
        order=order,
        group_start=starts,
        n_groups=g,
        species=sp,
        x=np.array([0, 2], np.int32),
        y=np.array([0, 1], np.int32),
        code=code,
        halo=halo,
        written=written,
        n_written=-1,
    )
    inner = code[halo:-halo, halo:-halo]
    assert inner.tolist() == [[65537, -1, -1], [-1, -1, 2 * 65536 + 1]]
    code[0, 0] = 99  # a halo cell: not the census's business
    g, order, starts = index([1], [1], width=3, height=2)  # next tick: one agent elsewhere
    call(
        spatial.census,
        order=order,
        group_start=starts,
        n_groups=g,
        species=sp[:1],
        x=np.array([1], np.int32),
        y=np.array([1], np.int32),
        code=code,
        halo=halo,
        written=written,
        n_written=k,
    )
    assert inner.tolist() == [[-1, -1, -1], [-1, 65537, -1]]
    assert code[0, 0] == 99
