"""The figures users feel, for ``bench.py``: thread scaling, runs per core-hour, an experiment's wall time, start time.

* :func:`thread_scaling` -- the default world at N agents on 1 thread (serial build) and on
  2 threads (parallel build), two identical copies stepped in alternation, so load on the
  machine hits both alike;
* :func:`earthlike_run` -- one run of the calibrated earthlike world (``worlds/earthlike.yaml``),
  recorded like ``evosim run`` records it, on one thread: runs per core-hour;
* :func:`experiment_wall` -- a subset of the hard-paths experiment
  (``worlds/experiments/hard_paths.yaml``) run by ``evosim``'s own experiment runner on 2
  Dask workers, and the wall time of the whole experiment estimated from it;
* :func:`second_start` -- how long a parallel ``evosim run`` takes to start once its kernels
  are cached (two 1-tick runs; the second must compile nothing);
* :func:`earthlike_pairs` -- the earthlike run as ``evosim run`` in new processes, this source
  tree against another (``--baseline``, e.g. ``git archive 72b0260`` unpacked) or against
  itself on 2 threads, in alternation (A B A B ...): the ratio pair by pair holds when the
  machine's speed drifts.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evosim import load_world
from evosim.engine.kernels import conf
from evosim.engine.sim import Simulation

ROOT = Path(__file__).resolve().parents[1]
EARTHLIKE = ROOT / "worlds" / "earthlike.yaml"
HARD_PATHS = ROOT / "worlds" / "experiments" / "hard_paths.yaml"


@dataclass
class Scaling:
    """Agent-steps per second (wall) of each repetition on 1 and on ``threads`` threads."""

    n: int
    threads: int
    mean_pop: float
    one: list[float]
    many: list[float]
    one_cpu: list[float]

    @property
    def ratio(self) -> float:
        """Median rate on ``threads`` threads / median rate on one."""
        return statistics.median(self.many) / statistics.median(self.one)


def _timed_ticks(sim: Simulation, ticks: int) -> tuple[float, float, int]:
    """(agent-steps per wall second, per CPU second of this process, agent-steps) over ``ticks`` ticks."""
    steps = 0
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(ticks):
        steps += sim.pop.n
        sim.step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return steps / wall, steps / max(cpu, 1e-9), steps


def thread_scaling(
    make_sim: Any, n: int, ticks: int, reps: int, warmup: int, threads: int = 2
) -> Scaling:
    """Two identical default worlds of about ``n`` agents (``make_sim(n)``), one stepped on 1 thread and
    one on ``threads``, repetitions alternating. The flavours give identical states, so both
    copies stay the same world."""
    sims = {1: make_sim(n), threads: make_sim(n)}
    for k, sim in sims.items():
        conf.set_threads(k)
        for _ in range(warmup):
            sim.step()
    out = Scaling(n, threads, 0.0, [], [], [])
    total = 0
    for _ in range(reps):
        for k, sim in sims.items():
            conf.set_threads(k)
            rate, cpu, steps = _timed_ticks(sim, ticks)
            (out.one if k == 1 else out.many).append(rate)
            if k == 1:
                out.one_cpu.append(cpu)
                total += steps
    conf.set_threads(1)
    out.mean_pop = total / (ticks * reps)
    return out


def earthlike_run(ticks: int, seed: int, folder: Path) -> dict[str, float]:
    """One recorded run of the calibrated earthlike world on one thread (``evosim.run``, as the CLI runs it).

    Returns wall and CPU seconds, agent-steps and runs per core-hour (by CPU time, which load on
    the machine inflates less than the wall clock; and by wall time). A 20-tick recorded run
    first loads (or compiles) every kernel the run calls, the recorder's too, so that the
    timed run measures running, not numba's first calls.
    """
    from evosim.io.runner import run  # noqa: PLC0415

    conf.set_threads(1)
    world = load_world(EARTHLIKE)
    run(world, folder.with_name(folder.name + "-warm"), ticks=20, seed=seed, checkpoint_every=0)
    c0, t0 = time.process_time(), time.perf_counter()
    summary = run(world, folder, ticks=ticks, seed=seed, checkpoint_every=0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = float(summary.get("agent_steps", 0) or 0)
    return {
        "ticks": ticks,
        "ticks_run": float(summary["ticks_run"]),
        "wall_s": wall,
        "cpu_s": cpu,
        "agent_steps": steps,
        "runs_per_core_hour_cpu": 3600.0 / cpu * ticks / 10_000,
        "runs_per_core_hour_wall": 3600.0 / wall * ticks / 10_000,
    }


def experiment_wall(arms: int, replicates: int, ticks: int, workers: int, folder: Path) -> dict:
    """Run ``arms`` arms x ``replicates`` replicates of the hard-paths experiment at ``ticks`` ticks on
    ``workers`` Dask workers; estimate the whole experiment's wall time from it.

    The estimate shares the runs' own wall times among the workers and scales them by (runs of
    the experiment / runs done) and (its ticks / ``ticks``), then adds the rest of the measured
    wall time (the cluster's start-up) once: runs are assumed to cost alike (their arms differ
    only once an intervention fires) and a run's cost to grow in proportion to its ticks (true
    only roughly: the population changes over a run). With the experiment's own ticks the
    second factor is 1.
    """
    from evosim.experiments.batch import Cluster, run_design  # noqa: PLC0415
    from evosim.experiments.experiment import ArmsReplicates, load_experiment  # noqa: PLC0415

    spec = yaml.safe_load(HARD_PATHS.read_text(encoding="utf-8"))
    full_runs = len(spec["arms"]) * int(spec["replicates"])
    full_ticks = int(spec["ticks"])
    spec["world"] = str((HARD_PATHS.parent / spec["world"]).resolve())
    spec["arms"] = spec["arms"][:arms]
    if spec.get("control") not in [a["name"] for a in spec["arms"]]:
        spec["control"] = spec["arms"][0]["name"]
    spec["replicates"] = replicates
    spec["ticks"] = ticks
    spec["checkpoint_every"] = max(1, ticks // 10)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hard_paths_subset.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    exp = load_experiment(path)
    t0 = time.perf_counter()
    outcome = run_design(ArmsReplicates(exp), folder / "out", Cluster(workers))
    wall = time.perf_counter() - t0
    done = len(outcome.results)
    run_wall = [float(r.get("wall_s") or 0.0) for r in outcome.results]
    return {
        "runs": done,
        "ticks": ticks,
        "wall_s": wall,
        "run_wall_s": run_wall,
        "full_runs": full_runs,
        "full_ticks": full_ticks,
        # the runs' own wall times shared by the workers (the cluster's start-up is not scaled up)
        "estimate_s": sum(run_wall) / workers * full_runs / max(done, 1) * full_ticks / ticks
        + max(0.0, wall - sum(run_wall) / workers),
        "workers": workers,
    }


def _cache_files() -> dict[str, float]:
    cache = Path(conf.__file__).resolve().parent / "__pycache__"
    return {f.name: f.stat().st_mtime for f in cache.glob("*.nb[ic]")}


def second_start(threads: int = 2) -> dict[str, float | bool]:
    """Two 1-tick ``evosim run`` of the default world on ``threads`` threads with the parallel build
    forced (``EVOSIM_PARALLEL=1``), each in a new process: the second's wall time, and whether
    it wrote any numba cache file (it must not: everything loads from the cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVOSIM_", "NUMBA_NUM"))}
    env.update({"EVOSIM_PARALLEL": "1", "NUMBA_NUM_THREADS": str(threads)})
    times = []
    before: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="evosim-start-") as tmp:
        for k in range(2):
            before = _cache_files()
            args = [sys.executable, "-m", "evosim", "run", "--ticks", "1", "--seed", "1"]
            args += ["--threads", str(threads), "-q", "--out", str(Path(tmp) / f"r{k}")]
            t0 = time.perf_counter()
            subprocess.run(args, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        compiled = _cache_files() != before
    return {"first_s": times[0], "second_s": times[1], "second_compiled": compiled}


def _evosim_run(
    tree: Path, ticks: int, seed: int, threads: int, out: Path, warm: bool = False
) -> tuple[float, float]:
    """One ``evosim run`` of the earthlike world from source ``tree`` in a new process: (wall, CPU s).

    ``warm``: a warm-up run; on more than one thread it forces the parallel build of every kernel
    (``EVOSIM_PARALLEL=1``) so that all of them are compiled and cached before the timed runs.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVOSIM_", "NUMBA_NUM"))}
    env["PYTHONPATH"] = str(tree)
    if warm and threads > 1:
        env["EVOSIM_PARALLEL"] = "1"
    args = [sys.executable, "-m", "evosim", "run", str(tree / "worlds" / "earthlike.yaml")]
    args += ["--ticks", str(ticks), "--seed", str(seed), "--threads", str(threads), "-q"]
    args += ["--checkpoint-every", "0", "--force", "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, env=env, cwd=tree, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def _parallel_ticks(out: Path) -> int | None:
    """Ticks a finished run folder's run spent on the parallel build (its summary's timing), or
    None (a tree whose summary does not say)."""
    timing = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("timing", {})
    got = timing.get("parallel_ticks")
    return None if got is None else int(got)


def earthlike_pairs(
    baseline: Path | None, ticks: int, seed: int, pairs: int, folder: Path
) -> dict[str, Any]:
    """The earthlike run of this tree (A) against ``baseline``'s on 1 thread, or (no baseline)
    against this tree on 2 threads; ``pairs`` pairs in alternation after one short warm-up run
    of each (numba compiles or loads its cache there). Medians of wall and CPU seconds, and of
    the ratios B / A pair by pair (> 1: A is faster)."""
    b_tree, b_threads = (baseline, 1) if baseline else (ROOT, 2)
    runs = {"a": (ROOT, 1), "b": (b_tree, b_threads)}
    for k, (tree, th) in runs.items():
        _evosim_run(tree, 2, seed, th, folder / f"warm-{k}", warm=True)
    got: dict[str, list[tuple[float, float]]] = {"a": [], "b": []}
    parallel_ticks: list[int | None] = []  # of each 2-thread run
    for _ in range(pairs):
        for k, (tree, th) in runs.items():
            got[k].append(_evosim_run(tree, ticks, seed, th, folder / k))
            if th > 1:
                parallel_ticks.append(_parallel_ticks(folder / k))
    med = statistics.median
    return {
        "ticks": ticks,
        "pairs": pairs,
        "baseline": str(baseline) if baseline else None,
        "a_wall": med(w for w, _ in got["a"]),
        "a_cpu": med(c for _, c in got["a"]),
        "b_wall": med(w for w, _ in got["b"]),
        "b_cpu": med(c for _, c in got["b"]),
        "wall_ratio": med(b[0] / a[0] for a, b in zip(got["a"], got["b"])),
        "cpu_ratio": med(b[1] / a[1] for a, b in zip(got["a"], got["b"])),
        "b_walls": [w for w, _ in got["b"]],
        "a_walls": [w for w, _ in got["a"]],
        "parallel_ticks": parallel_ticks,
    }


def pairs_markdown(vs: dict[str, Any], threads: dict[str, Any] | None) -> str:
    """Rows of :func:`earthlike_pairs` results (against a baseline tree; 2 threads against 1)."""
    lines = ["| earthlike world, `evosim run` in new processes | value |", "|---|---|"]
    if vs:
        lines.append(
            f"| {vs['ticks']:,} ticks, 1 thread: this tree / baseline `{vs['baseline']}` | "
            f"**{vs['a_wall']:.1f} s** / {vs['b_wall']:.1f} s wall (CPU {vs['a_cpu']:.1f} / "
            f"{vs['b_cpu']:.1f} s): **{vs['wall_ratio']:.2f}x** faster by wall, "
            f"{vs['cpu_ratio']:.2f}x by CPU (median of {vs['pairs']} pairs) |"
        )
    if threads:
        lines.append(
            f"| {threads['ticks']:,} ticks, 2 threads against 1 | **{threads['b_wall']:.1f} s** "
            f"against {threads['a_wall']:.1f} s wall: **{1 / threads['wall_ratio']:.2f}x** "
            f"(median of {threads['pairs']} pairs; ticks on threads in each 2-thread run: "
            f"{_ticks_text(threads['parallel_ticks'])} of {threads['ticks']:,}) |"
        )
    return "\n".join(lines)


def markdown(runs: dict[str, Any]) -> str:
    """The runs-and-threads table of ``bench.py`` (``runs``: scaling, earthlike, experiment, start)."""
    sc, e, x, st = runs["scaling"], runs["earthlike"], runs["experiment"], runs["start"]
    est = f" (estimate from its first {e['ticks']:,} ticks)" if e["ticks"] < 10_000 else ""
    part = x["runs"] * x["ticks"] / (x["full_runs"] * x["full_ticks"])
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| default world at N={sc.n:,} (pop {sc.mean_pop:,.0f}), 1 thread | "
        f"**{statistics.median(sc.one) / 1e6:.2f} M** agent-steps/s "
        f"({statistics.median(sc.one_cpu) / 1e6:.2f} M per CPU-s) |",
        f"| same, {sc.threads} threads | **{statistics.median(sc.many) / 1e6:.2f} M** agent-steps/s: "
        f"**{sc.ratio:.2f}x** (reps: {', '.join(f'{r / 1e6:.1f}' for r in sc.many)} vs "
        f"{', '.join(f'{r / 1e6:.1f}' for r in sc.one)} on 1 thread) |",
        f"| earthlike runs per core-hour (10,000 ticks, 1 thread, recorded){est} | "
        f"**{e['runs_per_core_hour_cpu']:.0f}** by CPU time, {e['runs_per_core_hour_wall']:.0f} by "
        f"wall time ({e['cpu_s']:.1f} CPU-s for {e['ticks']:,} ticks, "
        f"{e['agent_steps'] / max(e['cpu_s'], 1e-9) / 1e6:.2f} M agent-steps per CPU-s) |",
        f"| hard-paths experiment ({x['full_runs']} runs of {x['full_ticks']:,} ticks) on "
        f"{x['workers']} workers | **{x['estimate_s'] / 60:.0f} min**, estimated from {x['runs']} of "
        f"its runs at {x['ticks']:,} ticks ({100 * part:.1f} % of its run-ticks), which took "
        f"{x['wall_s']:.0f} s (runs {', '.join(f'{w:.0f}' for w in x['run_wall_s'])} s) |",
        f"| start of a parallel `evosim run` (kernels cached; 1 tick) | **{st['second_s']:.1f} s** "
        f"(first start {st['first_s']:.1f} s); compiled: "
        f"{'YES (cache not used?)' if st['second_compiled'] else 'nothing'} |",
    ]
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    lines.append(
        f"\nSame invocation as the table above; load average at the end {load}. Load on the "
        f"machine hurts wall times, and the {sc.threads}-thread rate most."
    )
    return "\n".join(lines)


def _ticks_text(counts: list[int | None]) -> str:
    """``9,890, 8,479`` (``?`` where a run's summary did not say)."""
    return ", ".join("?" if c is None else f"{c:,}" for c in counts)
