"""The vector rays (kernels/rays.py) against the scalar loop they replace, bit for bit."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest

from evosim.engine.kernels.conf import JIT
from evosim.engine.kernels.rays import rays8


@nb.njit(**JIT)
def scalar_rays(fp, b, offs, r, e_water, e_land, sd, seen):
    """The former loop of sense_and_move: 8 running maxima, one distance at a time."""
    out = np.empty(8)
    for d in range(8):
        out[d] = seen[d]
    disc = sd
    for k in range(2, r + 1):
        for d in range(8):
            v = fp[b + k * offs[d]]
            out[d] = max(out[d], abs(v) * (e_land if v >= 0.0 else e_water) * disc)
        disc *= sd
    return out


@nb.njit(**JIT)
def vector_rays(fp, b, offs, r, e_water, e_land, sd, seen):
    o = (offs[0], offs[1], offs[2], offs[3], offs[4], offs[5], offs[6], offs[7])
    s = (seen[0], seen[1], seen[2], seen[3], seen[4], seen[5], seen[6], seen[7])
    t = rays8(fp, b, o, r, e_water, e_land, sd, s)
    out = np.empty(8)
    for d in range(8):
        out[d] = t[d]
    return out


@pytest.mark.parametrize("r", [0, 1, 2, 3, 6])
def test_rays8_equals_the_scalar_loop(r):
    rng = np.random.default_rng(r)
    side = 2 * 6 + 5
    stride = side
    for _ in range(200):
        grid = rng.choice([0.0, -0.0, 0.25, -0.25, 3.0, -7.5, 1e-30], (side, side))
        grid = (grid * rng.random((side, side))).astype(np.float32)  # food signed by habitat
        fp = grid.ravel()
        b = (side // 2) * stride + side // 2
        offs = np.array([1, stride + 1, stride, stride - 1, -1, -stride - 1, -stride, -stride + 1])
        e_water, e_land = rng.choice([0.0, 0.1, 0.7, 1.0, -0.2], 2)
        sd = rng.choice([0.5, 0.9, 1.0, 0.3333])
        seen = rng.choice([0.0, -0.0, 0.2, 5.0, -1.0], 8)
        want = scalar_rays(fp, b, offs, r, e_water, e_land, sd, seen)
        got = vector_rays(fp, b, offs, r, e_water, e_land, sd, seen)
        assert got.tobytes() == want.tobytes()


def test_rays8_refuses_a_float64_grid():
    with pytest.raises(nb.core.errors.TypingError, match="float32 grid"):
        vector_rays(np.zeros(100), 50, np.ones(8, np.int64), 2, 1.0, 1.0, 0.9, np.zeros(8))
