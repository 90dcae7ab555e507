"""The world's grids: habitat, food patches, easy and hard food, farming, census.

Every layer is an (H, W) array indexed ``[y, x]`` on a torus. Perception
reads padded copies with a wrapped halo (no wrap-around arithmetic in the
move kernel): the habitat, the easy food signed by habitat (written by
:func:`evosim.engine.kernels.food.regrow_layers`) and the census, which lives
in the interior of its padded grid. Only the halos are refreshed each tick.
"""

from __future__ import annotations

import numpy as np

from evosim.config.schema import World
from evosim.engine.kernels import move as k_move
from evosim.engine.state import Cells, reuse
from evosim.engine.world import food_arrays, initial_food, make_habitat, make_richness

#: The layers saved by :meth:`Grids.state`, in checkpoint order.
STATE_LAYERS = ("habitat", "richness", "food", "hard", "farmed", "census")


class Grids:
    """The (H, W) layers of a world and the padded copies perception reads.

    Args:
        world: gives the food capacities and regrowth rates per habitat.
        habitat: (H, W) uint8, 0 water / 1 land (copied).
        richness: (H, W) float32 capacity multiplier of easy food (copied).
        halo: width of the wrapped halo of the padded grids (the longest sight radius).

    Attributes:
        habitat, richness: the fixed layers.
        food, hard: (H, W) float32 easy and hard food (easy food starts empty here:
            :meth:`new` fills it).
        farmed: (H, W) float32 easy-food regrowth bonus left by farmers this tick
            (read and cleared by the next regrowth).
        capacity, hard_capacity: float64[2] food capacity per habitat (0 water, 1 land).
        rate, hard_rate: float64[2] easy- and hard-food regrowth rate per habitat (the easy
            food's before the season: :func:`evosim.engine.world.regrowth_rate`).
        halo: width of the padding.
        habitat_pad: the habitat with its wrapped halo.
        sight_pad: +food on land, -food on water, with its halo (what perception reads).
        census_pad: int64 census codes (taken by :func:`evosim.engine.kernels.forage.forage`), -1 empty.
        census: the interior of ``census_pad`` (a view).
        census_cells: flat indices into ``census_pad`` written by the last census
            (grown by :meth:`census_room`).
        census_n: int64[1], how many of ``census_cells`` are set (< 0: unknown, the next
            census clears the whole grid).
    """

    def __init__(self, world: World, habitat: np.ndarray, richness: np.ndarray, halo: int):
        self.habitat = np.array(habitat)
        self.richness = np.array(richness)
        self.capacity, self.rate = food_arrays(world.world.food)
        self.hard = initial_food(self.habitat, world.world.hard_food)
        self.hard_capacity, self.hard_rate = food_arrays(world.world.hard_food)
        self.farmed = np.zeros(self.habitat.shape, np.float32)
        self.halo = halo
        padded = (self.habitat.shape[0] + 2 * halo, self.habitat.shape[1] + 2 * halo)
        inner = (slice(halo, padded[0] - halo), slice(halo, padded[1] - halo))
        self.habitat_pad = np.zeros(padded, self.habitat.dtype)
        k_move.pad_torus(self.habitat, self.habitat_pad, halo)
        self.food = np.zeros(self.habitat.shape, np.float32)
        self.sight_pad = np.zeros(padded, np.float32)
        self.census_pad = np.full(padded, -1, np.int64)
        self.census = self.census_pad[inner]
        self.census_cells = np.zeros(0, np.int64)
        self.census_n = np.full(1, -1, np.int64)

    @classmethod
    def new(cls, world: World, seed: int, halo: int) -> Grids:
        """The grids of a new run: the habitat map, food patches and the initial food."""
        g = world.world
        grids = cls(
            world,
            make_habitat(g, seed),
            make_richness(g.width, g.height, g.food.patches, seed),
            halo,
        )
        grids.food[...] = initial_food(grids.habitat, g.food) * grids.richness
        return grids

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        h, w = self.habitat.shape
        return h, w

    def cells(self) -> Cells:
        """The grids as the kernels take them (rebuild after :meth:`from_state` or a layer's replacement)."""
        self._cells: Cells | None = reuse(
            getattr(self, "_cells", None), Cells, self.habitat, self.richness, self.food,
            self.hard, self.farmed, self.capacity, self.hard_capacity, self.hard_rate,
            self.habitat_pad, self.sight_pad, self.census_pad, self.census_cells, self.census_n,
            int(self.halo),
        )  # fmt: skip
        return self._cells

    def census_room(self, n_groups: int) -> None:
        """Make ``census_cells`` hold at least ``n_groups`` cells, keeping the ones to clear."""
        if len(self.census_cells) < n_groups:
            self.census_cells = np.concatenate([self.census_cells, np.zeros(n_groups, np.int64)])

    def state(self) -> dict[str, np.ndarray]:
        """Copies of the layers that make up the state (:data:`STATE_LAYERS`)."""
        return {k: np.array(getattr(self, k)) for k in STATE_LAYERS}

    @classmethod
    def from_state(cls, world: World, arrays: dict[str, np.ndarray], halo: int) -> Grids:
        """Rebuild from :meth:`state` output (the padded copies are refreshed as the next tick runs)."""
        grids = cls(world, arrays["habitat"], arrays["richness"], halo)
        grids.food[...] = arrays["food"]
        grids.census[...] = arrays["census"]  # into the interior of its padded grid
        grids.hard = np.array(arrays["hard"])
        grids.farmed = np.array(arrays["farmed"])
        return grids
