"""The grid: habitat (generated or from a map file) and the easy-food layer."""

from __future__ import annotations

import math

import numpy as np

from evosim.config.maps import load_map
from evosim.config.schema import FoodConfig, HardFoodConfig, PatchConfig, WorldGridConfig
from evosim.defaults import FOOD_DTYPE, HABITAT_DTYPE, LAND

_HABITAT_STREAM = 0x4841_4249  # SeedSequence spawn key for the map generator
_PATCH_STREAM = 0x5041_5443  # mixed into the seed for the food-patch map


def generate_habitat(
    width: int, height: int, land_fraction: float, smoothness: float, seed: int
) -> np.ndarray:
    """Seeded toroidal land/water map.

    White noise is smoothed with a periodic Gaussian kernel of standard
    deviation ``smoothness`` cells (by FFT, so the map wraps seamlessly) and
    the highest ``round(land_fraction * cells)`` cells become land, so the
    land fraction is exact.

    Returns:
        (height, width) uint8 array, 1 = land.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, _HABITAT_STREAM]))
    noise = rng.standard_normal((height, width))
    if smoothness > 0:
        ky = np.fft.fftfreq(height)[:, None]
        kx = np.fft.fftfreq(width)[None, :]
        kernel = np.exp(-2.0 * math.pi**2 * smoothness**2 * (kx**2 + ky**2))
        noise = np.fft.ifft2(np.fft.fft2(noise) * kernel).real
    n_land = int(round(land_fraction * width * height))
    habitat = np.zeros(width * height, HABITAT_DTYPE)
    if n_land > 0:
        ranks = np.argsort(noise.ravel(), kind="stable")
        habitat[ranks[-n_land:]] = LAND
    return habitat.reshape(height, width)


def make_richness(width: int, height: int, cfg: PatchConfig, seed: int) -> np.ndarray:
    """Per-cell capacity multiplier: 1 on the richest ``fraction`` of cells, ``poor`` elsewhere.

    Uses the same periodic smoothed-noise generator as the habitat map, with
    its own random stream, so patches are independent of the coastline.

    Returns:
        (height, width) float32 array.
    """
    if cfg.fraction >= 1.0:
        return np.ones((height, width), np.float32)
    rich = generate_habitat(width, height, cfg.fraction, cfg.scale, seed ^ _PATCH_STREAM)
    return np.where(rich == LAND, 1.0, cfg.poor).astype(np.float32)


def make_habitat(cfg: WorldGridConfig, seed: int) -> np.ndarray:
    """Habitat grid for a world config (generated with ``seed`` or read from its file)."""
    h = cfg.habitat
    if h.source == "file":
        assert h.file is not None  # the schema requires a file for `source: file`
        return load_map(h.file, cfg.width, cfg.height)
    return generate_habitat(cfg.width, cfg.height, h.land_fraction, h.smoothness, seed)


def food_arrays(cfg: FoodConfig | HardFoodConfig) -> tuple[np.ndarray, np.ndarray]:
    """(capacity, base regrowth rate) indexed by habitat (0 water, 1 land)."""
    cap = np.array([cfg.water.capacity, cfg.land.capacity], np.float64)
    rate = np.array([cfg.water.regrowth, cfg.land.regrowth], np.float64)
    return cap, rate


def initial_food(habitat: np.ndarray, cfg: FoodConfig | HardFoodConfig) -> np.ndarray:
    """Food at tick 0: ``initial`` x capacity per habitat."""
    start = np.array(
        [cfg.water.initial * cfg.water.capacity, cfg.land.initial * cfg.land.capacity], np.float64
    )
    return start[habitat].astype(FOOD_DTYPE)


def regrowth_rate(cfg: FoodConfig, tick: int, base: np.ndarray | None = None) -> np.ndarray:
    """Regrowth rate per habitat at ``tick``: ``r * (1 + A sin(2 pi t / P))``, at least 0.

    ``base``: the rates r per habitat if already at hand (``food_arrays(cfg)[1]``).
    """
    rate = food_arrays(cfg)[1] if base is None else base
    s = cfg.season
    factor = 1.0 + s.amplitude * math.sin(2.0 * math.pi * tick / s.period) if s.amplitude else 1.0
    return np.maximum(rate * factor, 0.0)
