"""Movement: the padded torus, sensing and moving, following parents, random walk."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import FOOD_DTYPE, HABITAT_DTYPE, LAND, WATER
from evosim.engine import state as st
from evosim.engine.kernels import move
from tests.helpers import Agents, params

DIRS = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dx, dy) != (0, 0)]


def sense(ag: Agents, food, habitat, p, seed=1, tick=0):
    """Run sense_and_move on padded copies of ``habitat`` and of ``food`` signed by habitat (as perception reads it)."""
    halo = int(max(p.radius_min, p.radius_max))
    h, w = food.shape
    fp = np.zeros((h + 2 * halo, w + 2 * halo), FOOD_DTYPE)
    hp = np.zeros((h + 2 * halo, w + 2 * halo), HABITAT_DTYPE)
    signed = np.where(np.asarray(habitat) == LAND, food, -np.asarray(food, FOOD_DTYPE))
    move.pad_torus(np.asarray(signed, FOOD_DTYPE), fp, halo)
    move.pad_torus(np.asarray(habitat, HABITAT_DTYPE), hp, halo)
    census = np.full(fp.shape, -1, np.int64)  # no census: no aggregation
    cells = grids(np.asarray(habitat, HABITAT_DTYPE), sight_pad=fp, habitat_pad=hp)
    cells = cells._replace(census_pad=census, halo=halo)
    move.sense_and_move(agents(ag), ag.n, cells, st.Clock(seed, tick), p)


def agents(ag: Agents) -> st.Agents:
    """The test's agent arrays as the kernels take them."""
    return st.Agents(**{f: ag.a[f] for f in st.Agents._fields})


def grids(habitat, **pads) -> st.Cells:
    """Cells of which the kernels here read ``habitat`` and the given padded grids."""
    f32 = np.zeros(habitat.shape, np.float32)
    none = np.zeros(2)
    return st.Cells(
        habitat, f32, f32, f32, f32, none, none, none, **pads,
        census_pad=None, census_cells=None, census_n=None, halo=0,
    )  # fmt: skip


def land(h, w):
    return np.full((h, w), LAND, HABITAT_DTYPE)


def test_pad_torus_wraps():
    g = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = np.full((3 + 4, 4 + 4), -1, np.float32)
    move.pad_torus(g, out, 2)
    for yy in range(7):
        for xx in range(8):
            assert out[yy, xx] == g[(yy - 2) % 3, (xx - 2) % 4]


@pytest.mark.parametrize(
    "shape,halo", [((3, 4), 2), ((5, 7), 3), ((2, 3), 5), ((1, 1), 2), ((4, 4), 0)]
)
def test_refresh_halo_equals_a_full_pad(shape, halo):
    """Rewriting only the halo of a padded grid gives what padding the interior from scratch gives."""
    g = np.random.default_rng(1).random(shape).astype(np.float32)
    full = np.zeros((shape[0] + 2 * halo, shape[1] + 2 * halo), np.float32)
    move.pad_torus(g, full, halo)
    part = np.full_like(full, -1.0)
    part[halo : halo + shape[0], halo : halo + shape[1]] = g
    move.refresh_halo(part, halo)
    assert np.array_equal(part, full)


@pytest.mark.parametrize("dx,dy", DIRS)
@pytest.mark.parametrize(
    "start", [(2, 2), (0, 0), (4, 4)]
)  # the middle and both corners (wrap-around)
def test_noise_free_agent_steps_to_the_food_rich_neighbour(dx, dy, start):
    p = params(move_noise=0.0, radius_min=1, radius_max=1, move_cost=0.25)
    ag = Agents(1, x=start[0], y=start[1], energy=10.0, genome=1.0)  # terrestrial, on land
    food = np.zeros((5, 5), FOOD_DTYPE)
    tx, ty = (start[0] + dx) % 5, (start[1] + dy) % 5
    food[ty, tx] = 5.0
    food[(start[1] - dy) % 5, (start[0] - dx) % 5] = 3.0  # a poorer option opposite
    sense(ag, food, land(5, 5), p)
    assert (ag.x[0], ag.y[0]) == (tx, ty)
    assert ag.energy[0] == pytest.approx(10.0 - 0.25)


def test_staying_is_free_when_the_own_cell_is_best():
    p = params(move_noise=0.0, radius_min=1, radius_max=1)
    ag = Agents(1, x=2, y=2, energy=10.0, genome=1.0)
    food = np.full((5, 5), 5.0, FOOD_DTYPE)
    food[2, 2] = 6.0
    sense(ag, food, land(5, 5), p)
    assert (ag.x[0], ag.y[0]) == (2, 2) and ag.energy[0] == 10.0


def test_perception_radius_and_sight_discount():
    # food 5 two cells east (seen as 5 * 0.8 = 4.0) versus 4.5 on the northern neighbour
    food = np.zeros((9, 9), FOOD_DTYPE)
    food[4, 6] = 5.0
    food[3, 4] = 4.5
    far = params(move_noise=0.0, radius_min=2, radius_max=2, sight_discount=0.8)
    ag = Agents(1, x=4, y=4, genome=1.0)
    sense(ag, food, land(9, 9), far)
    assert (ag.x[0], ag.y[0]) == (4, 3)
    food[4, 6] = 6.0  # now seen as 4.8 > 4.5: step east, toward it
    ag = Agents(1, x=4, y=4, genome=1.0)
    sense(ag, food, land(9, 9), far)
    assert (ag.x[0], ag.y[0]) == (5, 4)
    near = params(move_noise=0.0, radius_min=1, radius_max=1)  # cannot see two cells away
    ag = Agents(1, x=4, y=4, genome=1.0)
    sense(ag, food, land(9, 9), near)
    assert (ag.x[0], ag.y[0]) == (4, 3)


def test_brain_gene_sets_the_radius():
    food = np.zeros((15, 15), FOOD_DTYPE)
    food[7, 12] = 9.0  # five cells east
    p = params(move_noise=0.0, radius_min=1, radius_max=6, sight_discount=1.0)
    ag = Agents(2, x=7, y=7, genome=1.0)
    ag.set_gene("brain", [0.0, 1.0])  # radius 1 and radius 6
    sense(ag, food, land(15, 15), p)
    assert (ag.x[0], ag.y[0]) == (7, 7)
    assert (ag.x[1], ag.y[1]) == (8, 7)


def test_step_into_mismatched_habitat_costs_more():
    p = params(
        move_noise=0.0,
        radius_min=1,
        radius_max=1,
        move_cost=0.1,
        habitat_move_cost=2.0,
        habitat_mismatch=0.5,
    )
    hab = land(5, 5)
    hab[2, 3] = WATER
    food = np.zeros((5, 5), FOOD_DTYPE)
    food[2, 3] = 8.0  # scored 8 * efficiency 0.5 = 4 > 0
    ag = Agents(1, x=2, y=2, energy=10.0, genome=1.0)
    sense(ag, food, hab, p)
    assert (ag.x[0], ag.y[0]) == (3, 2)
    assert ag.energy[0] == pytest.approx(10.0 - 0.1 * (1 + 2.0 * 1.0))


def test_aquatic_agent_never_steps_on_land():
    """Habitat gene 0 with mismatch 1: land is worth nothing, whatever the food and the noise."""
    rng = np.random.default_rng(3)
    h, w = 24, 24
    hab = (rng.random((h, w)) < 0.6).astype(HABITAT_DTYPE)  # mostly land, ragged coasts
    water = np.argwhere(hab == WATER)
    n = 400
    pick = water[rng.integers(0, len(water), n)]
    ag = Agents(n, x=pick[:, 1], y=pick[:, 0], energy=50.0, genome=0.5)
    ag.set_gene("habitat", 0.0)
    ag.set_gene("brain", np.linspace(0, 1, n))
    p = params(habitat_mismatch=1.0, move_noise=1.0)
    moved = 0
    for tick in range(40):
        food = (rng.random((h, w)) * 10).astype(FOOD_DTYPE)
        food[hab == LAND] *= 100  # land is far richer
        before = ag.x[:n].copy(), ag.y[:n].copy()
        sense(ag, food, hab, p, tick=tick)
        moved += int(((ag.x[:n] != before[0]) | (ag.y[:n] != before[1])).sum())
        assert (hab[ag.y[:n], ag.x[:n]] == WATER).all()
    assert moved > n  # they do move, within the water


def test_dependants_do_not_choose_a_move():
    p = params(move_noise=0.0, radius_min=1, radius_max=1)
    food = np.zeros((5, 5), FOOD_DTYPE)
    food[2, 3] = 5.0
    ag = Agents(2, x=2, y=2, genome=1.0)
    ag.guardian[1] = 0
    sense(ag, food, land(5, 5), p)
    assert (ag.x[0], ag.y[0]) == (3, 2)
    assert (ag.x[1], ag.y[1]) == (2, 2)


def test_noise_spreads_choices_over_all_options_when_food_is_flat():
    n = 9000
    p = params(move_noise=1.0)
    ag = Agents(n, x=5, y=5, genome=1.0)
    sense(ag, np.zeros((11, 11), FOOD_DTYPE), land(11, 11), p, seed=4, tick=2)
    d = (ag.x[:n] - 5) + 3 * (ag.y[:n] - 5) + 4
    counts = np.bincount(d, minlength=9)
    # ties on the 7-bit noise go to the earlier option, so shares are near (not exactly) 1/9
    assert counts.min() > 0.7 * n / 9 and counts.max() < 1.3 * n / 9
    # the same key gives the same moves; another tick gives other moves
    ag2 = Agents(n, x=5, y=5, genome=1.0)
    sense(ag2, np.zeros((11, 11), FOOD_DTYPE), land(11, 11), p, seed=4, tick=2)
    assert np.array_equal(ag.x, ag2.x) and np.array_equal(ag.y, ag2.y)
    ag3 = Agents(n, x=5, y=5, genome=1.0)
    sense(ag3, np.zeros((11, 11), FOOD_DTYPE), land(11, 11), p, seed=4, tick=3)
    assert not np.array_equal(ag.x, ag3.x)


def test_follow_guardians_takes_the_short_way_round_the_torus():
    p = params(move_cost=0.5, habitat_move_cost=0.0)
    # rows: 0 parent at (0,0); 1 child at (4,4) -> wraps to (0,0); 2 child at (2,0) -> (1,0);
    # 3 child on the parent's cell
    ag = Agents(4, x=[0, 4, 2, 0], y=[0, 4, 0, 0], energy=10.0, genome=1.0)
    ag.guardian[1:4] = 0
    empty = np.zeros((1, 1), np.uint8)
    move.follow_guardians(
        agents(ag), ag.n, grids(land(5, 5), sight_pad=empty, habitat_pad=empty), p
    )
    assert list(zip(ag.x[:4].tolist(), ag.y[:4].tolist())) == [(0, 0), (0, 0), (1, 0), (0, 0)]
    assert ag.energy[:4].tolist() == [10.0, 9.5, 9.5, 10.0]
