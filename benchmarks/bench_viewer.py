"""Viewer frame rate: drawing 100,000 agents on a 512x512 world, headless.

Run::

    SDL_VIDEODRIVER=dummy python benchmarks/bench_viewer.py [--agents 100000] [--size 512] [--frames 60]

Prints frames per second (best of 3 runs) of :func:`evosim.viewer.render.render`
(map + panel, onto a 1200x800 surface) for the whole-world view and a zoomed
view, per layer.
Target (issue 6): at least 30 frames per second for 100,000 agents on 512x512.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from evosim.defaults import GENES  # noqa: E402
from evosim.engine.world import generate_habitat  # noqa: E402
from evosim.io.snapshot import History, ViewState  # noqa: E402
from evosim.viewer.render import Camera, Hud, Selection, render  # noqa: E402

TARGET_FPS = 30.0


def synthetic_state(
    n_agents: int, side: int, n_species: int = 8, seed: int = 0, tick: int = 0
) -> ViewState:
    """A world-sized state with ``n_agents`` random agents of ``n_species`` species (with skill data)."""
    rng = np.random.default_rng(seed + tick)
    habitat = generate_habitat(side, side, 0.4, side / 32, seed)
    food = (rng.random((side, side)) * 10).astype(np.float32)
    return ViewState(
        tick=tick,
        habitat=habitat,
        food=food,
        capacity=np.array([8.0, 10.0]),
        x=rng.integers(0, side, n_agents).astype(np.int32),
        y=rng.integers(0, side, n_agents).astype(np.int32),
        species=rng.integers(0, n_species, n_agents).astype(np.int32),
        genome=rng.random((n_agents, len(GENES))).astype(np.float32),
        energy=(rng.random(n_agents) * 20).astype(np.float32),
        age=rng.integers(0, 500, n_agents).astype(np.int32),
        id=np.arange(n_agents, dtype=np.int64),
        parent_id=np.full(n_agents, -1, np.int64),
        skill=rng.exponential(1.0, n_agents).astype(np.float32),
        species_names=[f"species{i}" for i in range(n_species)],
        world_name="bench",
    )


def fps(
    states: list[ViewState], surface: pygame.Surface, frames: int, repeat: int = 3, **kw
) -> float:
    """Frames per second rendering ``states`` in turn, best of ``repeat`` runs (as ``timeit`` does).

    The states' cached aggregates are dropped before every frame, so each frame
    pays for everything a new tick's state would.
    """
    hist = History()
    for s in states:
        hist.add(s)
    render(states[0], surface, history=hist, **kw)  # warm-up (fonts, caches)
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(frames):
            s = states[i % len(states)]
            s.__dict__.pop("stats", None)
            s.__dict__.pop("food_fraction", None)
            render(s, surface, history=hist, **kw)
        best = max(best, frames / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=100_000)
    ap.add_argument("--size", type=int, default=512, help="world side in cells")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--window", default="1200x800")
    args = ap.parse_args()
    pygame.font.init()
    w, h = (int(v) for v in args.window.split("x"))
    surface = pygame.Surface((w, h))
    states = [synthetic_state(args.agents, args.size, tick=t) for t in range(4)]
    print(
        f"viewer benchmark: {args.agents:,} agents, {args.size}x{args.size} world, {w}x{h} surface, "
        f"{args.frames} frames per figure"
    )
    whole = fps(states, surface, args.frames)
    print(f"  whole world, species layer:        {whole:7.1f} fps")
    for layer in ("brain", "skill", "food"):
        print(
            f"  whole world, {layer + ' layer:':22s}{fps(states, surface, args.frames, layer=layer):7.1f} fps"
        )
    map_size = render(states[0], surface).map_rect.size  # the map area left of the panel
    cam = Camera.fit(states[0].shape, map_size)
    cam.zoom(8.0)
    print(
        f"  zoomed x8, species layer:          {fps(states, surface, args.frames, camera=cam):7.1f} fps"
    )
    sel = Selection(species=2)
    print(
        f"  whole world, species selected:     {fps(states, surface, args.frames, selected=sel, hud=Hud()):7.1f} fps"
    )
    verdict = "meets" if whole >= TARGET_FPS else "MISSES"
    print(
        f"result: {whole:.1f} fps drawing {args.agents:,} agents on {args.size}x{args.size} "
        f"({verdict} the {TARGET_FPS:.0f} fps target)"
    )


if __name__ == "__main__":
    main()
