"""Habitat maps from files: PNG (bright = land) or text ('#'/'1' land, '.'/'0' water).

The loader validates a map while the world file is read (so a bad map is
refused like any bad value) and the engine reads it again when it builds the
grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evosim.config.base import ConfigProblem
from evosim.defaults import HABITAT_DTYPE, LAND, WATER

#: The key path of a map file in a world.
MAP_KEY = ("world", "habitat", "file")


def load_map(path: str | Path, width: int, height: int, name: str | None = None) -> np.ndarray:
    """Read a habitat map from a PNG (bright = land) or a text file ('#'/'1' land, '.'/'0' water).

    Args:
        path: the map file.
        width, height: the size the map must have (``world.width`` x ``world.height``).
        name: the file as messages name it (default ``path``), e.g. as the world file gives it
            and where it resolved to.

    Raises:
        ConfigProblem: at ``world.habitat.file``: a missing or unreadable file, unknown
            characters, or a size other than width x height.
    """
    p = Path(path)
    name = str(p) if name is None else name
    if not p.is_file():
        raise ConfigProblem(MAP_KEY, f"no such map file {name}")
    if p.suffix.lower() == ".png":
        import matplotlib.image as mpimg

        try:
            img = np.asarray(mpimg.imread(p), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
            raise ConfigProblem(MAP_KEY, f"the map {name} is not a readable PNG ({exc})") from None
        if img.ndim == 3:
            img = img[..., :3].mean(axis=2)
        if img.max() > 1.0:
            img = img / 255.0
        grid = (img > 0.5).astype(HABITAT_DTYPE)
    else:
        try:
            lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigProblem(MAP_KEY, f"cannot read the map {name} ({exc})") from None
        if not lines:
            raise ConfigProblem(
                MAP_KEY, f"the map {name} is empty (no rows of '#', '1', '.' or '0')"
            )
        table = {"#": LAND, "1": LAND, ".": WATER, "0": WATER}
        bad = sorted({c for ln in lines for c in ln if c not in table})
        if bad:
            raise ConfigProblem(
                MAP_KEY,
                f"unknown map characters {bad} in {name}; use '#' or '1' for land, '.' or '0' for water",
            )
        if len({len(ln) for ln in lines}) > 1:
            raise ConfigProblem(MAP_KEY, f"the rows of the map {name} have different lengths")
        grid = np.array([[table[c] for c in ln] for ln in lines], HABITAT_DTYPE).reshape(
            len(lines), -1
        )
    if grid.shape != (height, width):
        raise ConfigProblem(
            MAP_KEY,
            f"the map {name} is {grid.shape[1]}x{grid.shape[0]} but world.width x world.height "
            f"is {width}x{height}",
        )
    return grid
