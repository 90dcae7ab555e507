"""Viewer tests run headless: SDL's dummy video driver, set before pygame is imported."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from evosim.defaults import GENES  # noqa: E402
from evosim.io.frames import FrameRecorder  # noqa: E402
from evosim.io.snapshot import ViewState  # noqa: E402
from tests.helpers import TINY, set_strings  # noqa: E402

#: The five-rung ladder the viewer tests read (thresholds 2, 5, 8, 12, 18), set here so that they do not
#: depend on the default ladder.
LADDER = (
    "technology.ladder=["
    "{name: stone_tools, threshold: 2, min_dexterity: 0.3, hard_food: true}, "
    "{name: fire, threshold: 5, needs_land: true}, "
    "{name: cooking, threshold: 8, energy_multiplier: 1.3}, "
    "{name: agriculture, threshold: 12, regrowth_bonus: 0.5}, "
    "{name: metallurgy, threshold: 18, min_dexterity: 0.5, hard_food_multiplier: 1.5}]"
)
#: A small, fast world (the whole viewer suite must stay quick).
SMALL = (*set_strings(TINY), "species.grazer.count=50", "species.swimmer.count=50", LADDER)


@pytest.fixture(autouse=True)
def _pygame():
    pygame.font.init()
    yield
    pygame.display.quit()


def record(
    sim: Any,
    folder,
    ticks: int,
    every: int,
    watch: Callable[[FrameRecorder], None] | None = None,
    **kw: Any,
) -> FrameRecorder:
    """Record ``sim`` into ``folder``: a frame of its current tick, then ``ticks`` ticks (a frame every ``every``).

    The recorder (``kw``: more :class:`FrameRecorder` options) is closed on
    return; ``watch(recorder)`` is called after each tick.
    """
    rec = FrameRecorder(folder, every_k=every, **kw)
    rec.on_tick(sim)

    def on_tick(s: Any) -> None:
        rec.on_tick(s)
        if watch is not None:
            watch(rec)

    sim.advance(ticks, on_tick)
    rec.close()
    return rec


@pytest.fixture
def small_sim():
    """A 32x32 default world with 100 founders, seed 1."""
    from evosim import Simulation, load_world

    return Simulation(load_world(overrides=list(SMALL)), seed=1)


def hand_state(**kw) -> ViewState:
    """An 8x8 world (left half water, right half land) with three known agents.

    Agent 0: species 0 at (2, 3), brain 0.0; agent 1: species 1 at (5, 5),
    brain 1.0; agent 2: species 1 at (6, 1), brain 0.5.
    """
    habitat = np.zeros((8, 8), np.uint8)
    habitat[:, 4:] = 1
    genome = np.full((3, len(GENES)), 0.5, np.float32)
    genome[:, GENES.index("brain")] = [0.0, 1.0, 0.5]
    fields = dict(
        tick=7,
        habitat=habitat,
        food=np.where(habitat == 1, 5.0, 4.0).astype(np.float32),
        capacity=np.array([8.0, 10.0]),
        x=np.array([2, 5, 6], np.int32),
        y=np.array([3, 5, 1], np.int32),
        species=np.array([0, 1, 1], np.int32),
        genome=genome,
        energy=np.array([1.0, 2.0, 3.0], np.float32),
        age=np.array([10, 20, 30], np.int32),
        id=np.array([100, 101, 102], np.int64),
        parent_id=np.array([-1, 100, 101], np.int64),
        species_names=["alpha", "beta"],
        world_name="hand",
    )
    fields.update(kw)
    return ViewState(**fields)


@pytest.fixture
def make_state():
    """The :func:`hand_state` builder (keyword arguments override fields)."""
    return hand_state


def find_text(
    image: pygame.Surface, s: str, x: int, size: int = 11, color=None, bold: bool = False, bg=None
) -> list[int]:
    """Rows y at which the panel's ``text(s)`` starts at column ``x`` of ``image`` (pixel for pixel).

    The line is drawn as the panel draws it (same font, size, colour and
    background, default the panel's dim text on its background) and its
    glyph pixels are looked for at column ``x`` of ``image`` (e.g. a saved PNG
    loaded back); ``[]``: not drawn there, or drawn cut off.
    """
    from evosim.viewer import panel

    bg = panel.BG if bg is None else bg
    tile = pygame.Surface((1000, 40))
    tile.fill(bg)
    r = panel.text(tile, s, (0, 0), size, panel.DIM if color is None else color, bold)
    want = pygame.surfarray.array3d(tile)[: r.w, : r.h]
    ink = (want != np.asarray(bg, np.uint8)).any(axis=2)  # the glyphs' pixels (lines may overlap
    got = pygame.surfarray.array3d(image)[x : x + r.w]  # a descender above in the empty ones)
    if got.shape[0] < r.w:
        return []
    return [
        y
        for y in range(got.shape[1] - r.h + 1)
        if np.array_equal(got[:, y : y + r.h][ink], want[ink])
    ]
