"""Sweeps: every sample of a design x every arm x every replicate, on Dask (``evosim sweep``; docs/experiments.md).

A sweep is an experiment file with a ``sweep:`` block. Its design
(:mod:`evosim.experiments.sweep_design`) is a matrix of parameter values;
sample ``i`` applies its values to every arm's world, and each (sample, arm,
replicate) is one run folder ``OUT/sample-<i>/<arm>/rep-<k>/``. Replicate
``k`` has the same seed in every sample and arm (common random numbers: the
same founders and map wherever the parameters allow, so differences between
samples are less noisy). The runs are the same idempotent Dask tasks as an
experiment's (:func:`evosim.experiments.experiment.ensure_run`): re-running
skips finished runs, resumes unfinished ones from their newest checkpoint,
and a killed worker loses nothing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evosim.config.load import locate, world_from_data, world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.experiment import (
    TICK0_KEYS,
    Experiment,
    Outcome,
    collect,
    dask_client,
    derive_seeds,
    ensure_run,
    finished_summary,
    load_experiment,
)
from evosim.experiments.manifest import (
    check_out,
    run_folder,
    sample_folder,
    save_manifest,
    sweep_manifest,
)
from evosim.experiments.spec import read_spec
from evosim.experiments.sweep_design import Design, make_design, normalise_key

#: A run of a sweep: (sample, arm, replicate).
RunId = tuple[int, str, int]


@dataclass
class Sweep:
    """A validated sweep.

    Attributes:
        exp: the experiment without the sweep: base world, arms' worlds at the base parameters, and
            one seed per replicate (``sweep.replicates`` of them, derived from the top-level ``seed``).
        design: the sample matrix.
    """

    exp: Experiment
    design: Design

    @property
    def runs(self) -> int:
        """Samples x arms x replicates."""
        return self.design.n * len(self.exp.arms) * len(self.exp.seeds)

    def world(self, i: int, arm: str) -> World:
        """The world of sample ``i`` in ``arm``: the arm's world with the sample's values.

        Raises:
            ConfigError: the combination is not a valid world (the message names the sample and arm).
        """
        try:
            return world_from_data(
                world_to_dict(self.exp.arms[arm]),
                None,
                f"{self.exp.path}: sweep",
                self.design.overrides(i),
            )
        except ConfigError as exc:
            raise ConfigError(
                f"{self.exp.path}: sweep {self.design.label(i)}, arm '{arm}': {exc}"
            ) from None


def _overlaps(a: str, b: str) -> bool:
    """Whether key paths ``a`` and ``b`` are the same key or one lies inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _check_parameters(exp: Experiment, design: Design, node: Any) -> None:
    """Refuse swept keys that other settings also set, and values that no arm's world takes (each bound alone)."""
    p = exp.path
    spec = exp.spec
    assert spec.sweep is not None  # a sweep's spec has its sweep block
    keys = list(spec.sweep.parameters)  # as written: their lines in the file are found by these
    for written, key in zip(keys, design.names):
        where = ("sweep", "parameters", written)
        others = [("the common overrides", o) for o in spec.overrides] + [
            (f"arm '{a.name}'", o) for a in spec.arms for o in a.overrides
        ]
        for who, o in others:
            if _overlaps(key, normalise_key(o)):
                raise ConfigError(
                    f"{locate(p, where, node)}: {who} also sets '{o}'; a swept key may not be "
                    "overridden elsewhere (the sample's value would silently lose or win)"
                )
        pv = spec.sweep.parameters[written]
        values = pv.values if pv.values is not None else pv.range
        assert values is not None  # the spec requires values or a range
        sub = "values" if pv.values is not None else "range"
        for v in values:
            v = int(round(v)) if pv.integer and pv.values is None else v
            for arm, w in exp.arms.items():
                try:
                    built = world_from_data(world_to_dict(w), None, "sweep", {key: v})
                except ConfigError as exc:
                    raise ConfigError(
                        f"{locate(p, (*where, sub), node)}: {key}={v} in arm '{arm}': {exc}"
                    ) from None
                if any(
                    _overlaps(key, k) for k in TICK0_KEYS
                ):  # these decide whether a world can start at all
                    _can_start(built, exp.seeds[0], f"{locate(p, (*where, sub), node)}: {key}={v}")


def _can_start(world: World, seed: int, where: str) -> None:
    from evosim.engine.sim import Simulation  # numba: loaded only when a tick-0 key is swept

    try:
        Simulation(world, seed=seed)
    except ConfigError as exc:
        raise ConfigError(f"{where}: the world cannot start: {exc}") from None


def load_sweep(path: str | os.PathLike) -> Sweep:
    """Load an experiment file with a ``sweep:`` block: the experiment, its design, the swept keys checked.

    Raises:
        ConfigError: anything wrong with the file, its world, arms or sweep block (one paragraph naming
            file, key path and line); nothing has run.
    """
    p = Path(path)
    spec, node = read_spec(p)
    if spec.sweep is None:
        raise ConfigError(
            f"{p}: has no `sweep` block; run an experiment without one with `evosim experiment {p}`"
        )
    exp = load_experiment(p)
    exp = replace(exp, seeds=derive_seeds(spec.seed, spec.sweep.replicates))
    try:
        design = make_design(spec.sweep)
    except ConfigError as exc:
        raise ConfigError(f"{locate(p, ('sweep',), node)}: {exc}") from None
    _check_parameters(exp, design, node)
    return Sweep(exp, design)


# -------------------------------------------------------------------- tasks
def ensure_sample_run(task: dict) -> dict:
    """:func:`~evosim.experiments.experiment.ensure_run` of one sweep run; its result gains ``sample``."""
    return {**ensure_run(task), "sample": task["sample"]}


def folder_of(out: Path, i: int, arm: str, k: int) -> Path:
    """Run folder of replicate ``k`` of ``arm`` at sample ``i``."""
    return out / sample_folder(i) / run_folder(arm, k)


def make_task(sw: Sweep, out: Path, i: int, arm: str, k: int, world: World | None = None) -> dict:
    """The plain-data task of one run (``world``: the sample's world in ``arm`` if already built)."""
    s = sw.exp.spec
    w = world if world is not None else sw.world(i, arm)
    return {
        "sample": i,
        "arm": arm,
        "replicate": k,
        "seed": sw.exp.seeds[k],
        "folder": str(folder_of(out, i, arm, k)),
        "world": world_to_dict(w),
        "ticks": s.ticks,
        "every": s.every,
    }


@dataclass
class SweepPlan:
    """Finished and pending runs of a sweep (pending ones in replicate-major order: all of replicate 0 first)."""

    finished: list[RunId] = field(default_factory=list)
    todo: list[RunId] = field(default_factory=list)


def plan(sw: Sweep, out: str | os.PathLike) -> SweepPlan:
    """Which runs are finished and which must run."""
    out = Path(out).resolve()
    p = SweepPlan()
    for k in range(len(sw.exp.seeds)):
        for i in range(sw.design.n):
            for arm in sw.exp.arms:
                (p.finished if finished_summary(folder_of(out, i, arm, k)) else p.todo).append(
                    (i, arm, k)
                )
    return p


@dataclass
class PreparedSweep:
    """A sweep ready to run into a folder: manifest, plan and the tasks still to run (nothing written yet)."""

    out: Path
    manifest: dict
    plan: SweepPlan
    tasks: list[dict]


def prepare(sw: Sweep, out: str | os.PathLike) -> PreparedSweep:
    """Check that ``out`` may take ``sw``, plan it and build the world of every pending run; nothing is written.

    Raises:
        ConfigError: ``out`` holds other runs or another design, or a sample's world is invalid.
    """
    new = check_out(sw.exp, out, sweep_manifest(sw.exp, sw.design))
    out = Path(out).resolve()
    p = plan(sw, out)
    worlds: dict[tuple[int, str], World] = {}
    tasks = []
    for i, arm, k in p.todo:
        if (i, arm) not in worlds:
            worlds[(i, arm)] = sw.world(i, arm)
        tasks.append(make_task(sw, out, i, arm, k, worlds[(i, arm)]))
    return PreparedSweep(out, new, p, tasks)


def run_id(r: dict) -> str:
    """``sample-0003/control`` of a result or task (the 'arm' of a sweep run in failure lists)."""
    return f"{sample_folder(r['sample'])}/{r['arm']}"


def run_sweep(
    sw: Sweep,
    out: str | os.PathLike,
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[dict | None, Outcome], None] | None = None,
    prepared: PreparedSweep | None = None,
) -> Outcome:
    """Run the unfinished runs of ``sw`` into ``out`` on Dask (like ``run_experiment``).

    Returns:
        The outcome: one result per finished run (``sample``, ``arm``, ``replicate``, ``action`` ...) and
        the failures as ``("sample-<i>/<arm>", replicate, message)``.

    Raises:
        ConfigError: as :func:`prepare`, or the scheduler is unreachable.
    """
    prep = prepared or prepare(sw, out)
    out, p = prep.out, prep.plan
    save_manifest(out, prep.manifest)
    outcome = Outcome(len(p.finished) + len(p.todo))
    for i, arm, k in p.finished:
        outcome.results.append(
            {
                "sample": i,
                "arm": arm,
                "replicate": k,
                "seed": sw.exp.seeds[k],
                "folder": str(folder_of(out, i, arm, k)),
                "action": "skipped",
            }
        )
        if on_done:
            on_done(outcome.results[-1], outcome)
    if not prep.tasks:
        return outcome
    with dask_client(workers, scheduler) as client:
        tag = hashlib.sha256(str(out).encode()).hexdigest()[:8]
        futures = [
            client.submit(
                ensure_sample_run,
                t,
                key=f"evosim-{tag}-s{t['sample']}-{t['arm']}-rep{t['replicate']}-"
                f"{os.urandom(4).hex()}",
            )
            for t in prep.tasks
        ]
        collect(futures, [(run_id(t), t["replicate"]) for t in prep.tasks], outcome, on_done)
    return outcome


# ----------------------------------------------------------------- estimate
@dataclass
class Estimate:
    """Core-hours of the pending runs: runs x ticks x agents per tick / agent-steps per second.

    Attributes:
        runs: pending runs.
        ticks: ticks per run.
        agents: agents alive per tick, on average over a run.
        rate: agent-steps per second on one core.
        source: how ``agents`` and ``rate`` were obtained.
    """

    runs: int
    ticks: int
    agents: float
    rate: float
    source: str

    @property
    def core_hours(self) -> float:
        """Estimated CPU time of the pending runs, in hours of one core."""
        return (
            self.runs * self.ticks * self.agents / self.rate / 3600
            if self.rate > 0
            else float("nan")
        )

    def text(self, workers: int | None) -> str:
        """One paragraph: the estimate, its wall time on ``workers`` cores, and how it was made."""
        w = workers or os.cpu_count() or 1
        return (
            f"estimate: {self.runs} run(s) x {self.ticks} ticks x {self.agents:,.0f} agents / {self.rate:,.0f} "
            f"agent-steps/s = {self.core_hours:.3g} core-hours ({60 * self.core_hours:.3g} core-minutes), about "
            f"{60 * self.core_hours / w:.3g} min on {w} worker(s) if the runs spread evenly; {self.source}"
        )


def _finished_timings(out: Path, ids: list[RunId]) -> list[dict]:
    """Summaries of finished runs in ``out`` that have a timing block (the newest 50 of the plan's order)."""
    found = []
    for i, arm, k in ids[-50:]:
        s = finished_summary(folder_of(out, i, arm, k))
        if s and (s.get("timing") or {}).get("wall_time_s") and s.get("ticks_run"):
            found.append(s)
    return found


def estimate(sw: Sweep, prep: PreparedSweep, probe_ticks: int = 500) -> Estimate:
    """Estimate the core-hours of the pending runs: runs x ticks x agents per tick / agent-steps per second.

    With finished runs in the folder, from their ``summary.json``: agents per tick = agent_steps /
    ticks_run and the rate = agent_steps / wall_time_s, pooled over up to 50 of them. Otherwise from
    a probe: the control arm's world at the centre of the design runs ``probe_ticks`` ticks with the
    first replicate's seed, in this process. The rate is its agent-steps per second of CPU time
    (after one untimed tick, which compiles the kernels if the cache is cold), so other load on the
    machine does not slow the estimate down; agents per tick is (the probe's agent-steps + its final
    population x the ticks it did not run) / ticks, i.e. the population is taken to stay where the
    probe left it (past the founders' start-up boom on the shipped worlds; 7 % high on earthlike
    with the default 500-tick probe). Either way the estimate ignores how the swept values change the
    population and the speed (the probe sees one point of the design).
    """
    todo = len(prep.plan.todo)
    ticks = sw.exp.spec.ticks
    done = _finished_timings(prep.out, prep.plan.finished)
    if done:
        steps = sum(float(s["agent_steps"]) for s in done)
        wall = sum(float(s["timing"]["wall_time_s"]) for s in done)
        agents = steps / sum(float(s["ticks_run"]) for s in done)
        source = f"agents per tick and agent-steps per wall second of {len(done)} finished run(s) in {prep.out}"
        return Estimate(todo, ticks, agents, steps / wall, source)
    from evosim.engine.sim import Simulation

    control = sw.exp.control
    world = world_from_data(world_to_dict(sw.exp.arms[control]), None, "sweep", sw.design.centre())
    sim = Simulation(world, seed=sw.exp.seeds[0])
    sim.advance(1)
    steps0, t0 = sim.counters.agent_steps, time.process_time()
    sim.advance(max(0, min(probe_ticks, ticks) - 1))
    cpu = time.process_time() - t0
    rate = (sim.counters.agent_steps - steps0) / cpu if cpu > 0 else float("nan")
    agents = (sim.counters.agent_steps + sim.pop.n * max(0, ticks - sim.tick)) / ticks
    source = (
        f"from a {sim.tick}-tick probe of arm '{control}' at the centre of the design: agents per tick = "
        f"(its agent-steps + its final {sim.pop.n:,} agents x the remaining ticks) / ticks, agent-steps per "
        "CPU second measured in it (the swept values change both; the probe sees one point; other load on "
        "the machine lengthens the wall time)"
    )
    return Estimate(todo, ticks, agents, rate, source)
