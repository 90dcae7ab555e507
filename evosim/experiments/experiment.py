"""Experiments: arms x replicates of a world (docs/experiments.md).

:func:`load_experiment` reads and checks an experiment file and builds every arm's world;
:class:`ArmsReplicates` is its design: one run folder per replicate, ``<arm>/rep-<k>/``, and with
``branch_tick`` the shared bases ``_base/rep-<k>/``. The batch pipeline
(:mod:`evosim.experiments.batch`) plans, runs and re-runs it like any other design, through the
idempotent task :func:`evosim.experiments.task.ensure_run`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
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
from evosim.experiments.manifest import check_out, run_folder
from evosim.experiments.shared_past import base_tasks
from evosim.experiments.spec import Experiment, ExperimentSpec, read_spec
from evosim.experiments.task import BASE_DIR, RunTask

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
        fixed = spec.fixed_branch
        if fixed is not None and iv.when.tick is not None and iv.when.tick <= fixed:
            raise ConfigError(
                f"{locate(exp_path, ('arms', i, 'interventions', j, 'when', 'tick'), node)}: "
                f"tick {iv.when.tick} is not after branch_tick {fixed}, "
                f"so it would never apply in the arm (the first tick an arm runs is "
                f"{fixed + 1})"
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
        if spec.fixed_branch is not None:
            changed = [k for k in TICK0_KEYS if _get(data, k) != _get(base_data, k)]
            if changed:
                raise ConfigError(
                    f"{at} changes {', '.join(changed)}, which only act at tick 0, but every arm continues the shared "
                    f"base from branch_tick {spec.fixed_branch}; move these overrides to the common "
                    f"`overrides` or drop branch_tick"
                )
        arms[arm.name] = w
    seeds = derive_seeds(spec.seed, spec.replicates)
    exp = Experiment(spec, p, world_path, base, arms, seeds, _notes(spec))
    _build_once(exp)
    return exp


def _notes(spec: ExperimentSpec) -> list[str]:
    """Warnings about triggers that a branch tick makes blind to events before it."""
    if spec.fixed_branch is None:  # none, or auto: each arm leaves the base before it fires
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
                    f"{what} after branch_tick {spec.fixed_branch}; those that did "
                    f"so in the shared base are not targeted "
                    f"(add a `when: {{tick: {(spec.fixed_branch or 0) + 1}}}` intervention "
                    f"for them, or drop branch_tick: "
                    f"arms sharing a seed are identical until an intervention first fires)"
                )
    return out


def _build_once(exp: Experiment) -> None:
    """Construct each distinct starting world (interventions aside) with the first replicate's seed.

    Raises ConfigError if one cannot start.
    """
    from evosim.engine.sim import Simulation  # numba: loaded by the tasks, not by reading a spec

    starts = {"base": exp.base} if exp.spec.fixed_branch is not None else exp.arms
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


# ------------------------------------------------------------------- design
@dataclass
class ArmsReplicates:
    """The design of an experiment: every arm x every replicate (``evosim experiment``).

    Replicate ``k`` of ``arm`` runs in ``OUT/<arm>/rep-<k>`` with the ``k``-th derived seed, the
    same in every arm. With ``branch_tick`` each replicate first runs a shared base
    ``OUT/_base/rep-<k>`` to that tick, and every arm branches from the base's final checkpoint;
    with ``branch_tick: auto`` the base runs the horizon and each arm branches where it would
    first leave it (:mod:`evosim.experiments.shared_past`).
    """

    exp: Experiment
    kind = "experiment"
    noun = "replicate"

    def tasks(self, out: Path) -> list[RunTask]:
        """Replicate-major: replicate 0 of every arm, then replicate 1, ... (the order they run in,
        so an experiment stopped part-way holds whole replicates: pairs across the arms)."""
        s, exp = self.exp.spec, self.exp
        bases: dict[int, RunTask] = {}
        branching = list(exp.arms)
        if s.branch_tick == "auto":
            bases, branching = base_tasks(exp, out)
        elif s.fixed_branch is not None:
            every = min(s.every, s.fixed_branch)
            world = world_to_dict(exp.base)
            for k, seed in enumerate(exp.seeds):
                folder = str(out / run_folder(BASE_DIR, k))
                bases[k] = RunTask(folder, world, seed, s.fixed_branch, every, BASE_DIR, k)
        return [
            RunTask(
                str(out / run_folder(arm, k)),
                world_to_dict(w),
                seed,
                s.ticks,
                s.every,
                arm,
                k,
                base=bases.get(k) if arm in branching else None,
            )  # fmt: skip
            for k, seed in enumerate(exp.seeds)
            for arm, w in exp.arms.items()
        ]

    def resolve(self, task: RunTask) -> RunTask:
        """The tasks carry their worlds already."""
        return task

    def manifest(self, out: str | os.PathLike, ticks: int | None = None) -> dict:
        """:func:`~evosim.experiments.manifest.check_out` of the experiment (at horizon ``ticks``).

        Raises:
            ConfigError: as ``check_out``; or the spec has a ``sweep`` block
                (:mod:`evosim.experiments.sweep` runs it).
        """
        exp = self.exp
        if exp.spec.sweep is not None:
            raise ConfigError(
                f"{exp.path}: has a `sweep` block; run it with `evosim sweep {exp.path}`"
            )
        if ticks is not None:
            exp = replace(exp, spec=exp.spec.model_copy(update={"ticks": ticks}))
        return check_out(exp, out)
