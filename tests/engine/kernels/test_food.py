"""Food regrowth: logistic per cell with a floor, capacity and rate by habitat."""

from __future__ import annotations

import numpy as np
import pytest

from evosim.defaults import FOOD_DTYPE, HABITAT_DTYPE
from evosim.engine.kernels.food import regrow as _regrow
from tests.helpers import call

CAP = np.array([8.0, 10.0])  # water, land
RATE = np.array([0.1, 0.2])


def regrow(food, habitat, capacity, rate, floor, bonus=None, richness=None):
    """The regrowth kernel with no per-cell bonus and uniform richness unless given."""
    bonus = np.zeros(food.shape, np.float32) if bonus is None else bonus
    richness = np.ones(food.shape, np.float32) if richness is None else richness
    return call(
        _regrow,
        food=food,
        habitat=habitat,
        capacity=capacity,
        richness=richness,
        rate=rate,
        floor=floor,
        bonus=bonus,
    )


def grid(rows, dtype=FOOD_DTYPE):
    return np.array(rows, dtype)


def test_regrow_2x2_hand_checked():
    food = grid([[0.0, 5.0], [10.0, 2.0]])
    habitat = grid([[1, 1], [0, 0]], HABITAT_DTYPE)
    before = food.astype(np.float64).copy()
    total = regrow(food, habitat, CAP, RATE, 0.5)
    expected = np.array(
        [
            [
                0.0 + 0.2 * 0.5 * (1 - 0.0 / 10),
                5.0 + 0.2 * 5.0 * (1 - 5.0 / 10),
            ],  # empty land cell uses the floor
            [8.0, 2.0 + 0.1 * 2.0 * (1 - 2.0 / 8)],  # above capacity: clipped to K = 8
        ]
    )
    assert food.dtype == FOOD_DTYPE
    np.testing.assert_array_equal(food, expected.astype(np.float32))
    assert food.ravel().tolist() == pytest.approx([0.1, 5.5, 8.0, 2.15])
    # the return value is the food added, summed from the stored float32 values
    assert total == pytest.approx(float((food.astype(np.float64) - before).sum()), abs=1e-12)
    assert total == pytest.approx(0.1 + 0.5 - 2.0 + 0.15, abs=1e-6)


def test_full_cells_and_zero_rate_do_not_change():
    habitat = grid([[0, 1], [1, 0]], HABITAT_DTYPE)
    food = grid([[8.0, 10.0], [10.0, 8.0]])
    assert regrow(food, habitat, CAP, RATE, 0.5) == 0.0
    np.testing.assert_array_equal(food, [[8, 10], [10, 8]])
    food = grid([[1.0, 2.0], [0.0, 3.0]])
    assert regrow(food, habitat, CAP, np.zeros(2), 0.5) == 0.0
    np.testing.assert_array_equal(food, [[1, 2], [0, 3]])


def test_floor_zero_keeps_empty_cells_empty():
    habitat = np.ones((3, 3), HABITAT_DTYPE)
    food = np.zeros((3, 3), FOOD_DTYPE)
    assert regrow(food, habitat, CAP, RATE, 0.0) == 0.0
    assert not food.any()


def test_logistic_converges_to_capacity_and_never_overshoots():
    habitat = np.array([[0, 1, 1, 0]], HABITAT_DTYPE)
    food = np.array([[0.0, 0.0, 3.0, 7.9]], FOOD_DTYPE)
    rate = np.array([1.0, 1.0])  # the fastest allowed rate
    prev = food.copy()
    for _ in range(200):
        regrow(food, habitat, CAP, rate, 0.5)
        assert (food >= prev).all()  # below capacity food only grows
        assert (food <= CAP[habitat]).all()
        prev = food.copy()
    np.testing.assert_allclose(food, CAP[habitat].astype(np.float32), rtol=1e-6)


def test_large_grid_total_matches_sum_of_changes():
    rng = np.random.default_rng(1)
    habitat = (rng.random((64, 48)) < 0.4).astype(HABITAT_DTYPE)
    food = (rng.random((64, 48)) * CAP[habitat]).astype(FOOD_DTYPE)
    before = food.astype(np.float64)
    total = regrow(food, habitat, CAP, RATE, 0.5)
    assert total == pytest.approx(
        float((food.astype(np.float64) - before).sum()), rel=1e-12, abs=1e-9
    )
    assert total > 0


def test_per_cell_bonus_speeds_regrowth():
    """Agriculture: a cell's rate is multiplied by 1 + bonus."""
    habitat = grid([[1, 1]], HABITAT_DTYPE)
    food = grid([[5.0, 5.0]])
    bonus = np.array([[0.0, 0.5]], np.float32)
    regrow(food, habitat, CAP, RATE, 0.5, bonus)
    assert food.ravel().tolist() == pytest.approx([5.0 + 0.2 * 5 * 0.5, 5.0 + 0.3 * 5 * 0.5])


def test_richness_scales_the_capacity_of_a_cell():
    food = grid([[10.0, 10.0]])
    habitat = grid([[1, 1]], HABITAT_DTYPE)
    regrow(food, habitat, CAP, RATE, 0.5, richness=np.array([[1.0, 0.2]], np.float32))
    assert food[0, 0] == 10.0 and food[0, 1] == pytest.approx(2.0)


def test_patch_map_has_the_requested_rich_share():
    from evosim.config.schema import PatchConfig
    from evosim.engine.world import make_richness

    r = make_richness(64, 32, PatchConfig(fraction=0.25, poor=0.1, scale=2.0), seed=3)
    assert r.shape == (32, 64) and set(np.unique(r)) == {np.float32(0.1), np.float32(1.0)}
    assert (r == 1.0).mean() == pytest.approx(0.25, abs=1 / (64 * 32))
    assert (make_richness(8, 8, PatchConfig(), seed=3) == 1.0).all()


@pytest.mark.parametrize("halo", [0, 3])
def test_regrow_layers_equals_regrow_per_layer_and_clears_the_bonus(halo):
    """The fused two-layer kernel gives, bit for bit, what the single-layer kernel gives per layer."""
    from evosim.engine.kernels.food import regrow_layers

    rng = np.random.default_rng(5)
    shape = (37, 29)
    habitat = (rng.random(shape) < 0.5).astype(HABITAT_DTYPE)
    richness = np.where(rng.random(shape) < 0.3, 1.0, 0.2).astype(np.float32)
    bonus = np.where(rng.random(shape) < 0.1, 1.0, 0.0).astype(np.float32)
    food = (rng.random(shape) * CAP[habitat] * richness * 1.1).astype(FOOD_DTYPE)
    food[0, :5] = 0.0
    hard_cap, hard_rate = np.array([20.0, 15.0]), np.array([0.02, 0.05])
    hard = (rng.random(shape) * 16.0).astype(FOOD_DTYPE)
    want_food, want_hard = food.copy(), hard.copy()
    regrow(want_food, habitat, CAP, RATE, 0.5, bonus=bonus, richness=richness)
    regrow(want_hard, habitat, hard_cap, hard_rate, 0.3)
    sight = np.full((shape[0] + 2 * halo, shape[1] + 2 * halo), -7.0, FOOD_DTYPE)
    call(
        regrow_layers,
        food=food,
        sight_pad=sight,
        halo=halo,
        hard=hard,
        habitat=habitat,
        richness=richness,
        bonus=bonus,
        capacity=CAP,
        rate=RATE,
        floor=0.5,
        hard_capacity=hard_cap,
        hard_rate=hard_rate,
        hard_floor=0.3,
    )
    np.testing.assert_array_equal(food, want_food)
    inner = sight[halo : halo + shape[0], halo : halo + shape[1]]
    np.testing.assert_array_equal(
        inner, np.where(habitat == 1, want_food, -want_food)
    )  # signed by habitat
    assert (np.signbit(inner) == (habitat == 0)).all()  # even an empty water cell is -0.0
    np.testing.assert_array_equal(hard, want_hard)
    assert not bonus.any()  # used up
    if halo:
        assert (sight[:halo] == -7.0).all() and (
            sight[:, :halo] == -7.0
        ).all()  # the halo is not the kernel's business
