"""Habitat maps from files: PNG (bright = land) or text ('#'/'1' land, '.'/'0' water).

The loader validates a map while the world file is read (so a bad map is
refused like any bad value) and the engine reads it again when it builds the
grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evosim.defaults import HABITAT_DTYPE, LAND, WATER
from evosim.errors import ConfigError


def load_map(path: str | Path, width: int, height: int) -> np.ndarray:
    """Read a habitat map from a PNG (bright = land) or a text file ('#'/'1' land, '.'/'0' water).

    Raises:
        ConfigError: unreadable file, unknown characters, or a size other than
            width x height.
    """
    p = Path(path)
    key = "world.habitat.file"
    if not p.is_file():
        raise ConfigError(f"{p}: {key}: no such map file")
    if p.suffix.lower() == ".png":
        import matplotlib.image as mpimg

        try:
            img = np.asarray(mpimg.imread(p), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
            raise ConfigError(f"{p}: {key}: not a readable PNG ({exc})") from None
        if img.ndim == 3:
            img = img[..., :3].mean(axis=2)
        if img.max() > 1.0:
            img = img / 255.0
        grid = (img > 0.5).astype(HABITAT_DTYPE)
    else:
        try:
            lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p}: {key}: cannot read the map ({exc})") from None
        table = {"#": LAND, "1": LAND, ".": WATER, "0": WATER}
        bad = sorted({c for ln in lines for c in ln if c not in table})
        if bad:
            raise ConfigError(
                f"{p}: {key}: unknown map characters {bad}; use '#' or '1' for land, '.' or '0' for water"
            )
        if len({len(ln) for ln in lines}) > 1:
            raise ConfigError(f"{p}: {key}: map rows have different lengths")
        grid = np.array([[table[c] for c in ln] for ln in lines], HABITAT_DTYPE).reshape(
            len(lines), -1
        )
    if grid.shape != (height, width):
        raise ConfigError(
            f"{p}: {key}: the map is {grid.shape[1]}x{grid.shape[0]} but world.width x world.height is {width}x{height}"
        )
    return grid
