"""The viewer's real window, driven by posted events: run by test_window_xvfb.py on an X server.

Run as ``python -m tests.viewer.window_script`` with ``DISPLAY`` set (and no
``SDL_VIDEODRIVER``); prints one JSON object describing what the window did
and drew. It runs in its own process because the other viewer tests select
SDL's dummy driver for the whole test process.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pygame

from evosim import Simulation, load_world
from evosim.viewer.app import Viewer
from evosim.viewer.render import render
from evosim.viewer.sources import LiveSource
from tests.helpers import TINY, set_strings

SIZE = (800, 600)
SMALL = [*set_strings(TINY), "species.grazer.count=50", "species.swimmer.count=50"]


def window_pixels() -> np.ndarray:
    return pygame.surfarray.array3d(pygame.display.get_surface()).copy()


def offscreen(v: Viewer) -> np.ndarray:
    """What render() draws for the viewer's current state and settings, on an off-screen surface."""
    surface = pygame.Surface(v.size)
    render(
        v.source.state(), surface, v.layer, copy.deepcopy(v.camera), v.selected, v.history, v.hud
    )
    return pygame.surfarray.array3d(surface)


def key(k: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0))


def main() -> dict:
    out: dict = {}
    pygame.display.init()
    out["driver"] = pygame.display.get_driver()
    v = Viewer(LiveSource(Simulation(load_world(overrides=SMALL), seed=1)), size=SIZE, fps=1000)
    v.run(max_frames=3)
    out["window_size"] = list(pygame.display.get_surface().get_size())
    out["x_window"] = int(pygame.display.get_wm_info().get("window", 0))
    out["caption"] = pygame.display.get_caption()[0]
    out["tick_running"] = v.source.tick
    out["matches_render"] = bool((window_pixels() == offscreen(v)).all())
    m = v.info.map_rect
    out["map_colours"] = len(
        np.unique(window_pixels()[m.x : m.right, m.y : m.bottom].reshape(-1, 3), axis=0)
    )

    key(pygame.K_SPACE)  # pause: two frames, same tick, same picture
    v.run(max_frames=1)
    paused, before = v.source.tick, window_pixels()
    v.run(max_frames=2)
    out["paused_tick_held"] = v.source.tick == paused and v.hud.paused
    out["paused_frames_equal"] = bool((window_pixels() == before).all())

    key(pygame.K_PERIOD)  # one step
    v.run(max_frames=1)
    out["step"] = v.source.tick - paused
    out["step_changed_picture"] = bool((window_pixels() != before).any())

    species_map = window_pixels()[m.x : m.right, m.y : m.bottom]
    key(pygame.K_2)  # another layer
    v.run(max_frames=1)
    out["layer"] = v.layer
    out["layer_changed_map"] = bool(
        (window_pixels()[m.x : m.right, m.y : m.bottom] != species_map).any()
    )
    out["matches_render_after_keys"] = bool((window_pixels() == offscreen(v)).all())

    rect, species = v.info.species_rows[0]  # click a species row of the panel
    for kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        pygame.event.post(pygame.event.Event(kind, pos=rect.center, button=1))
    v.run(max_frames=1)
    out["selected_species"] = [None if v.selected is None else v.selected.species, int(species)]

    scale_before = v.camera.scale
    pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2, flipped=False))
    v.run(max_frames=1)
    out["zoomed"] = v.camera.scale > scale_before
    out["matches_render_at_end"] = bool((window_pixels() == offscreen(v)).all())

    pygame.event.post(pygame.event.Event(pygame.QUIT))
    v.run(max_frames=5)
    out["closed"] = not v.running
    pygame.display.quit()
    return out


if __name__ == "__main__":
    print(json.dumps(main()))
