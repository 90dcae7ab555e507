"""Continuing a run from a checkpoint: ``--resume`` (the same run folder) and ``--from`` (a branch).

Both check everything before they change anything: the checkpoint (checksums,
header), that it belongs to the run (or, for a branch, that the branch's world
keeps the grid, habitat and founders it describes), and that the logs it
continues hold exactly what it recorded (:mod:`evosim.io.integrity`). A
resume falls back to an older checkpoint whose logs still match, or refuses
(:class:`~evosim.errors.RunFolderError`, exit 1); it never writes a hole.
The caller holds the run folder's lock (:mod:`evosim.io.lock`).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

from evosim.config.compat import shapes
from evosim.config.interventions import never_applies
from evosim.config.load import load_world, world_to_dict
from evosim.config.priors import resolve_world
from evosim.config.schema import World
from evosim.errors import CheckpointError, ConfigError, RunFolderError
from evosim.io import checkpoint as ckpt
from evosim.io.columns import BASE_TIMESERIES_COLUMNS, timeseries_columns
from evosim.io.files import atomic_write_text
from evosim.io.integrity import APPEND_LOGS, LogLedger
from evosim.io.recorder import Recorder, file_sha, prepare_folder, tick0_part, world_sha


def check_interventions(world: World, first: int, start: str = "") -> None:
    """Refuse interventions timed outside the ticks ``first .. world.sim.ticks`` a run simulates.

    Args:
        world: the run's world (its ``sim.ticks`` resolved).
        first: the first tick the run applies interventions at.
        start: why the run starts there, for the message (e.g. the branch's checkpoint).

    Raises:
        ConfigError: naming each intervention that would never apply (nothing is written).
    """
    problems = never_applies(world.interventions, first, world.sim.ticks)
    if problems:
        raise ConfigError(
            "; ".join(problems)
            + f"{start}, so it would never apply; change its timing, the run's length "
            "(--ticks or sim.ticks) or the checkpoint it starts from"
        )


def _with_ticks(world: World, ticks: int) -> World:
    return world.model_copy(update={"sim": world.sim.model_copy(update={"ticks": ticks})})


def _usable(folder: Path, world: World) -> tuple[Path, dict, dict, LogLedger, list[str]]:
    """The newest checkpoint of the run in ``folder`` that verifies and whose logs match it.

    Returns:
        (header path, header, arrays, the ledger of the verified logs, notes on newer checkpoints passed over).

    Raises:
        RunFolderError: valid checkpoints exist but the logs match none of them.
        CheckpointError: no valid checkpoint.
    """
    cfg_sha = ckpt.sha256((folder / "config.yaml").read_bytes())
    # the run's own hash, or the one an older evosim recorded (without the keys added since)
    own = {world_sha(d) for d in shapes(world_to_dict(world))}
    notes: list[str] = []
    mismatch: list[tuple[int, str]] = []  # (tick, problem) of checkpoints the logs do not match
    for hp in ckpt.headers(folder / "checkpoints"):
        try:
            header, arrays = ckpt.read(hp)
        except CheckpointError as exc:
            notes.append(str(exc))
            continue
        recorded = header["extra"].get("world_sha256")
        if (recorded not in own) if recorded else (header.get("config_sha256") != cfg_sha):
            notes.append(f"{hp}: this checkpoint belongs to a different config")
            continue
        ledger = LogLedger(folder)
        problem = ledger.check(header, f"the checkpoint of tick {header['tick']} ({hp.name})")
        if problem is None:
            return hp, header, arrays, ledger, notes
        mismatch.append((header["tick"], problem))
        notes.append(f"{hp.name}: {problem}")
    if mismatch:
        older = ", ".join(str(t) for t, _ in mismatch[1:])
        raise RunFolderError(
            f"--resume {folder}: {mismatch[0][1]}"
            + (f" (nor do the logs match the older checkpoints of ticks {older})" if older else "")
            + ". A log was shortened, deleted or changed after the run stopped; resuming would leave "
            "a hole in it, so nothing was changed. Restore the file from a copy, or run the world "
            f"again into a new folder: evosim run {folder / 'config.yaml'} --out NEW_FOLDER"
        )
    detail = f" (refused: {'; '.join(notes)})" if notes else ""
    raise CheckpointError(f"{folder / 'checkpoints'}: no valid checkpoint to resume from{detail}")


def resume(
    folder: str | os.PathLike, force: bool = False, ticks: int | None = None
) -> tuple[Recorder, list[str]]:
    """Reopen a run folder at its newest checkpoint whose logs match; cut the logs back to it.

    No row is lost or duplicated. With ``ticks`` the run's length becomes
    ``ticks`` and ``config.yaml`` says so (running it repeats the run).

    Returns:
        The recorder (its ``sim`` restored) and notes on newer checkpoints passed over.

    Raises:
        ConfigError: not a run folder, no valid checkpoint, the world file
            changed since the run started (unless ``force``), or ``ticks`` is
            below the tick the run has reached.
        RunFolderError: the logs match no checkpoint (nothing is changed).
    """
    folder = Path(folder)
    cfg = folder / "config.yaml"
    if not cfg.is_file():
        raise ConfigError(f"--resume {folder}: not a run folder (no config.yaml)")
    world = load_world(cfg)
    hp, header, arrays, ledger, notes = _usable(folder, world)
    extra = header["extra"]
    wf, wsha = extra.get("world_file"), extra.get("world_file_sha256")
    if wf and wsha and Path(wf).exists() and file_sha(wf) != wsha and not force:
        raise ConfigError(
            f"{wf}: the world file changed since this run started; the run continues from its "
            f"resolved config.yaml, pass --force to resume anyway"
        )
    if ticks is not None and ticks < header["tick"]:
        raise ConfigError(
            f"--ticks {ticks}: the run in {folder} is already at tick {header['tick']} (checkpoint "
            f"{hp.name}); give --ticks {header['tick']} or more, or leave --ticks out to finish its "
            f"{world.sim.ticks} ticks. Nothing was changed"
        )
    length_changed = ticks is not None and ticks != world.sim.ticks
    if length_changed and ticks is not None:
        world = _with_ticks(world, ticks)
        check_interventions(world, 0)
    rec = Recorder(folder, ckpt.restore(world, arrays, header["scalars"]), checked=True)
    rec.world_file, rec.world_file_sha = wf, wsha  # the run's, as its checkpoints keep them
    rec.ledger = ledger
    ledger.cut_back(header)
    if length_changed:  # config.yaml records the run's new length
        text = rec.config_text()
        atomic_write_text(cfg, text)
        rec.config_sha = ckpt.sha256(text.encode("utf-8"))
    else:
        rec.config_sha = ckpt.sha256(cfg.read_bytes())
    rec.continue_logs(int(extra.get("lineage_chunks", 0)), arrays)
    return rec, notes


def _tick0_of_run(header_path: Path, header: dict, arrays: dict) -> tuple[dict | None, str]:
    """The tick-0 keys of the run a checkpoint comes from, and where they were read."""
    if "tick0" in header["extra"]:
        return header["extra"]["tick0"], "the checkpoint"
    cfg = header_path.resolve().parent.parent / "config.yaml"
    if cfg.is_file():
        try:
            return tick0_part(world_to_dict(load_world(cfg))), str(cfg)
        except ConfigError:
            pass
    return None, ""


def check_branch_world(header_path: Path, header: dict, arrays: dict, world: World) -> None:
    """Refuse a branch world whose grid, habitat or founders differ from the checkpoint's run.

    Those keys act only at tick 0: the branch would continue the checkpoint's
    agents and habitat while its config.yaml described others.
    """
    hab = arrays["sim.habitat"]
    if hab.shape != (world.world.height, world.world.width):
        raise ConfigError(
            f"{header_path}: the checkpoint's grid is {hab.shape[1]}x{hab.shape[0]}, the world's is "
            f"{world.world.width}x{world.world.height}; a branch must keep the grid"
        )
    mine = tick0_part(world_to_dict(world))
    theirs, source = _tick0_of_run(header_path, header, arrays)
    if theirs is None:  # a bare checkpoint of an older evosim: compare the founders' names
        names = [str(n) for n, p in zip(arrays["species.names"], arrays["species.parent"]) if p < 0]
        theirs, source = {"species": names}, "the checkpoint's species"
        mine = {"species": [s.name for s in world.species]}
    changed = [k for k in mine if mine[k] != theirs.get(k)]
    if changed:
        raise ConfigError(
            f"{header_path}: the branch's world changes {', '.join(changed)} (compared with {source}), "
            f"which act only at tick 0: a branch continues the checkpoint's grid, habitat and founders, "
            f"so its config.yaml would describe a run it is not. Leave out WORLD_FILE to branch with the "
            f"run's own config, and change other keys with --set"
        )


def _copy_history(rec: Recorder, parent: Path, header: dict, header_path: Path) -> int | None:
    """Copy the parent run's logs up to the checkpoint into the branch.

    Returns:
        The lineage chunks copied, or None if the parent kept no logs (a bare checkpoint).

    Raises:
        RunFolderError: the parent's logs do not match what the checkpoint recorded.
    """
    logs = header["logs"]
    if not all(n in logs and (parent / n).is_file() for n in APPEND_LOGS):
        return None
    lineage = rec.sim.world.output.lineage and (parent / "lineage").is_dir()
    wanted = tuple(APPEND_LOGS) + (("lineage/",) if lineage else ())
    problem = LogLedger(parent).check(
        header, f"the checkpoint {header_path.name}", only=lambda rel: rel.startswith(wanted)
    )
    if problem:
        raise RunFolderError(
            f"--from {header_path}: cannot copy the history of its run: {problem}. Restore that file, "
            f"or copy the checkpoint's .json and .npz out of the run folder to branch without the "
            f"run's history"
        )
    for name in APPEND_LOGS:
        with open(parent / name, "rb") as fh:
            (rec.folder / name).write_bytes(fh.read(logs[name]))
    chunks = int(header["extra"].get("lineage_chunks", 0)) if lineage else 0
    if lineage:
        (rec.folder / "lineage").mkdir(exist_ok=True)
        for k in range(chunks):
            name = f"lineage/part-{k:05d}.parquet"
            shutil.copyfile(parent / name, rec.folder / name)
    _widen_timeseries(rec)
    return chunks


def _widen_timeseries(rec: Recorder) -> None:
    """Give the copied timeseries.csv a share column for each milestone of the branch it lacks.

    A branch under another technology ladder keeps the parent's columns (their
    rows before the branch) and adds its own; each row fills the columns of its
    run's milestones and leaves the others empty, so no value is ever written
    under another milestone's name.
    """
    path = rec.folder / "timeseries.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    shares = [c.removeprefix("share_") for c in rows[0][len(BASE_TIMESERIES_COLUMNS) :]]
    added = [m for m in rec.milestones if m not in shares]
    if not added:
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(timeseries_columns(shares + added))
    w.writerows(row + [""] * len(added) for row in rows[1:])
    path.write_text(buf.getvalue(), encoding="utf-8")


def branch(
    header_path: str | os.PathLike,
    world: World,
    out: str | os.PathLike,
    force: bool = False,
    world_file: str | os.PathLike | None = None,
    reseed: int | None = None,
) -> Recorder:
    """Start a new run folder ``out`` from a checkpoint, under ``world`` (e.g. with interventions).

    The state (agents, grids, species, counters, tick, seed) is the
    checkpoint's; the world's parameters and interventions may differ, its
    grid, habitat and founders may not. When the checkpoint lies in a run
    folder, that run's logs up to the checkpoint are copied (after checking
    them), so the branch has the whole history. With ``reseed`` K the future
    draws from a fresh stream keyed by (seed, the checkpoint's tick, K)
    (:meth:`evosim.engine.sim.Simulation.reseed`); without, it keeps the
    checkpoint's stream. ``sim.reseed`` of the recorded config is the key in force.

    Raises:
        ConfigError: unusable checkpoint, another grid, habitat or founders, ``out`` taken, or a
            length (``world.sim.ticks``) below the checkpoint's tick.
        RunFolderError: the parent run's logs do not match the checkpoint.
    """
    header_path = Path(header_path)
    header, arrays = ckpt.read(header_path)
    if world.sim.ticks < header["tick"]:
        raise ConfigError(
            f"{world.sim.ticks} ticks (--ticks, else sim.ticks): the checkpoint {header_path.name} is already at tick "
            f"{header['tick']}; a branch runs from there to a later tick (its total, counted from "
            f"tick 0): give --ticks {header['tick']} or more. Nothing was written"
        )
    world = resolve_world(world, header["seed"])  # drawn founders: the checkpoint's run's
    check_branch_world(header_path, header, arrays, world)
    check_interventions(
        world,
        header["tick"] + 1,
        f" (the branch starts after its checkpoint's tick {header['tick']})",
    )
    out = prepare_folder(out, force)
    world = world.model_copy(update={"sim": world.sim.model_copy(update={"seed": header["seed"]})})
    sim = ckpt.restore(world, arrays, header["scalars"])
    if reseed is not None:
        sim.reseed(reseed)
    in_force = sim.reseeded[1] if sim.reseeded is not None else None
    sim.world = world.model_copy(update={"sim": world.sim.model_copy(update={"reseed": in_force})})
    rec = Recorder(out, sim, world_file=world_file, checked=True)
    rec._start_folder()
    parent = header_path.resolve().parent.parent
    chunks = _copy_history(rec, parent, header, header_path)
    if chunks is not None:
        rec.continue_logs(chunks, arrays, frames=False)
    else:  # no parent logs: start fresh logs at the branch tick
        rec._fresh_logs()
    how = f", reseed {reseed}" if reseed is not None else ""
    sim.events.append((sim.tick, "branch", -1, f"branched from {header_path.name}{how}"))
    rec.write_events()
    rec._periodic_checkpoint()
    return rec
