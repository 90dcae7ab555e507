"""The ``evosim view`` command, registered in :mod:`evosim.cli.main` with ``main.add_command(view)``.

pygame is imported only when the command runs, so ``evosim --help`` stays fast.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from evosim.cli.common import load_world_file, not_empty, refusals, set_option
from evosim.errors import ConfigError
from evosim.io.outputs import writing
from evosim.viewer.layers import LAYER_NAMES

_SIZE_RE = re.compile(r"^\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """``"1200x800"`` -> ``(1200, 800)``.

    Raises:
        ConfigError: not WIDTHxHEIGHT, or outside 320x240 .. 8192x8192.
    """
    m = _SIZE_RE.match(text or "")
    if not m:
        raise ConfigError(
            f"--size {text}: expected WIDTHxHEIGHT in pixels, for example --size 1200x800"
        )
    w, h = int(m.group(1)), int(m.group(2))
    if not (320 <= w <= 8192 and 240 <= h <= 8192):
        raise ConfigError(f"--size {text}: the size must be between 320x240 and 8192x8192")
    return w, h


#: SDL video drivers that draw nowhere a user can see.
NO_WINDOW_DRIVERS = ("dummy", "offscreen")
_NO_WINDOW_HINT = (
    "render off-screen instead: --screenshot FILE.png (one image) or --frames DIR (one every "
    "--every ticks)"
)


def no_window_reason(environ: dict[str, str] | None = None) -> str | None:
    """Why no window can open here, judged from the environment (None: one may).

    SDL falls back to its off-screen driver when there is no display, and a
    window loop on it would run unseen forever.
    """
    env = os.environ if environ is None else environ
    driver = env.get("SDL_VIDEODRIVER", "")
    if driver in NO_WINDOW_DRIVERS:
        return f"SDL_VIDEODRIVER={driver} draws no window"
    if sys.platform.startswith("linux") and not driver:
        if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
            return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def _check_outputs(screenshot: str | None, frames_dir: str | None, force: bool) -> None:
    """Refuse a --screenshot that is not a .png or exists, and a --frames folder holding frames (without --force)."""
    if screenshot:
        if Path(screenshot).suffix.lower() != ".png":
            raise ConfigError(
                f"--screenshot {screenshot}: the image is written as PNG; give a name ending in .png"
            )
        if Path(screenshot).exists() and not force:
            raise ConfigError(
                f"--screenshot {screenshot}: the file already exists; choose another name or pass "
                "--force to replace it"
            )
    if frames_dir and not force:
        old = sorted(Path(frames_dir).glob("frame-*.png")) if Path(frames_dir).is_dir() else []
        if old:
            raise ConfigError(
                f"--frames {frames_dir}: the folder already holds {len(old)} frame image(s) "
                f"({old[0].name} ...); choose another folder or pass --force to replace them"
            )


def _open_display(pygame: Any) -> None:
    """Start SDL's video driver, or refuse (exit 2) with the hint to render off-screen.

    Done before the world is built, so a missing display is answered at once.
    """
    try:
        pygame.display.init()
    except pygame.error as exc:  # e.g. SDL_VIDEODRIVER=x11 with no X server: "x11 not available"
        raise ConfigError(
            f"evosim view: cannot open a window: SDL cannot start its video driver ({exc}); "
            f"{_NO_WINDOW_HINT}"
        ) from None
    driver = pygame.display.get_driver()
    if driver in NO_WINDOW_DRIVERS:  # SDL fell back to drawing nowhere
        pygame.display.quit()
        raise ConfigError(
            f"evosim view: cannot open a window: SDL found no display (video driver '{driver}'); "
            f"{_NO_WINDOW_HINT}"
        )


def run_view(
    source: str | None,
    overrides: tuple[str, ...],
    seed: int | None,
    ticks: int | None,
    screenshot: str | None,
    frames_dir: str | None,
    every: int | None,
    size: str,
    layer: str,
    force: bool = False,
) -> None:
    """What ``evosim view`` does (see its help).

    Raises:
        ConfigError: a refused argument or world, or no window can open and
            neither --screenshot nor --frames was given (exit code 2).
    """
    width_height = parse_size(size)
    if every is not None and not frames_dir:
        raise ConfigError("--every applies to --frames; give --frames DIR too")
    every = every or 10
    headless = bool(screenshot or frames_dir)
    _check_outputs(screenshot, frames_dir, force)
    if not headless and (why := no_window_reason()):  # before building anything: answer at once
        raise ConfigError(f"evosim view: cannot open a window: {why}; {_NO_WINDOW_HINT}")
    import pygame

    if not headless:
        _open_display(pygame)

    from evosim.viewer.app import Viewer

    src, run_ticks = _source(source, overrides, seed, ticks, headless)
    viewer = Viewer(src, size=width_height, layer=layer)
    _headless(viewer, src, screenshot, frames_dir, every, run_ticks, ticks)
    if headless:
        return
    try:
        viewer.run(ticks=ticks)
    except pygame.error as exc:
        click.echo(f"evosim: error: cannot open a window ({exc}); {_NO_WINDOW_HINT}", err=True)
        sys.exit(1)
    finally:
        pygame.display.quit()


def _source(source: str | None, overrides: tuple[str, ...], seed: int | None, ticks: int | None,
            headless: bool) -> tuple[Any, int | None]:  # fmt: skip
    """(the replay of a run folder or a live simulation of a world, the ticks to run headless)."""
    from evosim.viewer.sources import LiveSource, ReplaySource

    if source is not None and Path(source).is_dir():
        if overrides or seed is not None:
            raise ConfigError(
                f"{source}: --set and --seed apply to a world file, not to the replay of a run folder"
            )
        from evosim.io.frames import FrameReader

        return ReplaySource(FrameReader(source)), ticks
    from evosim.engine.sim import Simulation
    from evosim.io.runner import kernels_cached

    world = load_world_file(source, overrides)
    if not kernels_cached():
        click.echo("Compiling the numba kernels (first run only; cached afterwards)...", err=True)
    run_ticks = world.sim.ticks if ticks is None and headless else ticks
    return LiveSource(Simulation(world, seed=seed)), run_ticks


def _headless(viewer: Any, src: Any, screenshot: str | None, frames_dir: str | None, every: int,
              run_ticks: int | None, ticks: int | None) -> None:  # fmt: skip
    """Write the --frames images and the --screenshot, if asked for."""
    import pygame

    if frames_dir:
        with writing(frames_dir, "--frames", folder=True, errors=(pygame.error,)):
            written = viewer.save_frames(frames_dir, every, run_ticks)
        click.echo(f"wrote {len(written)} frames to {frames_dir}")
    if screenshot:
        if frames_dir and src.mode == "live":
            run_ticks = 0  # the frames already advanced the simulation
        with writing(screenshot, "--screenshot", errors=(pygame.error,)):
            path = viewer.screenshot(screenshot, run_ticks)
        state = src.state()
        if src.mode == "replay" and ticks is not None and state.tick != ticks:
            click.echo(
                f"note: no frame was recorded at tick {ticks} (the run recorded every "
                f"{src.reader.every} ticks); showing the nearest recorded frame, tick {state.tick}",
                err=True,
            )
        click.echo(f"wrote {path} (tick {state.tick}, population {state.n:,})")


@click.command(name="view")
@click.argument(
    "source",
    required=False,
    type=click.Path(),
    callback=not_empty,
    metavar="[WORLD_FILE | RUN_FOLDER]",
)
@set_option
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 1),
    help="Seed (default: sim.seed of the world). Live mode only.",
)
@click.option(
    "--ticks",
    type=click.IntRange(0, 100_000_000),
    help="Live: ticks to run before the screenshot / while saving frames (default: sim.ticks), or "
    "pause the window at this tick. Replay: the tick to show (the nearest recorded frame) or to "
    "stop at.",
)
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False),
    callback=not_empty,
    help="Headless: render to this PNG (a new .png file) and exit.",
)
@click.option(
    "--frames",
    "frames_dir",
    type=click.Path(file_okay=False),
    callback=not_empty,
    help="Headless: save a PNG every --every ticks into this folder (for a video) and exit.",
)
@click.option(
    "--every",
    type=click.IntRange(1, 100_000_000),
    help="Ticks between --frames images (default 10).",
)
@click.option(
    "--size",
    default="1200x800",
    show_default=True,
    help="Window / image size, WIDTHxHEIGHT pixels.",
)
@click.option(
    "--layer",
    type=click.Choice(LAYER_NAMES),
    default="species",
    show_default=True,
    help="Layer shown first.",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing --screenshot file or --frames images."
)
@refusals
def view(source, overrides, seed, ticks, screenshot, frames_dir, every, size, layer, force) -> None:
    """Watch WORLD_FILE live, or replay RUN_FOLDER (a run recorded with --record-every).

    Without an argument the embedded default world runs. In the window:
    space pauses, '.' steps, +/- change speed, 1-9/0 switch layers, the
    wheel zooms, arrows or dragging pan, a click inspects an agent or a
    species, n/i choose and apply an intervention, h shows all keys. With
    --screenshot or --frames nothing is opened: images are rendered
    off-screen (no display needed).
    """
    run_view(source, overrides, seed, ticks, screenshot, frames_dir, every, size, layer, force)
