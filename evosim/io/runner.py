"""Run a world into a run folder: checkpoints, resume, signals, progress.

SIGINT and SIGTERM finish the current tick, write a checkpoint and a summary
marked ``interrupted``, and end the run with :class:`Interrupted` (the CLI
exits 130 or 143). A second signal exits at once; the newest checkpoint stays
valid because every checkpoint is written atomically.

Each function holds the run folder's lock (:mod:`evosim.io.lock`) while it
writes: a second process writing the same folder is refused.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from evosim.config.load import load_world
from evosim.config.priors import resolve_world
from evosim.config.schema import World
from evosim.engine import runtime
from evosim.engine.sim import Simulation
from evosim.errors import ConfigError, Stopped
from evosim.io import continuation
from evosim.io.checkpoint import headers
from evosim.io.continuation import check_interventions
from evosim.io.lock import LOCK_NAME, run_folder_lock
from evosim.io.recorder import Recorder, prepare_folder

#: Exit codes for interruption by a signal (128 + signal number).
EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(Exception):
    """The run stopped on a signal after writing a checkpoint and its summary.

    Attributes:
        signum: the signal's number.
        exit_code: the exit code for it (:data:`EXIT_CODES`; 130 for others).
        summary: the ``summary.json`` written (``ended: interrupted``).
    """

    def __init__(self, signum: int, summary: dict):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum
        self.exit_code = EXIT_CODES.get(signum, 130)
        self.summary = summary


def kernels_cached() -> bool:
    """True if numba's on-disk cache holds the kernels of the flavour in use (no compile pause expected)."""
    return runtime.kernels_cached()


def default_out(world: World, seed: int) -> Path:
    """``runs/<world>-seed<seed>-<timestamp>``: never an existing folder."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{world.name}-seed{seed}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def resolve(
    world: World,
    ticks: int | None = None,
    seed: int | None = None,
    checkpoint_every: int | None = None,
    draw: bool = True,
) -> World:
    """The world with the run's seed, length and checkpoint interval written into it.

    Founders drawn from a prior are drawn here (``draw``), from the run's seed
    (:func:`evosim.config.priors.resolve_world`): the world returned, which the
    run records in config.yaml, has numbers only. A branch draws them from its
    checkpoint's seed instead (:func:`evosim.io.continuation.branch`).
    """
    sim = world.sim.model_copy(
        update={k: v for k, v in (("ticks", ticks), ("seed", seed)) if v is not None}
    )
    out = world.output
    if checkpoint_every is not None:
        out = out.model_copy(update={"checkpoint_every": checkpoint_every})
    world = world.model_copy(update={"sim": sim, "output": out})
    return resolve_world(world) if draw else world


@contextmanager
def _signals():
    """Turn SIGINT/SIGTERM into a flag (first) or an immediate exit (second)."""
    caught: list[int] = []

    def handler(signum, _frame):
        if caught:
            os._exit(EXIT_CODES.get(signum, 130))
        caught.append(signum)

    installed = {}
    for sig in EXIT_CODES:
        try:
            installed[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. a Dask worker): no handlers
            pass
    try:
        yield caught
    finally:
        for sig, old in installed.items():
            signal.signal(sig, old)


def _loop(
    rec: Recorder,
    ticks: int,
    progress: Callable[[Simulation], None] | None,
    starting: Callable[[], None] | None = None,
    watch: Callable[[Simulation], bool] | None = None,
) -> dict:
    if starting is not None:
        starting()
    sim = rec.sim
    every = sim.world.output.checkpoint_every
    with _signals() as caught:
        while sim.tick < ticks and not sim.extinct:
            sim.step()
            rec.on_tick(sim)
            # before the checkpoint, so that a resume from it has seen this tick; True: stop here
            if watch is not None and watch(sim):
                break
            if every and sim.tick % every == 0 and sim.tick < ticks:
                rec.checkpoint()
            if progress is not None:
                progress(sim)
            if caught:
                raise Interrupted(caught[0], rec.close("interrupted"))
    return rec.close("extinct" if sim.extinct else "completed")


def run(
    world: World,
    out: str | os.PathLike,
    ticks: int | None = None,
    seed: int | None = None,
    force: bool = False,
    progress: Callable[[Simulation], None] | None = None,
    checkpoint_every: int | None = None,
    world_file: str | os.PathLike | None = None,
    starting: Callable[[], None] | None = None,
    watch: Callable[[Simulation], bool] | None = None,
) -> dict:
    """Run ``world`` and write the run folder.

    Args:
        world: validated world.
        out: run folder to create.
        ticks: ticks to run; ``None`` uses ``world.sim.ticks``.
        seed: overrides ``world.sim.seed``.
        force: replace an existing run folder.
        progress: called after every tick (e.g. to advance a progress bar).
        checkpoint_every: overrides ``output.checkpoint_every``.
        world_file: the file ``world`` came from (recorded for ``--resume``).
        starting: called once every check has passed, just before the simulation is built (the
            kernels compile from there on a first run): the CLI's "Compiling..." notice.
        watch: called with the simulation at tick 0, then after every tick, before that tick's
            checkpoint (:mod:`evosim.experiments.shared_past` watches where arms would fire);
            when it returns True the run ends there, ``completed`` short of its horizon.

    Returns:
        The summary written to ``summary.json``.

    Raises:
        ConfigError: the folder may not be used, or the world cannot be built
            (nothing is written in either case).
        Interrupted: a signal stopped the run (checkpoint and summary written).
    """
    world = resolve(world, ticks, seed, checkpoint_every)
    if world.sim.reseed is not None:
        raise ConfigError(
            f"sim.reseed: {world.sim.reseed}: a reseed starts a fresh future from a checkpoint "
            "(`evosim run --from CHECKPOINT --reseed K`); a run from tick 0 draws from its seed "
            "(set sim.reseed to null, or give another --seed). Nothing was written"
        )
    check_interventions(world, 0)
    prepare_folder(out, force)  # before building the world: a refused folder costs nothing
    with run_folder_lock(out) as folder:
        prepare_folder(folder, force)  # again: another process may have written it meanwhile
        with _discard_unless_checkpointed(folder):
            if starting is not None:  # every check passed: the kernels compile from here on
                starting()
            rec = Recorder(folder, Simulation(world), world_file=world_file, checked=True)
            rec.open()
        stop = watch is not None and watch(rec.sim)
        return _loop(rec, 0 if stop else world.sim.ticks, progress, watch=watch)


@contextmanager
def _discard_unless_checkpointed(folder: Path):
    """A signal (:class:`~evosim.errors.Stopped`) or a failed write while a run folder is set up:
    if it has no checkpoint yet, remove what was written (the lock then removes the folder it
    created), so the run leaves a resumable folder or none."""
    try:
        yield
    except (Stopped, OSError):
        if not headers(folder / "checkpoints"):
            for p in folder.iterdir():
                if p.name != LOCK_NAME:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        raise


def resume(
    folder: str | os.PathLike,
    force: bool = False,
    progress: Callable[[Simulation], None] | None = None,
    ticks: int | None = None,
    starting: Callable[[], None] | None = None,
    watch: Callable[[Simulation], bool] | None = None,
) -> tuple[dict, list[str], int]:
    """Continue a run from its newest checkpoint whose logs match (see :mod:`evosim.io.continuation`).

    Args:
        folder: the run folder.
        force: resume even if the world file changed since the run started.
        progress, starting: as for :func:`run`.
        ticks: the run's new length (recorded in its config.yaml); default: its own.
        watch: as for :func:`run`, after every tick (the resumed tick was seen before its
            checkpoint was written).

    Returns:
        (summary, messages about newer checkpoints passed over, tick resumed from).

    Raises:
        ConfigError: see :func:`evosim.io.continuation.resume`.
        RunFolderError: the logs match no checkpoint, or another process writes the folder.
    """
    if not Path(folder).is_dir():
        raise ConfigError(f"--resume {folder}: no such run folder")
    with run_folder_lock(folder, create=False):
        rec, refused = continuation.resume(folder, force, ticks)
        start = rec.sim.tick
        return _loop(rec, rec.sim.world.sim.ticks, progress, starting, watch), refused, start


def branch(
    checkpoint: str | os.PathLike,
    world: World,
    out: str | os.PathLike,
    ticks: int | None = None,
    force: bool = False,
    progress: Callable[[Simulation], None] | None = None,
    checkpoint_every: int | None = None,
    world_file: str | os.PathLike | None = None,
    reseed: int | None = None,
    starting: Callable[[], None] | None = None,
) -> dict:
    """Run ``world`` from a checkpoint's state into a new run folder (``evosim run --from``).

    Args:
        checkpoint: a checkpoint header (``.json``) or data (``.npz``) path.
        world: the branch's world (same grid; other parameters and interventions may differ).
        out: the new run folder.
        ticks: total ticks (counted from tick 0) to reach; default ``world.sim.ticks``.
        force, progress, checkpoint_every, world_file, starting: as for :func:`run`.
        reseed: a fresh random stream keyed by (seed, the checkpoint's tick, ``reseed``)
            (``--reseed``; :func:`evosim.io.continuation.branch`).

    Returns:
        The summary.
    """
    world = resolve(world, ticks, None, checkpoint_every, draw=False)
    prepare_folder(out, force)
    with run_folder_lock(out) as folder:
        with _discard_unless_checkpointed(folder):
            rec = continuation.branch(
                checkpoint, world, out, force=force, world_file=world_file, reseed=reseed
            )
        return _loop(rec, world.sim.ticks, progress, starting)


def interventions_never_applied(folder: str | os.PathLike) -> list[str]:
    """One line per intervention of the run in ``folder`` that its events.csv never shows applying.

    Timed interventions outside the run are refused before it starts; these
    are the ones whose trigger never fired, whose target matched no species
    when they came due, or that the run did not reach (it ended early).
    """
    folder = Path(folder)
    try:
        world = load_world(folder / "config.yaml")
        with open(folder / "events.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, ConfigError):
        return []
    applied: set[str] = set()
    unmatched: Counter[str] = Counter()
    for r in rows:
        name = r["details"].split(":", 1)[0]
        if r["kind"] == "intervention":
            applied.add(name)
        elif r["kind"] == "intervention_no_match":
            unmatched[name] += 1
    out = []
    for iv in world.interventions:
        if iv.name in applied:
            continue
        w = iv.when
        if unmatched[iv.name]:
            why = f"it came due {unmatched[iv.name]} time(s) but its target matched no species"
        elif w.trigger is not None:
            what = f"{w.trigger} {w.milestone or w.value or ''}".strip()
            why = f"its trigger ({what}) never fired for a species it targets"
        else:
            why = "the run ended before it came due"
        out.append(f"intervention '{iv.name}' never applied: {why}")
    return out
