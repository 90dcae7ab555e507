"""Colours: species palette, value colour maps and the map background.

Everything here works on whole arrays (lookup tables indexed by arrays), never
agent by agent.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np
import pygame

#: Distinct, bright species colours that stand out on both water and land.
_BASE_PALETTE = [
    (255, 140, 20),   # orange
    (255, 70, 200),   # magenta
    (255, 240, 60),   # yellow
    (60, 230, 255),   # cyan
    (255, 60, 60),    # red
    (245, 245, 245),  # white
    (170, 120, 255),  # violet
    (140, 255, 110),  # light green
    (255, 175, 175),  # pink
    (0, 160, 255),    # azure
    (200, 255, 0),    # lime
    (255, 205, 130),  # sand
]  # fmt: skip


def species_palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours for species ids ``0 .. n-1``; the same id always gets the same colour.

    The first 12 come from a hand-picked palette; later ids get golden-ratio hues.
    The result is cached and read-only.
    """
    return _palette(max(int(n), 1))


@lru_cache(maxsize=8)
def _palette(n: int) -> np.ndarray:
    out = np.zeros((n, 3), np.uint8)
    base = np.array(_BASE_PALETTE, np.uint8)
    m = min(n, len(base))
    out[:m] = base[:m]
    for i in range(m, n):  # one per species, not per agent
        h = (i * 0.618033988749895) % 1.0
        s = 0.55 + 0.4 * ((i * 7) % 5) / 4
        r, g, b = colorsys.hsv_to_rgb(h, s, 1.0)
        out[i] = (int(r * 255), int(g * 255), int(b * 255))
    out.flags.writeable = False
    return out


def _lut(anchors: list[tuple[int, int, int]]) -> np.ndarray:
    """256-entry RGB table interpolating evenly spaced ``anchors``."""
    a = np.array(anchors, np.float64)
    xs = np.linspace(0.0, 1.0, len(a))
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, xs, a[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


#: Perceptual colour maps (approximations of matplotlib's viridis / plasma).
VIRIDIS = _lut(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ]
)
PLASMA = _lut(
    [
        (13, 8, 135),
        (84, 2, 163),
        (139, 10, 165),
        (185, 50, 137),
        (219, 92, 104),
        (244, 136, 73),
        (254, 188, 43),
        (240, 249, 33),
    ]
)
#: Milestone levels 0 (none) .. 8: grey, then warm steps.
MILESTONE_COLORS = np.array(
    [(120, 120, 120), (230, 230, 90), (255, 150, 40), (255, 80, 40), (120, 255, 120),
     (80, 200, 255), (200, 120, 255), (255, 255, 255), (255, 0, 160)], np.uint8)  # fmt: skip
#: Food layer background: water (dark to bright cyan) and land (dark to bright yellow-green).
FOOD_WATER = _lut([(5, 10, 30), (20, 60, 120), (60, 200, 255)])
FOOD_LAND = _lut([(25, 15, 5), (110, 100, 20), (200, 255, 60)])
#: Species layer background (muted, so agents stand out).
BG_WATER = _lut([(8, 16, 40), (20, 50, 95)])
BG_LAND = _lut([(48, 40, 26), (38, 88, 42)])
#: Outside the world (when the whole world fits with room to spare).
VOID = (12, 12, 14)


def rgb(color: np.ndarray) -> tuple[int, int, int]:
    """One colour row (3 numbers) as the ``(r, g, b)`` tuple of ints that pygame takes."""
    return int(color[0]), int(color[1]), int(color[2])


def lut_index(values: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Index 0..255 into a 256-entry table for values in ``[lo, hi]`` (NaN -> 0)."""
    v = np.asarray(values, np.float32)
    span = hi - lo if hi > lo else 1.0
    idx = np.nan_to_num((v - lo) * np.float32(255.0 / span), nan=0.0)
    return np.clip(idx, 0, 255).astype(np.uint8)


def mapped(surface: pygame.Surface, rgb: np.ndarray) -> np.ndarray:
    """RGB triples (..., 3) uint8 as ``surface``'s mapped pixel integers (uint32), like ``Surface.map_rgb``.

    ``pygame.surfarray.map_array`` (int32, which needs at least one colour axis) seen as the
    uint32 of ``pygame.surfarray.pixels2d``.
    """
    rgb = np.asarray(rgb)
    return (
        pygame.surfarray.map_array(surface, rgb.reshape(-1, 3))
        .view(np.uint32)
        .reshape(rgb.shape[:-1])
    )


def background_mapped(
    surface, habitat: np.ndarray, food_fraction: np.ndarray, food_layer: bool = False
) -> np.ndarray:
    """Map colours as (H, W) mapped pixel integers of ``surface``: habitat tinted by food.

    Muted tints, or vivid ones on the food layer; one gather through a 512-entry table.
    """
    water, land = (FOOD_WATER, FOOD_LAND) if food_layer else (BG_WATER, BG_LAND)
    table = mapped(surface, np.concatenate([water, land]))
    idx = (np.asarray(food_fraction, np.float32) * 255.0).astype(np.uint16)
    idx += np.asarray(habitat, np.uint16) << 8
    return table[idx]


def dim(colors: np.ndarray, factor: float = 0.45) -> np.ndarray:
    """Darker copies of ``colors`` (for agents outside the selected species)."""
    return (colors.astype(np.float32) * factor).astype(np.uint8)
