"""Run a world into a run folder, with an optional progress bar."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from evosim.recorder import Recorder, prepare_folder
from evosim.schema import World
from evosim.sim import Simulation


def kernels_cached() -> bool:
    """True if numba's on-disk cache for the kernels exists (no compile pause expected)."""
    cache = Path(__file__).parent / "kernels" / "__pycache__"
    return cache.is_dir() and any(cache.glob("*.nbi"))


def default_out(world: World, seed: int) -> Path:
    """``runs/<world>-seed<seed>-<timestamp>``: never an existing folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{world.name}-seed{seed}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def run(
    world: World,
    out: str | os.PathLike,
    ticks: int | None = None,
    seed: int | None = None,
    force: bool = False,
    progress: Callable[[Simulation], None] | None = None,
) -> dict:
    """Run ``world`` for ``ticks`` ticks (default ``world.sim.ticks``) and write the run folder.

    Args:
        world: validated world.
        out: run folder to create.
        ticks: ticks to run; ``None`` uses ``world.sim.ticks``.
        seed: overrides ``world.sim.seed``.
        force: replace an existing run folder.
        progress: called after every tick (e.g. to advance a progress bar).

    Returns:
        The summary written to ``summary.json``.

    Raises:
        ConfigError: the folder may not be used, or the world cannot be built
            (nothing is written in either case).
    """
    prepare_folder(out, force)
    sim = Simulation(world, seed=seed)
    rec = Recorder(out, sim, force=force)
    rec.open()
    ticks = world.sim.ticks if ticks is None else ticks

    def on_tick(s: Simulation) -> None:
        rec.on_tick(s)
        if progress is not None:
            progress(s)

    try:
        sim.advance(ticks, on_tick)
    except KeyboardInterrupt:
        rec.close("interrupted")
        raise
    return rec.close("extinct" if sim.extinct else "completed")
