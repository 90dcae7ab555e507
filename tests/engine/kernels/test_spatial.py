"""Spatial index: counting sort of agents by cell (the census is foraging's: test_forage.py)."""

from __future__ import annotations

import numpy as np

from tests.helpers import cell_groups


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
