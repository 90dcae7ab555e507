"""Shared pasts (``branch_tick: auto``): arms run the base's ticks once, up to where they differ.

Arms that share a seed and a world are the same run, tick for tick, until one of an arm's
interventions first applies (the random streams are keyed by seed, tick, agent and purpose, not by
arm). So with ``branch_tick: auto`` each replicate runs one shared base, ``_base/rep-<k>``: the
base world (no interventions) over the whole horizon, while a *shadow* of every arm's interventions
(:meth:`evosim.engine.interventions.Interventions.due`) watches each tick and applies nothing. The
first tick an arm's interventions would apply pins that arm's branch point: the newest base
checkpoint before that tick, copied to ``_base/rep-<k>/branch_points/`` and recorded in
``branch_points.json``. The arm then continues from there under its own world (its history copied,
as ``evosim run --from``), which is the run it would have made from tick 0. An arm that never fires
continues from the base's final checkpoint; the control, with no interventions, is such an arm.

An arm that would fire at tick 0, or before the base's first checkpoint, runs from tick 0. An arm
whose world differs from the base in anything but its interventions runs from tick 0 too, and
so does every arm if the base world has interventions of its own (an arm's record of which have
fired would not carry over). Trigger ``gated`` keeps a record before it fires, so the experiment
refuses it with ``auto``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from evosim.config.load import world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.spec import Experiment
from evosim.experiments.task import (
    BASE_DIR,
    RunTask,
    finished_summary,
    fresh_action,
    newest_checkpoint,
    result,
)
from evosim.io.files import atomic_write_json
from evosim.io.lock import locked

#: Where a base keeps the checkpoints its arms branch from, and the record of them.
POINTS_DIR = "branch_points"
POINTS_FILE = "branch_points.json"


def branching_arms(exp: Experiment) -> list[str]:
    """The arms that may continue a shared base: their world is the base's but for interventions.

    None if the base world has interventions of its own.
    """
    base = world_to_dict(exp.base)
    if base["interventions"]:
        return []
    plain = {k: v for k, v in base.items() if k != "interventions"}
    return [
        name
        for name, w in exp.arms.items()
        if {k: v for k, v in world_to_dict(w).items() if k != "interventions"} == plain
    ]


def base_tasks(exp: Experiment, out: Path) -> tuple[dict[int, RunTask], list[str]]:
    """The shared bases of an ``auto`` experiment, by replicate, and the arms that branch.

    A base watches the arms of its replicate not yet started (an arm already under way resumes
    from its own checkpoints); a replicate with none needs no base, and gets none.
    """
    s = exp.spec
    arms = branching_arms(exp)
    ivs = {a: [iv.model_dump(mode="json") for iv in exp.arms[a].interventions] for a in arms}
    world = world_to_dict(exp.base)
    bases: dict[int, RunTask] = {}
    for k, seed in enumerate(exp.seeds):
        todo = [a for a in arms if not (out / a / f"rep-{k}" / "config.yaml").is_file()]
        if todo:
            folder = str(out / BASE_DIR / f"rep-{k}")
            watch = {a: ivs[a] for a in todo}
            bases[k] = RunTask(folder, world, seed, s.ticks, s.every, BASE_DIR, k, watch=watch)
    return bases, arms


class Watch:
    """The shadows of the arms' interventions over a base run, and the branch points they pin.

    Called with the simulation at tick 0 and after every tick, before that tick's checkpoint
    (:func:`evosim.io.runner.run`'s ``watch``); returns True, ending the base, once every
    watched arm has its point. A resumed base keeps the arms it was watching.
    """

    def __init__(self, folder: Path, world: World, arms: dict[str, list[dict]]):
        self.folder = folder
        self.world = world
        recorded = read_record(folder)
        self.watched: dict[str, list[dict]] = recorded.get("watched", arms)
        self.points: dict[str, dict[str, Any]] = recorded.get("points", {})
        self._shadows: dict[str, Any] = {}
        self._sim: Any = None

    def reset(self, arms: dict[str, list[dict]]) -> None:
        """Watch ``arms`` afresh (the base starts again from tick 0)."""
        self.watched, self.points, self._sim = arms, {}, None

    def __call__(self, sim: Any) -> bool:
        if sim is not self._sim:  # a fresh or resumed simulation: shadows bound to its state
            self._bind(sim)
        reached = sim.detectors.reached_now
        first = sim.tick == 0
        adults, gated = (
            (None, None) if first else (sim.scratch.tally.adults, sim.scratch.tally.gated)
        )
        pinned = False
        for arm, shadow in self._shadows.items():
            if arm in self.points:
                continue
            fires = shadow.due(sim.tick, reached, adults, gated)
            if fires:
                self.points[arm] = self._pin(sim.tick, fires)
                pinned = True
        if pinned or first:
            record = {"watched": self.watched, "points": self.points}
            atomic_write_json(self.folder / POINTS_FILE, record)
        return len(self.points) == len(self.watched)

    def _bind(self, sim: Any) -> None:
        from evosim.engine.interventions import Interventions  # numba: loaded by the tasks

        def unused(*_: Any) -> Any:
            raise AssertionError("a shadow applies nothing")

        base = world_to_dict(self.world)
        self._sim = sim
        self._shadows = {
            arm: Interventions(
                World.model_validate({**base, "interventions": ivs}),
                sim.seed,
                sim.species,
                sim.pop,
                sim.grids,
                [],
                unused,
                unused,
                unused,
            )  # fmt: skip
            for arm, ivs in self.watched.items()
        }

    def _pin(self, tick: int, fires: list[str]) -> dict[str, Any]:
        """The branch point of an arm whose interventions ``fires`` would apply at ``tick``."""
        from evosim.io import checkpoint as ckpt

        before = [hp for hp in ckpt.headers(self.folder / "checkpoints") if ckpt.tick_of(hp) < tick]
        point: dict[str, Any] = {"fires_at": tick, "interventions": fires, "checkpoint": None}
        if before:
            hp = before[0]  # newest first
            dest = self.folder / POINTS_DIR
            dest.mkdir(exist_ok=True)
            for src in (hp, hp.with_suffix(".npz")):
                if not (dest / src.name).is_file():
                    tmp = dest / f".{src.name}.tmp"
                    shutil.copyfile(src, tmp)
                    os.replace(tmp, dest / src.name)
            point["checkpoint"] = f"{POINTS_DIR}/{hp.name}"
        return point


def read_record(folder: str | os.PathLike) -> dict[str, Any]:
    """A base's ``branch_points.json``: the arms it watches and their points; {} if not written."""
    try:
        data = json.loads(Path(folder, POINTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_points(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """A base's branch points, by arm (``fires_at``, ``interventions``, ``checkpoint``)."""
    return read_record(folder).get("points", {})


def ensure_base(task: RunTask) -> dict:
    """Bring a shared base to its horizon while watching its arms (the Dask task of an ``auto`` base).

    Returns:
        As :func:`evosim.experiments.task.ensure_run`, with ``checkpoints``: per watched arm, the
        checkpoint header it continues from (None: it runs from tick 0).
    """
    from evosim.engine import runtime
    from evosim.io import runner

    assert task.world is not None and task.watch is not None
    runtime.set_threads(1)
    folder = Path(task.folder)
    t0 = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    world = World.model_validate(task.world)
    with locked(task.lock, wait=True, what=str(folder)):
        watch = Watch(folder, world, task.watch)
        # not ensure_run's _continue: a base its watch ended (every arm fired) is finished short of
        # its horizon, and must not be extended
        summary, action = finished_summary(folder), "skipped"
        if summary is None and (folder / "config.yaml").is_file():
            try:
                summary, _, _ = runner.resume(folder, force=True, ticks=task.ticks, watch=watch)
                action = "resumed"
            except ConfigError:  # no valid checkpoint: afresh
                summary = None
        if summary is None:
            action = fresh_action(folder)
            watch.reset(task.watch)
            summary = runner.run(world, folder, ticks=task.ticks, seed=task.seed, force=True,
                                 checkpoint_every=task.every, watch=watch)  # fmt: skip
        out = result(task, action, summary, t0)
        out["checkpoint"] = newest_checkpoint(folder)
        out["checkpoints"] = _starts(folder, summary, task, out["checkpoint"])
        return out


def _starts(folder: Path, summary: dict, task: RunTask, final: str) -> dict[str, str | None]:
    """Per arm of ``task.watch``, the checkpoint it continues from (None: tick 0).

    Its pinned point; else, if the base watched it and ran to its horizon (or died out) without
    its firing, the base's final checkpoint; else (the base did not watch it, or stopped once
    every arm it watched had fired) tick 0.
    """
    record = read_record(folder)
    points, watched = record.get("points", {}), record.get("watched", {})
    whole = summary["ended"] == "extinct" or int(summary["ticks_run"]) >= task.ticks
    assert task.watch is not None
    out: dict[str, str | None] = {}
    for arm, ivs in task.watch.items():
        if arm in points and watched.get(arm) == ivs:
            cp = points[arm]["checkpoint"]
            out[arm] = str(folder / cp) if cp else None
        elif whole and watched.get(arm) == ivs:
            out[arm] = final
        else:
            out[arm] = None
    return out
