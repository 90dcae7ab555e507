"""The minimal forager's own kernels (benchmarks/evosim_forager.py, the peer of the Mesa model)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from evosim.defaults import FOOD_DTYPE
from tests.helpers import Agents, cell_groups

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from evosim_forager import forage_simple, random_walk  # noqa: E402


def test_forage_simple_equal_shares():
    ag = Agents(4, x=[0, 0, 0, 1], energy=0.0)
    food = np.array([[3.0, 10.0]], FOOD_DTYPE)
    g = cell_groups(ag.x, ag.y, 2, 1, ag.n)
    forage_simple(g["order"], g["group_start"], g["n_groups"], ag.x, ag.y, ag.energy, food, 2.0)
    assert ag.energy[:4].tolist() == pytest.approx([1.0, 1.0, 1.0, 2.0])
    assert food.tolist() == [[0.0, 8.0]]


def test_random_walk_stays_within_one_cell_on_the_torus():
    h, w, n = 5, 7, 3000
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, w, n).astype(np.int32)
    y0 = rng.integers(0, h, n).astype(np.int32)
    x0[:4] = [0, w - 1, 0, w - 1]
    y0[:4] = [0, 0, h - 1, h - 1]
    ids = np.arange(n, dtype=np.int64)
    x, y = x0.copy(), y0.copy()
    random_walk(x, y, ids, n, h, w, 9, 1)
    assert ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all()
    dx = (x - x0 + 1) % w - 1  # torus displacement in {-1, 0, 1}
    dy = (y - y0 + 1) % h - 1
    assert set(dx.tolist()) == {-1, 0, 1} and set(dy.tolist()) == {-1, 0, 1}
    assert np.array_equal((x - x0) % w, dx % w) and np.array_equal((y - y0) % h, dy % h)
    counts = np.bincount((dx + 1) * 3 + (dy + 1), minlength=9)
    assert counts.min() > 0.8 * n / 9  # all nine options, about equally
    x2, y2 = x0.copy(), y0.copy()
    random_walk(x2, y2, ids, n, h, w, 9, 1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
