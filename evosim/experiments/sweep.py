"""Sweeps: every sample of a design x every arm x every replicate, on Dask (``evosim sweep``; docs/experiments.md).

A sweep is an experiment file with a ``sweep:`` block. Its design
(:mod:`evosim.experiments.samples`) is a matrix of parameter values;
sample ``i`` applies its values to every arm's world, and each (sample, arm,
replicate) is one run folder ``OUT/sample-<i>/<arm>/rep-<k>/``. Replicate
``k`` has the same seed in every sample and arm (common random numbers: the
same founders and map wherever the parameters allow, so differences between
samples are less noisy). :class:`Sweep` is the design; the batch pipeline
(:mod:`evosim.experiments.batch`) runs it with the same idempotent task as an
experiment (:func:`evosim.experiments.task.ensure_run`): re-running
skips finished runs, resumes unfinished ones from their newest checkpoint,
and a killed worker loses nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evosim.config.load import locate, world_from_data, world_to_dict
from evosim.config.schema import World
from evosim.errors import ConfigError
from evosim.experiments.batch import Prepared
from evosim.experiments.experiment import TICK0_KEYS, Experiment, derive_seeds, load_experiment
from evosim.experiments.manifest import check_out, run_folder, sample_folder, sweep_manifest
from evosim.experiments.samples import Samples, make_design, normalise_key
from evosim.experiments.spec import read_spec
from evosim.experiments.task import RunTask
from evosim.io.logs import finished_summary


@dataclass
class Sweep:
    """A validated sweep, and its design: every sample x every arm x every replicate.

    Run ``(i, arm, k)`` is folder ``OUT/sample-<i>/<arm>/rep-<k>/``; the tasks come replicate-major
    (all of replicate 0 first), so a sweep stopped early has whole replicates.

    Attributes:
        exp: the experiment without the sweep: base world, arms' worlds at the base parameters, and
            one seed per replicate (``sweep.replicates`` of them, derived from the top-level ``seed``).
        design: the sample matrix.
    """

    exp: Experiment
    design: Samples
    _worlds: dict[tuple[int, str], dict] = field(default_factory=dict, init=False, repr=False)
    kind = "sweep"
    noun = "run"

    def tasks(self, out: Path) -> list[RunTask]:
        """Every run, its world left to :meth:`resolve` (built only for the runs still to do)."""
        s = self.exp.spec
        return [
            RunTask(str(folder_of(out, i, arm, k)), None, seed, s.ticks, s.every, arm, k, sample=i)
            for k, seed in enumerate(self.exp.seeds)
            for i in range(self.design.n)
            for arm in self.exp.arms
        ]

    def resolve(self, task: RunTask) -> RunTask:
        """The task with the world of its sample and arm (one world per sample and arm, cached)."""
        assert task.sample is not None  # a sweep's tasks have their sample
        key = (task.sample, task.arm)
        if key not in self._worlds:
            self._worlds[key] = world_to_dict(self.world(*key))
        return replace(task, world=self._worlds[key])

    def manifest(self, out: str | os.PathLike, ticks: int | None = None) -> dict:
        """:func:`~evosim.experiments.manifest.check_out` of the sweep's manifest (a sweep is not extended).

        Raises:
            ConfigError: ``out`` holds other runs or another design.
        """
        exp = self.exp
        if ticks is not None:
            exp = replace(exp, spec=exp.spec.model_copy(update={"ticks": ticks}))
        return check_out(exp, out, sweep_manifest(exp, self.design))

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


def _check_parameters(exp: Experiment, design: Samples, node: Any) -> None:
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


def folder_of(out: Path, i: int, arm: str, k: int) -> Path:
    """Run folder of replicate ``k`` of ``arm`` at sample ``i``."""
    return out / sample_folder(i) / run_folder(arm, k)


def _finished_timings(tasks: list[RunTask]) -> list[dict]:
    """Summaries of finished runs that have a timing block (the newest 50 of the plan's order)."""
    found = []
    for t in tasks[-50:]:
        s = finished_summary(t.folder)
        if s and (s.get("timing") or {}).get("wall_time_s") and s.get("ticks_run"):
            found.append(s)
    return found


def estimate(sw: Sweep, prep: Prepared, probe_ticks: int = 500) -> Estimate:
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
    done = _finished_timings(prep.plan.finished)
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
