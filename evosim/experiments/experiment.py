"""Experiments: arms x replicates of a world, run on a Dask cluster (docs/experiments.md).

An experiment folder holds ``experiment.json`` (the manifest of
:mod:`evosim.experiments.manifest`: spec, derived seeds, arms, evosim version)
and one run folder per replicate, ``<arm>/rep-<k>/``; with ``branch_tick`` also the shared bases
``_base/rep-<k>/``. A replicate is *finished* when its ``summary.json`` says
``ended: completed`` or ``extinct``. Every task is idempotent: it takes a
lock beside its own folder, returns at once if the folder is finished, else
resumes it from its newest valid checkpoint, else starts it afresh. So a
re-run skips finished replicates and redoes unfinished ones, and a task that
Dask retries after losing a worker neither loses nor duplicates a result.

Tasks receive and return plain data (paths, dicts of the resolved world), so
nothing of the user's is pickled beyond what Dask does with its own task
arguments.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from evosim.config.load import (
    locate,
    read_world_file,
    validation_message,
    world_from_data,
    world_to_dict,
)
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.manifest import check_out, run_folder, save_manifest, write_manifest  # noqa: F401 (re-exported)
from evosim.experiments.spec import Experiment, ExperimentSpec, read_spec
from evosim.io.lock import locked

BASE_DIR = "_base"
FINISHED = ("completed", "extinct")
#: Keys of a world that only act at tick 0; a branched arm may not change them.
TICK0_KEYS = ("world.width", "world.height", "world.habitat", "species", "founders")


# ------------------------------------------------------------------ loading
def derive_seeds(root: int, n: int) -> list[int]:
    """Replicate seeds: ``SeedSequence(root, spawn_key=(k,))`` -> 63-bit int, k = 0..n-1.

    Equal to ``SeedSequence(root).spawn(n)[k]``; adding replicates keeps the seeds of the existing ones.
    """
    out = [
        int(
            np.random.SeedSequence(root, spawn_key=(k,)).generate_state(1, np.uint64)[0]
            >> np.uint64(1)
        )
        for k in range(n)
    ]
    if len(set(out)) != n:  # pragma: no cover - 63-bit collisions
        raise ConfigError(f"seed {root}: derived replicate seeds collide; choose another seed")
    return out


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _check_interventions(exp_path: Path, node: Any, i: int, spec: ExperimentSpec) -> None:
    """Refuse arm interventions timed before the branch, or whose window outlasts the run.

    (The world schema refuses unknown milestones and founders.)
    """
    for j, iv in enumerate(spec.arms[i].interventions):
        if iv.when.window is not None and iv.when.window >= spec.ticks:
            raise ConfigError(
                f"{locate(exp_path, ('arms', i, 'interventions', j, 'when', 'window'), node)}: "
                f"window {iv.when.window} is not shorter than the {spec.ticks} ticks each replicate runs, "
                f"so trigger {iv.when.trigger} could never fire"
            )
        if (
            spec.branch_tick is not None
            and iv.when.tick is not None
            and iv.when.tick <= spec.branch_tick
        ):
            raise ConfigError(
                f"{locate(exp_path, ('arms', i, 'interventions', j, 'when', 'tick'), node)}: "
                f"tick {iv.when.tick} is not after branch_tick {spec.branch_tick}, "
                f"so it would never apply in the arm (the first tick an arm runs is "
                f"{spec.branch_tick + 1})"
            )


def load_experiment(path: str | os.PathLike, ticks: int | None = None) -> Experiment:
    """Load an experiment file and build every arm's world up front.

    The base world file is read once; the base is it with the common
    overrides, each arm it with the common and then the arm's overrides.
    Each distinct starting world is also constructed once (catches map files
    of the wrong size, species without a start habitat).

    Args:
        path: the experiment YAML file.
        ticks: replaces the file's ``ticks`` (a longer horizon extends an existing folder).

    Raises:
        ConfigError: anything wrong with the file, the base world, the common
            overrides or any arm; nothing has run.
    """
    p = Path(path)
    spec, node = read_spec(p, ticks)
    world_path = (p.parent / spec.world).resolve()
    try:
        world_data, world_node = read_world_file(world_path)
    except ConfigError as exc:
        raise ConfigError(f"{locate(p, ('world',), node)}: {exc}") from None

    def world_with(overrides: list[tuple[str, Any]]) -> World:
        return world_from_data(
            world_data, world_node, str(world_path), overrides, world_path.parent
        )

    common = list(spec.overrides.items())
    try:
        base = world_with(common)
    except ConfigError as exc:
        loc, why = ("world",), exc
        if (
            common
        ):  # refused with the common overrides: are they the cause, or the world file itself?
            try:
                world_with([])
                loc = ("overrides",)
            except ConfigError as alone:
                why = alone
        raise ConfigError(f"{locate(p, loc, node)}: {why}") from None
    arms: dict[str, World] = {}
    base_data = world_to_dict(base)
    for i, arm in enumerate(spec.arms):
        at = f"{locate(p, ('arms', i, 'overrides'), node)}: arm '{arm.name}'"
        try:
            w = world_with(
                common + list(arm.overrides.items())
            )  # pairs: common first, so the arm's win
        except ConfigError as exc:
            raise ConfigError(f"{at}: {exc}") from None
        data = world_to_dict(w)
        data["interventions"] = data["interventions"] + [
            iv.model_dump(mode="json") for iv in arm.interventions
        ]
        try:
            w = World.model_validate(data)
        except ValidationError as exc:
            where = f"{locate(p, ('arms', i, 'interventions'), node)}: arm '{arm.name}'"
            raise ConfigError(validation_message(exc, where, None)) from None
        _check_interventions(p, node, i, spec)
        if spec.branch_tick is not None:
            changed = [k for k in TICK0_KEYS if _get(data, k) != _get(base_data, k)]
            if changed:
                raise ConfigError(
                    f"{at} changes {', '.join(changed)}, which only act at tick 0, but every arm continues the shared "
                    f"base from branch_tick {spec.branch_tick}; move these overrides to the common `overrides` or drop "
                    f"branch_tick"
                )
        arms[arm.name] = w
    seeds = derive_seeds(spec.seed, spec.replicates)
    exp = Experiment(spec, p, world_path, base, arms, seeds, _notes(spec))
    _build_once(exp)
    return exp


def _notes(spec: ExperimentSpec) -> list[str]:
    """Warnings about triggers that a branch tick makes blind to events before it."""
    if spec.branch_tick is None:
        return []
    out = []
    for arm in spec.arms:
        for iv in arm.interventions:
            if iv.when.trigger in ("intelligent", "technological", "milestone"):
                what = (
                    f"reach {iv.when.milestone}"
                    if iv.when.trigger == "milestone"
                    else f"become {iv.when.trigger}"
                )
                out.append(
                    f"arm '{arm.name}': intervention '{iv.name}' (trigger {iv.when.trigger}) only sees species that "
                    f"{what} after branch_tick {spec.branch_tick}; those that did "
                    f"so in the shared base are not targeted "
                    f"(add a `when: {{tick: {spec.branch_tick + 1}}}` intervention "
                    f"for them, or drop branch_tick: "
                    f"arms sharing a seed are identical until an intervention first fires)"
                )
    return out


def _build_once(exp: Experiment) -> None:
    """Construct each distinct starting world (interventions aside) with the first replicate's seed.

    Raises ConfigError if one cannot start.
    """
    from evosim.engine.sim import Simulation  # numba: loaded by the tasks, not by reading a spec

    starts = {"base": exp.base} if exp.spec.branch_tick is not None else exp.arms
    seen: set[str] = set()
    for name, w in starts.items():
        key = json.dumps(
            {k: v for k, v in world_to_dict(w).items() if k != "interventions"}, sort_keys=True
        )
        if key in seen:
            continue
        seen.add(key)
        try:
            Simulation(w, seed=exp.seeds[0])
        except ConfigError as exc:
            what = "the base world" if name == "base" else f"arm '{name}'"
            raise ConfigError(f"{exp.path}: {what} cannot start: {exc}") from None


# -------------------------------------------------------------------- tasks
def finished_summary(folder: str | os.PathLike) -> dict | None:
    """The run's summary if it ended ``completed`` or ``extinct``, else None."""
    try:
        s = json.loads(Path(folder, "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return s if isinstance(s, dict) and s.get("ended") in FINISHED else None


def needs_extension(summary: dict, ticks: int) -> bool:
    """A finished run that completed fewer than ``ticks`` ticks (an extinct one stays as it is)."""
    return summary.get("ended") == "completed" and int(summary.get("ticks_run", 0)) < ticks


def lock_path(folder: str | os.PathLike) -> Path:
    """The lock file of a run folder: ``.<name>.lock`` beside it."""
    f = Path(folder)
    return f.parent / f".{f.name}.lock"


def newest_checkpoint(folder: str | os.PathLike) -> str:
    """Header path of the newest valid checkpoint of a run folder (CheckpointError if none)."""
    from evosim.io import checkpoint as ckpt  # numba: loaded by the tasks, not by reading a spec

    hp, _, _, _ = ckpt.newest_valid(Path(folder) / "checkpoints")
    return str(hp)


def ensure_run(task: dict, base: dict | None = None) -> dict:
    """Bring one run folder to a finished state (the Dask task; idempotent).

    Args:
        task: plain data: ``folder``, ``world`` (resolved world dict), ``ticks``,
            ``seed``, ``every`` (checkpoint interval), ``arm``, ``replicate``.
        base: for a branched arm, the result of its base's task (gives ``checkpoint``).

    Returns:
        Plain data: the task's identity, ``action`` (skipped, resumed, ran,
        restarted), ``ended``, ``ticks_run``, ``wall_s``, detector counts and,
        for a base, the ``checkpoint`` to branch from.
    """
    from evosim.engine import runtime  # numba: loaded by the tasks, not by reading a spec
    from evosim.io import runner

    runtime.set_threads(1)  # the replicates fill the cores: one thread each (results are the same)
    folder = Path(task["folder"])
    t0 = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # waits for another task of the same replicate (a Dask retry); removed when this one ends
    with locked(lock_path(folder), wait=True, what=str(folder)):
        summary, action = finished_summary(folder), "skipped"
        if summary is not None and needs_extension(summary, task["ticks"]):
            # a longer horizon: continue the finished run from its final checkpoint (evosim run --resume --ticks)
            summary, _, _ = runner.resume(folder, force=True, ticks=task["ticks"])
            action = "extended"
        if summary is None and (folder / "config.yaml").is_file():
            try:
                summary, _, _ = runner.resume(folder, force=True, ticks=task["ticks"])
                action = "resumed"
            except (
                ConfigError
            ):  # no valid checkpoint (CheckpointError) or not a run folder: start afresh
                summary = None
        if summary is None:
            action = "restarted" if folder.exists() and any(folder.iterdir()) else "ran"
            world = World.model_validate(task["world"])
            if base is not None:
                summary = runner.branch(
                    base["checkpoint"],
                    world,
                    folder,
                    ticks=task["ticks"],
                    force=True,
                    checkpoint_every=task["every"],
                )
            else:
                summary = runner.run(
                    world,
                    folder,
                    ticks=task["ticks"],
                    seed=task["seed"],
                    force=True,
                    checkpoint_every=task["every"],
                )
        out = {k: task[k] for k in ("arm", "replicate", "seed", "folder")}
        out.update(
            action=action,
            ended=summary["ended"],
            ticks_run=summary["ticks_run"],
            wall_s=round(time.perf_counter() - t0, 3),
            intelligent_species=summary.get("intelligent_species"),
            technological_species=summary.get("technological_species"),
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        if task["arm"] == BASE_DIR:  # a shared base: its branches start from its checkpoint
            out["checkpoint"] = newest_checkpoint(folder)
        return out


# ---------------------------------------------------------------- planning
@dataclass
class Plan:
    """What a (re-)run of an experiment does."""

    finished: list[tuple[str, int]] = field(default_factory=list)
    todo: list[tuple[str, int]] = field(default_factory=list)
    #: the finished replicates of ``todo`` that a longer horizon extends: (arm, k, ticks run,
    #: wall seconds per tick of the run so far)
    extend: list[tuple[str, int, int, float]] = field(default_factory=list)

    def extension_core_seconds(self, ticks: int) -> float:
        """Estimated core-seconds to extend :attr:`extend` to ``ticks``: each run's own seconds per tick so far."""
        return sum((ticks - done) * per_tick for _, _, done, per_tick in self.extend)


def make_task(exp: Experiment, out: Path, arm: str, k: int) -> dict:
    """The plain-data task of replicate ``k`` of ``arm`` for :func:`ensure_run`.

    ``arm == "_base"`` is the shared base.
    """
    s = exp.spec
    if arm == BASE_DIR:
        assert s.branch_tick is not None  # only a branched experiment has a shared base
        world, ticks, every = exp.base, s.branch_tick, min(s.every, s.branch_tick)
    else:
        world, ticks, every = exp.arms[arm], s.ticks, s.every
    return {"arm": arm, "replicate": k, "seed": exp.seeds[k], "folder": str(out / run_folder(arm, k)),
            "world": world_to_dict(world), "ticks": ticks, "every": every}  # fmt: skip


def plan(exp: Experiment, out: str | os.PathLike) -> Plan:
    """Which replicates are finished and which must run."""
    out = Path(out).resolve()
    p = Plan()
    for arm in exp.arms:
        for k in range(len(exp.seeds)):
            s = finished_summary(out / run_folder(arm, k))
            if s is None:
                p.todo.append((arm, k))
            elif needs_extension(s, exp.spec.ticks):
                done = int(s["ticks_run"])
                wall = float((s.get("timing") or {}).get("wall_time_s", math.nan))
                p.extend.append((arm, k, done, wall / max(done, 1)))
                p.todo.append((arm, k))
            else:
                p.finished.append((arm, k))
    return p


@dataclass
class Prepared:
    """An experiment ready to run into a folder: what :func:`prepare` found (nothing written yet)."""

    out: Path
    manifest: dict
    plan: Plan


def prepare(exp: Experiment, out: str | os.PathLike) -> Prepared:
    """Check that ``out`` may take ``exp`` (:func:`check_out`) and :func:`plan` the run; nothing is written.

    Raises:
        ConfigError: as :func:`check_out`; or the spec has a ``sweep`` block
            (:mod:`evosim.experiments.sweep` runs it).
    """
    if exp.spec.sweep is not None:
        raise ConfigError(f"{exp.path}: has a `sweep` block; run it with `evosim sweep {exp.path}`")
    return Prepared(Path(out).resolve(), check_out(exp, out), plan(exp, out))


@dataclass
class Outcome:
    """Result of :func:`run_experiment`."""

    total: int
    results: list[dict] = field(default_factory=list)
    failures: list[tuple[str, int, str]] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many replicates ended with ``action`` (skipped, ran, resumed, restarted, extended)."""
        return sum(r["action"] == action for r in self.results)


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: on an existing scheduler, or on a new loopback ``LocalCluster`` of ``workers`` processes.

    Raises:
        ConfigError: the scheduler cannot be reached.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({exc})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def run_experiment(
    exp: Experiment,
    out: str | os.PathLike,
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[dict | None, Outcome], None] | None = None,
    prepared: Prepared | None = None,
) -> Outcome:
    """Run every unfinished replicate of ``exp`` into ``out`` on Dask.

    Args:
        exp: from :func:`load_experiment`.
        out: the experiment folder (created; a re-run continues it).
        workers: worker processes of the local cluster (default: CPU count).
        scheduler: address of an existing Dask scheduler (then ``workers`` is unused).
        on_done: called with each finished replicate's result (``None`` for a
            failure), including skipped ones, e.g. to advance a progress bar.
        prepared: :func:`prepare` of the same ``exp`` and ``out``, if the caller
            has it already (else it is done here).

    Returns:
        The outcome: one result per finished replicate and the failures.

    Raises:
        ConfigError: ``out`` holds another experiment, or the scheduler is unreachable.
    """
    prep = prepared or prepare(exp, out)
    out, p = prep.out, prep.plan
    save_manifest(out, prep.manifest)
    outcome = Outcome(len(p.finished) + len(p.todo))
    for arm, k in p.finished:
        folder = str(out / run_folder(arm, k))
        outcome.results.append(
            {
                "arm": arm,
                "replicate": k,
                "seed": exp.seeds[k],
                "folder": folder,
                "action": "skipped",
            }
        )
        if on_done:
            on_done(outcome.results[-1], outcome)
    if not p.todo:
        return outcome
    with dask_client(workers, scheduler) as client:
        tag = hashlib.sha256(str(out).encode()).hexdigest()[:8]
        branched = (
            sorted({k for _, k in p.todo}) if exp.spec.branch_tick is not None else []
        )  # shared bases needed
        bases = {
            k: client.submit(
                ensure_run,
                make_task(exp, out, BASE_DIR, k),
                key=f"evosim-{tag}-base-rep{k}-{os.urandom(4).hex()}",
            )
            for k in branched
        }
        futures = []
        for arm, k in p.todo:
            f = client.submit(
                ensure_run,
                make_task(exp, out, arm, k),
                bases.get(k),
                key=f"evosim-{tag}-{arm}-rep{k}-{os.urandom(4).hex()}",
            )
            futures.append(f)
        collect(futures, p.todo, outcome, on_done)
    return outcome


def collect(
    futures: list,
    ids: list[tuple[str, int]],
    outcome: Outcome,
    on_done: Callable[[dict | None, Outcome], None] | None = None,
) -> None:
    """Wait for Dask ``futures`` (of :func:`ensure_run` tasks; ``ids``: their (arm, replicate)) as they finish.

    Each result is appended to ``outcome.results``, each failure (an exception in the task) to
    ``outcome.failures`` without stopping the others; ``on_done`` is called after each.
    """
    from dask.distributed import as_completed

    which = {f.key: t for f, t in zip(futures, ids)}
    for f in as_completed(futures):
        arm, k = which[f.key]
        try:
            result = f.result()
        except Exception as exc:  # noqa: BLE001 - one failed replicate must not stop the others
            outcome.failures.append((arm, k, f"{type(exc).__name__}: {exc}"))
            result = None
        else:
            outcome.results.append(result)
        if on_done:
            on_done(result, outcome)
