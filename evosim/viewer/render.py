"""Drawing a :class:`~evosim.io.snapshot.ViewState` onto a pygame surface.

:func:`render` is pure: it reads a state and a :class:`Camera` and draws; it
keeps no state between calls and needs no display (any ``pygame.Surface``
will do). The map is built from arrays: the visible part of the habitat/food
grid is coloured with lookup tables, scaled in C by ``pygame.transform``, and
agents are painted as small discs with fancy-index assignments into
``pygame.surfarray.pixels2d`` — one assignment per disc offset, never a
Python loop per agent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pygame

from evosim.io.snapshot import History, ViewState
from evosim.viewer import colors as C
from evosim.viewer.layers import GENE_LAYERS, LAYER_NAMES, LAYERS, Layer, Legend, layer_by_name
from evosim.viewer.panel import draw_help, draw_panel

__all__ = [
    "LAYERS",
    "LAYER_NAMES",
    "Camera",
    "Hud",
    "Layer",
    "RenderInfo",
    "Selection",
    "agent_color_index",
    "agent_pixels",
    "layer_by_name",
    "pick_agent",
    "render",
]


@dataclass
class Selection:
    """What the user picked: an agent (by id, so it can be followed) or a species."""

    species: int | None = None
    agent_id: int | None = None


@dataclass
class Hud:
    """Status shown in the panel, owned by the event loop.

    Attributes:
        mode: ``"live"`` or ``"replay"``.
        paused: whether stepping is paused.
        speed: ticks per displayed frame (fractions: a tick every few frames).
        message: one-line feedback (last action, errors).
        intervention: the intervention chosen for the keyboard (``None``: none available).
        show_help: the full key help overlay.
        position: replay position text (e.g. ``"frame 3/40"``).
        interactive: ``True`` for the live window; ``False`` for a saved figure
            (``--screenshot``, ``--frames``), which leaves out what only means
            something in the window: the key help (and its overlay), the run
            state and speed, the message and the intervention line.
    """

    mode: str = "live"
    paused: bool = False
    speed: float = 1.0
    message: str = ""
    intervention: str | None = None
    show_help: bool = False
    position: str = ""
    interactive: bool = True


@dataclass
class RenderInfo:
    """Where things ended up (for mapping clicks back to what was clicked).

    Attributes:
        map_rect: the map area on the surface.
        species_rows: (rect, species id) of each species row in the panel.
        camera: the camera used (a new whole-world camera if none was given).
        legend: what the agent colours mean.
    """

    map_rect: pygame.Rect
    camera: Camera
    species_rows: list[tuple[pygame.Rect, int]] = field(default_factory=list)
    legend: Legend = field(default_factory=lambda: Legend(""))


# ---------------------------------------------------------------------- camera
@dataclass
class Camera:
    """Which part of the (toroidal) world is visible, and how large.

    Attributes:
        world: (height, width) of the grid in cells.
        view: (width, height) of the map area in pixels.
        cx, cy: centre of the view in cell coordinates.
        scale: pixels per cell (at least :attr:`min_scale`, where the whole world fits).
        max_zoom_px: pixels per cell at the deepest zoom (see :attr:`max_scale`).
    """

    world: tuple[int, int]
    view: tuple[int, int]
    cx: float
    cy: float
    scale: float
    max_zoom_px: float = 48.0

    @classmethod
    def fit(cls, world: tuple[int, int], view: tuple[int, int]) -> Camera:
        """The whole world, centred."""
        cam = cls(tuple(world), tuple(view), world[1] / 2, world[0] / 2, 1.0)  # type: ignore[arg-type]
        cam.scale = cam.min_scale
        return cam

    @property
    def min_scale(self) -> float:
        """Scale at which the whole world fits the view."""
        return min(self.view[0] / self.world[1], self.view[1] / self.world[0])

    @property
    def max_scale(self) -> float:
        """Largest scale: ``max_zoom_px`` pixels per cell (at least 16x the whole-world scale)."""
        return max(self.max_zoom_px, 16.0 * self.min_scale)

    def resize(self, view: tuple[int, int]) -> None:
        """The map area changed size; keep the centre, clamp the scale."""
        self.view = tuple(view)  # type: ignore[assignment]
        self.scale = min(max(self.scale, self.min_scale), self.max_scale)

    def zoom(self, factor: float, about: tuple[float, float] | None = None) -> None:
        """Zoom by ``factor`` (> 1 in), keeping the cell under pixel ``about`` in place."""
        new = min(max(self.scale * factor, self.min_scale), self.max_scale)
        if about is not None:
            before = self.point_at(*about)
            self.scale = new
            after = self.point_at(*about)
            self.cx += before[0] - after[0]
            self.cy += before[1] - after[1]
        self.scale = new
        self._wrap()

    def pan(self, dx_px: float, dy_px: float) -> None:
        """Move the view by a pixel offset (the world follows a drag of ``(dx, dy)``)."""
        self.cx -= dx_px / self.scale
        self.cy -= dy_px / self.scale
        self._wrap()

    def _wrap(self) -> None:
        self.cx %= self.world[1]
        self.cy %= self.world[0]

    def _axis(
        self, n_cells: int, n_px: int, centre: float
    ) -> tuple[np.ndarray, float, bool, int, float]:
        """Cells drawn along one axis: (cell indices, pixel offset, wraps, first index, first coordinate)."""
        span = n_px / self.scale
        if span >= n_cells - 1e-9:  # the whole axis fits: centre it, no wrap
            x0 = n_cells / 2 - span / 2
            return np.arange(n_cells), -x0 * self.scale, False, 0, x0
        x0 = centre - span / 2
        i0 = math.floor(x0)
        count = math.ceil(x0 + span) - i0 + 1
        return (i0 + np.arange(count)) % n_cells, (i0 - x0) * self.scale, True, i0, x0

    def axes(self) -> tuple[tuple, tuple]:
        """:meth:`_axis` for x and y."""
        h, w = self.world
        return self._axis(w, self.view[0], self.cx), self._axis(h, self.view[1], self.cy)

    def point_at(self, px: float, py: float) -> tuple[float, float]:
        """Cell coordinates (unwrapped, fractional) under map pixel ``(px, py)``."""
        (_, _, _, _, x0), (_, _, _, _, y0) = self.axes()
        return x0 + px / self.scale, y0 + py / self.scale

    def cell_at(self, px: float, py: float) -> tuple[int, int] | None:
        """The cell ``(x, y)`` under map pixel ``(px, py)``, or ``None`` outside the world."""
        fx, fy = self.point_at(px, py)
        h, w = self.world
        (_, _, wrap_x, _, _), (_, _, wrap_y, _, _) = self.axes()
        x, y = math.floor(fx), math.floor(fy)
        if (not wrap_x and not 0 <= x < w) or (not wrap_y and not 0 <= y < h):
            return None
        return x % w, y % h


def _scaled_size(axis: tuple, scale: float) -> int:
    return max(1, round(len(axis[0]) * scale))


def _pixel_lut(axis: tuple, n_world: int, size_px: int, scale: float) -> np.ndarray:
    """Pixel of each cell's centre along one axis (-1 where the cell is not in view): (n_world,) int64."""
    cells, off, _, i0, _ = axis
    n = len(cells)
    eff = _scaled_size(axis, scale) / n
    j = (np.arange(n_world) - i0) % n_world
    p = round(off) + np.floor((j + 0.5) * eff).astype(np.int64)
    return np.where((j < n) & (p >= 0) & (p < size_px), p, -1)


def agent_pixels(state: ViewState, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map pixels of the agents in view (one table lookup per axis: cells are integers).

    Returns:
        (rows, px, py): rows of the visible agents and their pixel centres
        within the map area (int64 arrays).
    """
    ax, ay = cam.axes()
    lut_x = _pixel_lut(ax, cam.world[1], cam.view[0], cam.scale)
    lut_y = _pixel_lut(ay, cam.world[0], cam.view[1], cam.scale)
    px, py = lut_x[state.x], lut_y[state.y]
    rows = np.flatnonzero((px >= 0) & (py >= 0))
    return rows, px[rows], py[rows]


def pick_agent(
    state: ViewState, cam: Camera, pos: tuple[int, int], radius_px: float = 8.0
) -> int | None:
    """Row of the agent nearest to map pixel ``pos`` within ``radius_px`` (or one cell), or ``None``."""
    if state.n == 0:
        return None
    rows, px, py = agent_pixels(state, cam)
    if rows.size == 0:
        return None
    d2 = (px - pos[0]) ** 2 + (py - pos[1]) ** 2
    k = int(np.argmin(d2))
    limit = max(radius_px, cam.scale * 0.75)
    return int(rows[k]) if d2[k] <= limit * limit else None


# ---------------------------------------------------------------------- colours
def agent_color_index(
    state: ViewState, layer: str, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, Legend]:
    """Colours of agents ``rows`` on ``layer`` as a small table and an index into it.

    Returns:
        (table (m, 3) uint8, index (len(rows),) int, legend): agent ``rows[i]`` has colour ``table[index[i]]``.
    """
    title = layer_by_name(layer).title  # raises ValueError for an unknown layer
    grey = np.array([[150, 150, 150]], np.uint8)
    none = np.zeros(len(rows), np.intp)
    if layer == "species":
        return C.species_palette(state.n_ids), state.species[rows], Legend(title)
    if layer in GENE_LAYERS:
        return C.VIRIDIS, C.lut_index(state.gene(layer)[rows]), Legend(title, C.VIRIDIS)
    if layer == "skill":
        if state.skill is None:
            return grey, none, Legend(f"{title}: no skill data in this world yet")
        hi = float(state.skill.max()) if state.n else 1.0
        hi = hi if hi > 0 else 1.0
        return C.PLASMA, C.lut_index(state.skill[rows], 0.0, hi), Legend(title, C.PLASMA, 0.0, hi)
    if layer == "milestone":
        if state.milestone is None:
            return grey, none, Legend(f"{title}: none recorded in this world yet")
        top = len(C.MILESTONE_COLORS) - 1
        names = ["none", *state.milestone_names][: top + 1]
        items = [(C.rgb(C.MILESTONE_COLORS[i]), name) for i, name in enumerate(names)]
        return (
            C.MILESTONE_COLORS,
            np.minimum(state.milestone[rows], top),
            Legend(title, items=items),
        )
    if layer == "energy":
        e = state.energy if state.energy is not None else np.zeros(state.n, np.float32)
        hi = float(e.max()) if state.n and e.max() > 0 else 1.0
        return C.PLASMA, C.lut_index(e[rows], 0.0, hi), Legend(title, C.PLASMA, 0.0, hi)
    return np.array([[235, 235, 235]], np.uint8), none, Legend(title, C.FOOD_LAND)  # food


def _disc(r: float) -> list[tuple[int, int]]:
    """Pixel offsets of a dot of radius ``r`` (a single pixel below 0.75, a 2x2 square below 1.5)."""
    if r < 0.75:
        return [(0, 0)]
    if r < 1.5:
        return [(0, 0), (1, 0), (0, 1), (1, 1)]
    k = math.ceil(r)
    return [
        (dx, dy)
        for dx in range(-k, k + 1)
        for dy in range(-k, k + 1)
        if dx * dx + dy * dy <= r * r + 0.5
    ]


def _paint(
    target: pygame.Surface, px: np.ndarray, py: np.ndarray, values: np.ndarray, r: float
) -> None:
    """Paint discs of radius ``r`` at (px, py) in mapped pixel ``values``: one array assignment per disc offset.

    Writes 32-bit pixels through ``pygame.surfarray.pixels2d``, as flat indices
    into the row-major pixel buffer when it is contiguous. Dots within ``r``
    pixels of the border are nudged inside it.
    """
    offsets = _disc(r)
    k = max(max(abs(dx), abs(dy)) for dx, dy in offsets)
    w, h = target.get_size()
    if w <= 2 * k + 1 or h <= 2 * k + 1:
        k = 0
        offsets = [(0, 0)]
    pix = pygame.surfarray.pixels2d(target)  # (w, h) view, locks the surface
    try:
        cx = np.clip(px, k, w - 1 - k) if k else px
        cy = np.clip(py, k, h - 1 - k) if k else py
        rows_first = pix.T
        if rows_first.flags.c_contiguous:
            flat = rows_first.reshape(-1)
            base = cy * w + cx
            for dx, dy in offsets:
                flat[base + (dy * w + dx)] = values
        else:  # pragma: no cover - padded surfaces
            for dx, dy in offsets:
                pix[cx + dx, cy + dy] = values
    finally:
        del pix


# ---------------------------------------------------------------------- drawing
def draw_map(
    state: ViewState, target: pygame.Surface, cam: Camera, layer: str, selected: Selection | None
) -> Legend:
    """Draw background and agents of ``state`` onto ``target`` (the map area). Returns the legend."""
    target.fill(C.VOID)
    ax, ay = cam.axes()
    # visible cells only (the whole grid, unsliced, when everything fits)
    pick = (
        slice(None) if not ay[2] else ay[0][:, None],
        slice(None) if not ax[2] else ax[0][None, :],
    )
    grid = C.background_mapped(
        target, state.habitat[pick], state.food_fraction[pick], food_layer=(layer == "food")
    )
    small = pygame.Surface((grid.shape[1], grid.shape[0]), 0, target)
    pygame.surfarray.blit_array(small, grid.T)
    big = pygame.transform.scale(small, (_scaled_size(ax, cam.scale), _scaled_size(ay, cam.scale)))
    target.blit(big, (round(ax[1]), round(ay[1])))
    if state.n == 0:
        return Legend("no agents alive")
    rows, px, py = agent_pixels(state, cam)
    table, index, legend = agent_color_index(state, layer, rows)
    if (
        selected is not None and selected.species is not None
    ):  # dim the others, draw the selected on top
        mine = state.species[rows] == selected.species
        table = np.concatenate([table, C.dim(table)])
        index = np.where(
            mine, index, index.astype(np.intp) + len(table) // 2
        )  # lut indices are uint8
        order = np.concatenate([np.flatnonzero(~mine), np.flatnonzero(mine)])
        rows, px, py, index = rows[order], px[order], py[order], index[order]
    values = C.mapped(target, table)[
        index
    ]  # map the small table, then gather: no per-agent RGB work
    r = 0.0 if cam.scale < 1.5 else 1.0 if cam.scale < 4.0 else min(cam.scale * 0.33, 7.0)
    if layer == "food":
        r = min(r, 1.0)
    if r >= 2.0:
        _paint(
            target, px, py, np.full_like(values, C.mapped(target, np.zeros(3, np.uint8))), r + 1.0
        )
    _paint(target, px, py, values, r)
    if selected is not None and selected.agent_id is not None:
        row = state.row_of(selected.agent_id)
        if row is not None:
            hit = np.flatnonzero(rows == row)
            if hit.size:
                c = (int(px[hit[0]]), int(py[hit[0]]))
                pygame.draw.circle(target, (255, 255, 255), c, int(r) + 6, 2)
                pygame.draw.circle(target, (0, 0, 0), c, int(r) + 8, 1)
    return legend


def render(
    state: ViewState,
    surface: pygame.Surface,
    layer: str = "species",
    camera: Camera | None = None,
    selected: Selection | None = None,
    history: History | None = None,
    hud: Hud | None = None,
) -> RenderInfo:
    """Draw ``state`` onto ``surface``: the map on the left, the side panel on the right.

    Args:
        state: what to draw.
        surface: any pygame surface (a window or an off-screen surface).
        layer: one of :data:`LAYER_NAMES`.
        camera: the visible part of the map; ``None`` shows the whole world.
        selected: the selected agent or species (highlighted, shown in the panel).
        history: population / skill history for the panel's plot.
        hud: status (mode, pause, speed, message, help overlay); with
            ``hud.interactive`` false (a saved figure) none of it is drawn.

    Returns:
        Where the map and the species rows are (to resolve clicks).
    """
    hud = hud or Hud(mode=state.source)
    w, h = surface.get_size()
    panel_w = 0 if w < 480 else min(max(int(w * 0.3), 300), 380)
    map_rect = pygame.Rect(0, 0, w - panel_w, h)
    cam = camera or Camera.fit(state.shape, map_rect.size)
    if tuple(cam.view) != map_rect.size:
        cam.resize(map_rect.size)
    map_surf = pygame.Surface(map_rect.size)
    legend = draw_map(state, map_surf, cam, layer, selected)
    if hud.show_help and hud.interactive:
        draw_help(map_surf)
    surface.blit(map_surf, map_rect.topleft)
    info = RenderInfo(map_rect=map_rect, camera=cam, legend=legend)
    if panel_w:
        panel_rect = pygame.Rect(map_rect.right, 0, panel_w, h)
        info.species_rows = draw_panel(
            surface, panel_rect, state, layer, legend, selected, history, hud
        )
    return info
