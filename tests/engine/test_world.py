"""The grid: generated and file maps, initial food, seasons."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from evosim import load_world
from evosim.config.maps import load_map
from evosim.config.schema import FoodConfig, World
from evosim.defaults import FOOD_DTYPE, HABITAT_DTYPE, LAND, WATER
from evosim.engine.world import (
    food_arrays,
    generate_habitat,
    initial_food,
    make_habitat,
    regrowth_rate,
)
from evosim.errors import ConfigError
from tests.helpers import assert_one_line


def components(grid: np.ndarray, value: int) -> int:
    """Number of 4-connected patches of ``value`` on the torus."""
    h, w = grid.shape
    seen = np.zeros_like(grid, bool)
    n = 0
    for sy, sx in zip(*np.nonzero(grid == value)):
        if seen[sy, sx]:
            continue
        n += 1
        q = deque([(sy, sx)])
        seen[sy, sx] = True
        while q:
            y, x = q.popleft()
            for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                yy, xx = (y + dy) % h, (x + dx) % w
                if grid[yy, xx] == value and not seen[yy, xx]:
                    seen[yy, xx] = True
                    q.append((yy, xx))
    return n


@pytest.mark.parametrize("frac", [0.0, 0.1, 0.4, 0.75, 1.0])
def test_generated_land_fraction_is_exact(frac):
    g = generate_habitat(40, 24, frac, 6.0, seed=1)
    assert g.shape == (24, 40) and g.dtype == HABITAT_DTYPE
    assert set(np.unique(g).tolist()) <= {WATER, LAND}
    assert int(g.sum()) == round(frac * 40 * 24)


def test_generated_map_is_seeded():
    a = generate_habitat(64, 64, 0.4, 8.0, seed=3)
    assert np.array_equal(a, generate_habitat(64, 64, 0.4, 8.0, seed=3))
    assert not np.array_equal(a, generate_habitat(64, 64, 0.4, 8.0, seed=4))


def test_smoothness_makes_continents():
    rough = generate_habitat(64, 64, 0.4, 0.0, seed=2)
    smooth = generate_habitat(64, 64, 0.4, 8.0, seed=2)
    assert components(smooth, LAND) * 10 < components(rough, LAND)
    assert components(smooth, LAND) <= 10


def test_text_map(tmp_path):
    p = tmp_path / "map.txt"
    p.write_text("#..1\n\n0#.#\n....\n", encoding="utf-8")  # blank lines are ignored
    g = load_map(p, 4, 3)
    assert g.dtype == HABITAT_DTYPE
    assert g.tolist() == [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 0]]


def test_png_map(tmp_path):
    import matplotlib.image as mpimg

    want = np.zeros((6, 8), np.uint8)
    want[1:4, 2:7] = 1
    img = np.stack([want * 0.9 + 0.05] * 3, axis=2)  # RGB, bright = land
    p = tmp_path / "map.png"
    mpimg.imsave(p, img)
    assert load_map(p, 8, 6).tolist() == want.tolist()
    gray = tmp_path / "gray.png"
    mpimg.imsave(gray, want.astype(float), cmap="gray", vmin=0, vmax=1)
    assert load_map(gray, 8, 6).tolist() == want.tolist()


@pytest.mark.parametrize(
    "text,size,words",
    [
        ("##\n##\n", (3, 2), ["2x2", "3x2", "world.habitat.file"]),  # wrong size
        ("#x\n##\n", (2, 2), ["unknown map characters", "'x'"]),
        ("###\n##\n", (3, 2), ["different lengths"]),
    ],
)
def test_bad_text_maps_are_refused(tmp_path, text, size, words):
    p = tmp_path / "map.txt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_map(p, *size)
    assert_one_line(str(exc.value), str(p), *words)


def test_missing_and_broken_map_files(tmp_path):
    with pytest.raises(ConfigError, match="no such map file"):
        load_map(tmp_path / "nope.txt", 4, 4)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ConfigError, match="not a readable PNG"):
        load_map(bad, 4, 4)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"\xff\xfe##\n")
    with pytest.raises(ConfigError, match="world.habitat.file"):
        load_map(latin, 4, 1)


def test_map_file_is_relative_to_the_world_file(tmp_path):
    sub = tmp_path / "worlds"
    sub.mkdir()
    (sub / "island.txt").write_text("....\n.##.\n.##.\n....\n", encoding="utf-8")
    (sub / "w.yaml").write_text(
        "world:\n  width: 4\n  height: 4\n  habitat:\n    source: file\n    file: island.txt\n",
        encoding="utf-8",
    )
    w = load_world(sub / "w.yaml")
    assert w.world.habitat.file == str((sub / "island.txt").resolve())
    g = make_habitat(w.world, seed=0)
    assert g.sum() == 4 and g[1:3, 1:3].all()


def test_initial_food_and_arrays():
    cfg = FoodConfig.model_validate(
        {
            "land": {"capacity": 10.0, "initial": 0.5, "regrowth": 0.3},
            "water": {"capacity": 4.0, "initial": 1.0, "regrowth": 0.1},
        }
    )
    hab = np.array([[0, 1], [1, 1]], HABITAT_DTYPE)
    f = initial_food(hab, cfg)
    assert f.dtype == FOOD_DTYPE and f.tolist() == [[4.0, 5.0], [5.0, 5.0]]
    cap, rate = food_arrays(cfg)
    assert cap.tolist() == [4.0, 10.0] and rate.tolist() == [0.1, 0.3]


def test_seasons_modulate_regrowth():
    # regrowth rates given explicitly: the class defaults are the default world's
    cfg = FoodConfig.model_validate(
        {
            "season": {"amplitude": 0.5, "period": 4},
            "land": {"regrowth": 0.2},
            "water": {"regrowth": 0.1},
        }
    )
    r = [regrowth_rate(cfg, t) for t in range(5)]
    assert r[0].tolist() == pytest.approx([0.1, 0.2])
    assert r[1].tolist() == pytest.approx([0.15, 0.3])  # high season
    assert r[3].tolist() == pytest.approx([0.05, 0.1])  # low season
    assert r[4].tolist() == pytest.approx(r[0].tolist())
    rates = {"land": {"regrowth": 0.1}, "water": {"regrowth": 0.1}}
    full = FoodConfig.model_validate({"season": {"amplitude": 1.0, "period": 8}, **rates})
    assert regrowth_rate(full, 6).tolist() == pytest.approx(
        [0.0, 0.0], abs=1e-12
    )  # stops, never negative
    assert (regrowth_rate(full, 6) >= 0).all()
    flat = FoodConfig.model_validate({"season": {"amplitude": 0.0}, **rates})
    assert all(regrowth_rate(flat, t).tolist() == [0.1, 0.1] for t in range(0, 1000, 37))
    assert math.isclose(float(regrowth_rate(full, 2)[1]), 0.2)


def test_default_world_grid():
    w = World()
    g = make_habitat(w.world, seed=0)
    assert g.shape == (w.world.height, w.world.width)
    assert abs(g.mean() - w.world.habitat.land_fraction) < 1e-3
