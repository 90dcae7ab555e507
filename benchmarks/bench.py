"""evosim throughput benchmarks: agent-steps per second, thread scaling, runs per core-hour, memory, Mesa ratio.

One command measures:

* **minimal forager** -- random walk, eat, metabolise, split, die -- built from
  evosim's own numba kernels (``benchmarks/evosim_forager.py``), with the same
  rules and parameters as the Mesa peer (``benchmarks/mesa_forager.py``);
* **default world** -- :class:`evosim.Simulation` on the benchmark world
  (``benchmarks/world.yaml``: the embedded default world until issue 14, a
  grazer and a swimmer on 256 x 256, so the figures stay comparable):
  a pilot runs it past its start-up boom and crash, then its state (map, food,
  agents) is tiled k x k so the population is about N; the ``dense`` variant
  raises food regrowth to 0.5 (about one agent per cell);
* **Mesa** -- the same minimal forager in Mesa, at 10k agents, and the ratio;

all on ONE thread (the serial build); then (``benchmarks/bench_runs.py``) the default world
at 100k on 1 and 2 threads (the scaling), the calibrated earthlike world's runs per
core-hour (one recorded 10000-tick run), the hard-paths experiment's wall time on 2 workers
(estimated from a subset of its runs) and the start time of a parallel run whose kernels
are cached.

Each rate is the median of several repetitions measured after a warm-up (numba
compilation happens before any timing). Usage::

    python benchmarks/bench.py                       # 10k, 100k, 1M; ~25 min
    python benchmarks/bench.py --quick               # 10k, 100k, shortened runs; ~2 min
    python benchmarks/bench.py --sizes 10000,100000 --ticks 50 --reps 7
    git archive 72b0260 | tar -x -C /tmp/evosim-72b0260      # a baseline source tree, then:
    python benchmarks/bench.py --no-runs --no-mesa --workloads world --sizes 100000 \
        --baseline /tmp/evosim-72b0260                # + the earthlike run against it, 2 threads vs 1
"""

from __future__ import annotations

import argparse  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import os
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import bench_runs  # noqa: E402
import numba as nb  # noqa: E402
import numpy as np  # noqa: E402
from evosim_forager import Forager, make_forager  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

import evosim  # noqa: E402
from evosim import Simulation, load_world  # noqa: E402
from evosim.engine.kernels import conf  # noqa: E402
from evosim.io import checkpoint  # noqa: E402

#: The world of the "default world" rows: the embedded default world until issue 14.
WORLD = Path(__file__).resolve().with_name("world.yaml")
#: Food regrowth rate of the "dense" default-world variant (default world: 0.1).
DENSE_REGROWTH = 0.5
PILOT_TICKS = 500  # ticks the default world needs to get past its start-up boom and crash
#: Grid side of the pilot (default world: its own 256; dense: ~10k agents at ~1.1 per cell).
PILOT_SIDE = {False: None, True: 96}
MAX_SIDE = 4096
#: RSS growth is printed from this size up: smaller models fit in heap freed by earlier ones.
RSS_MIN_N = 500_000
MESA_AGENTS, MESA_SIDE = 10_000, 100
#: Rows of the Mesa comparison (:func:`run_mesa_pair`).
MESA_ROW, EVO_MESA_ROW = "Mesa forager", "evosim forager (Mesa setup)"


# ----------------------------------------------------------------- memory
def proc_status_kib(key: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``); 0 if unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> int:
    """Reset the peak-RSS mark (``VmHWM``) to the current RSS; return the current RSS in bytes."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass  # older kernels: VmHWM keeps the process-wide peak (over-estimates growth)
    return proc_status_kib("VmRSS") * 1024


# ----------------------------------------------------------------- default world
_PILOTS: dict[tuple[bool, int], tuple[dict[str, np.ndarray], dict[str, object]]] = {}


def _dense_overrides(dense: bool) -> dict[str, object]:
    """Overrides of the dense variant (none for the default world)."""
    return {f"world.food.{h}.regrowth": DENSE_REGROWTH for h in ("land", "water")} if dense else {}


def evolved_pilot(dense: bool, seed: int = 1) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Snapshot (:func:`evosim.io.checkpoint.snapshot`) of the default world after ``PILOT_TICKS`` ticks.

    A fresh default world booms and crashes for a few hundred ticks (founders
    all mature at once) before it settles; the pilot, on the default grid (or
    a ``PILOT_SIDE`` square one), is past that. Cached per ``(dense, seed)``.
    """
    if (dense, seed) not in _PILOTS:
        side = PILOT_SIDE[dense]
        grid = {"world.width": side, "world.height": side} if side else {}
        sim = Simulation(
            load_world(WORLD, overrides={**grid, **_dense_overrides(dense)}), seed=seed
        )
        sim.advance(PILOT_TICKS)
        if sim.extinct:
            raise RuntimeError("the default world went extinct in the benchmark's pilot run")
        _PILOTS[dense, seed] = checkpoint.snapshot(sim)
    return _PILOTS[dense, seed]


def tile_snapshot(
    arrays: dict[str, np.ndarray], scalars: dict[str, object], k: int
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The state of a k x k tiling of a snapshot's world (and agents), for a grid k times as wide and high.

    Each tile's agents are shifted to their tile and get fresh ids (``id + t *
    next_id``; parents likewise); every (H, W) grid is tiled; species counts
    are multiplied by k squared. Agent rows are then put in cell order of the
    whole grid, as a run keeps them (``Simulation.die``), and the one field
    holding row numbers, ``guardian``, follows its rows.
    """
    h, w = arrays["sim.habitat"].shape
    n, next_id, tiles = len(arrays["pop.id"]), int(scalars["next_id"]), k * k
    t = np.repeat(np.arange(tiles), n)
    out = {key: np.concatenate([a] * tiles) for key, a in arrays.items() if key.startswith("pop.")}
    out["pop.x"] += ((t % k) * w).astype(out["pop.x"].dtype)
    out["pop.y"] += ((t // k) * h).astype(out["pop.y"].dtype)
    out["pop.id"] += t * next_id
    for key, step in (
        ("pop.parent_id", next_id),
        ("pop.guardian", n),
    ):  # a guardian is a row of its own tile
        out[key] = np.where(out[key] >= 0, out[key] + t * step, -1).astype(out[key].dtype)
    order = np.argsort(
        out["pop.y"].astype(np.int64) * (k * w) + out["pop.x"], kind="stable"
    )  # new row -> old row
    out = {key: a[order] for key, a in out.items()}
    g = out["pop.guardian"]
    out["pop.guardian"] = np.where(g >= 0, np.argsort(order)[g], -1).astype(
        g.dtype
    )  # old row -> new row
    for key, a in arrays.items():
        if not key.startswith("pop."):
            out[key] = np.tile(a, (k, k)) if a.shape == (h, w) else a.copy()
    for key in ("species.alive", "species.peak"):
        out[key] *= tiles
    return out, {**scalars, "next_id": next_id * tiles}


def make_world_sim(
    n: int, dense: bool = False, seed: int = 1, overrides: dict[str, object] | None = None
) -> Simulation:
    """The default world (its evolved pilot state) tiled k x k, k chosen so the population is about ``n``.

    The map, food, agents and species all come from the tiled snapshot
    (:func:`evosim.io.checkpoint.restore`); the world only sets the grid size and
    parameters. ``overrides`` (``--set``-style keys) change parameters of the
    continued world, e.g. to switch a mechanism off (``profile_world.py --mechanisms``).
    """
    arrays, scalars = evolved_pilot(dense, seed)
    h, w = arrays["sim.habitat"].shape
    k = max(1, min(round(math.sqrt(n / len(arrays["pop.id"]))), MAX_SIDE // max(h, w)))
    world = load_world(
        WORLD,
        overrides={
            "world.width": k * w,
            "world.height": k * h,
            **_dense_overrides(dense),
            **(overrides or {}),
        },
    )
    return checkpoint.restore(world, *tile_snapshot(arrays, scalars, k))


def world_agent_bytes(sim: Simulation) -> int:
    """Bytes of the agent arrays plus every per-agent scratch array of a Simulation (all rows).

    Scratch = every distinct ndarray of ``sim.scratch`` whose length equals the
    population capacity (or capacity + 1), e.g. the spatial index and the survivor list
    (buffers sharing memory, such as ``survivors`` and ``dependants``, count once).
    """
    cap = sim.pop.capacity
    scratch = {
        id(a): a
        for a in vars(sim.scratch).values()
        if isinstance(a, np.ndarray)
        and a.ndim == 1
        and len(a) in (cap, cap + 1)
        and len(a) != sim.grids.habitat.size + 1
    }
    return sim.pop.nbytes() + sum(a.nbytes for a in scratch.values())


# ----------------------------------------------------------------- measuring
@dataclass
class Result:
    """One benchmark row."""

    workload: str
    target: int
    rates: list[float]
    mean_pop: float
    bytes_arrays: float = float("nan")
    bytes_rss: float = float("nan")
    cpu_rates: list[float] = field(
        default_factory=list
    )  # agent-steps per CPU-second of this process

    @property
    def rate(self) -> float:
        """Median agent-steps per (wall-clock) second."""
        return statistics.median(self.rates)


def time_reps(
    step: Callable[[], None], pop: Callable[[], int], ticks: int, reps: int
) -> tuple[list[float], list[float], float]:
    """Run ``reps`` repetitions of ``ticks`` ticks.

    Returns:
        (agent-steps per wall second, agent-steps per CPU second, each per rep; mean population).
    """
    rates, cpu_rates, steps_all = [], [], 0
    for _ in range(reps):
        steps = 0
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(ticks):
            k = pop()
            if k == 0:
                break
            steps += k
            step()
        rates.append(steps / (time.perf_counter() - t0))
        cpu_rates.append(steps / max(time.process_time() - c0, 1e-9))
        steps_all += steps
    return rates, cpu_rates, steps_all / (ticks * reps)


def bench_model(
    name: str,
    n: int,
    model_factory: Callable[[], object],
    step: Callable[[object], None],
    pop: Callable[[object], int],
    nbytes: Callable[[object], int],
    warmup: int,
    ticks: int,
    reps: int,
) -> Result:
    """Build a model, warm it up, time it, and measure its memory per agent."""
    base = reset_peak_rss()
    model = model_factory()
    reset_peak_rss()  # forget temporaries of the construction (e.g. the tiled snapshot); the model stays counted
    for _ in range(warmup):
        step(model)
    rates, cpu, mean_pop = time_reps(lambda: step(model), lambda: pop(model), ticks, reps)
    grown = proc_status_kib("VmHWM") * 1024 - base
    res = Result(name, n, rates, mean_pop, nbytes(model) / mean_pop, grown / mean_pop, cpu)
    print(
        f"  {name:<24} N={n:>9,}  pop {mean_pop:>11,.0f}  {res.rate / 1e6:8.2f} M agent-steps/s  "
        f"(reps: {', '.join(f'{r / 1e6:.1f}' for r in rates)})",
        flush=True,
    )
    return res  # the model is freed with this frame


def auto_ticks(n: int) -> int:
    """Ticks per repetition: about 3 million agent-steps, between 10 and 300 ticks."""
    return int(min(300, max(10, 3_000_000 // max(n, 1))))


def run_mesa_pair(ticks: int, reps: int, seed: int) -> tuple[Result, Result]:
    """Mesa and evosim minimal forager from the same start (10k agents on 100x100, ``ticks`` ticks).

    Mesa's ``ForagerModel`` (``benchmarks/mesa_forager.py``) is timed like its
    ``run_mesa`` does (agents alive at each tick's start; model construction
    not timed), here with :func:`time_reps` so CPU time is measured too. The
    two engines alternate, one fresh model each per repetition.
    """
    from mesa_forager import ForagerModel  # noqa: PLC0415 - Mesa is an optional (bench) extra

    runs = {
        "mesa": Result(MESA_ROW, MESA_AGENTS, [], 0.0),
        "evo": Result(EVO_MESA_ROW, MESA_AGENTS, [], 0.0),
    }
    for r in range(reps):
        models = {
            "mesa": ForagerModel(
                n_agents=MESA_AGENTS, width=MESA_SIDE, height=MESA_SIDE, seed=seed + r
            ),
            "evo": Forager(MESA_AGENTS, MESA_SIDE, MESA_SIDE, seed + r),
        }
        for key, m in models.items():
            rates, cpu, pop = time_reps(
                m.step,
                (lambda m=m: len(m.agents)) if key == "mesa" else (lambda m=m: m.n),
                ticks,
                1,
            )
            runs[key].rates += rates
            runs[key].cpu_rates += cpu
            runs[key].mean_pop += pop / reps
        print(
            f"  rep {r + 1}: Mesa {runs['mesa'].rates[-1]:,.0f}/s, evosim {runs['evo'].rates[-1]:,.0f}/s",
            flush=True,
        )
    return runs["mesa"], runs["evo"]


def warm_up_compile(seed: int, world: bool = True) -> None:
    """Compile every kernel (tiny forager; the default-world pilots) so no timing includes numba compilation."""
    f = make_forager(500)
    for _ in range(3):
        f.step()
    for dense in (False, True) if world else ():
        evolved_pilot(dense, seed)


# ----------------------------------------------------------------- reporting
def markdown(results: list[Result], reps: int) -> str:
    """The results as a Markdown table (ready for the README), with the evosim / Mesa ratio if Mesa ran."""
    lines = [
        "| workload | N (target) | mean population | agent-steps/s (median) | ns per agent-step "
        "| agent-steps per CPU-s | array bytes/agent | peak RSS growth bytes/agent |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cpu = f"{statistics.median(r.cpu_rates) / 1e6:.2f} M" if r.cpu_rates else ""
        mem = "" if math.isnan(r.bytes_arrays) else f"{r.bytes_arrays:.0f}"
        rss = "" if math.isnan(r.bytes_rss) or r.target < RSS_MIN_N else f"{r.bytes_rss:.0f}"
        lines.append(
            f"| {r.workload} | {r.target:,} | {r.mean_pop:,.0f} | **{r.rate / 1e6:.2f} M** "
            f"| {1e9 / r.rate:.1f} | {cpu} | {mem} | {rss} |"
        )
    rows = {r.workload: r for r in results}
    if MESA_ROW in rows:
        evo, mesa = rows[EVO_MESA_ROW], rows[MESA_ROW]
        cpu = statistics.median(evo.cpu_rates) / statistics.median(mesa.cpu_rates)
        lines.append(
            f"\nevosim / Mesa (minimal forager, {MESA_AGENTS:,} agents, same rules and start): "
            f"**{evo.rate / mesa.rate:,.0f}x** (wall clock), {cpu:,.0f}x (CPU time)"
        )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(
        f"\nOne thread (the serial build), median of {reps} repetitions; {os.cpu_count()}-core "
        f"{platform.machine()}, Python {platform.python_version()}, numba {nb.__version__}, "
        f"evosim {evosim.__version__}; load average at the end {load}. CPU-s: the process's CPU "
        f"time, which other work on the machine inflates less than the wall clock."
    )
    return "\n".join(lines)


# ----------------------------------------------------------------- runs, threads, start
def measure_runs(args: argparse.Namespace, reps: int) -> dict[str, object]:
    """Thread scaling, earthlike runs per core-hour, the experiment's wall time, the start time."""
    quick = args.quick
    out: dict[str, object] = {}
    n = args.scaling_size
    ticks = args.ticks or auto_ticks(n)
    print(f"Threads: default world at N={n:,} on 1 and {args.threads} threads", flush=True)
    warmup = 10 if quick else args.warmup
    sc = bench_runs.thread_scaling(
        lambda k: make_world_sim(k, False, args.seed), n, ticks, reps, warmup, args.threads
    )
    print(
        f"  1 thread {statistics.median(sc.one) / 1e6:.2f} M/s, {args.threads} threads "
        f"{statistics.median(sc.many) / 1e6:.2f} M/s: {sc.ratio:.2f}x",
        flush=True,
    )
    out["scaling"] = sc
    with tempfile.TemporaryDirectory(prefix="evosim-bench-") as tmp:
        e_ticks = 1000 if quick else 10_000
        print(f"Earthlike: one recorded run of {e_ticks} ticks on one thread", flush=True)
        out["earthlike"] = bench_runs.earthlike_run(e_ticks, args.seed, Path(tmp) / "earthlike")
        arms, x_ticks = (2, 500) if quick else (7, 10_000)
        print(
            f"Hard-paths experiment: {arms} arms x 1 replicate, {x_ticks} ticks, 2 workers",
            flush=True,
        )
        out["experiment"] = bench_runs.experiment_wall(arms, 1, x_ticks, 2, Path(tmp) / "exp")
        print("Start: two 1-tick parallel runs", flush=True)
        out["start"] = bench_runs.second_start(args.threads)
    return out


def measure_pairs(args: argparse.Namespace) -> tuple[dict[str, object], dict[str, object]]:
    """The earthlike run against ``--baseline`` on one thread, then on 2 threads against 1."""
    ticks = 1000 if args.quick else 10_000
    with tempfile.TemporaryDirectory(prefix="evosim-pairs-") as tmp:
        print(f"Earthlike {ticks} ticks: this tree against {args.baseline}", flush=True)
        vs = bench_runs.earthlike_pairs(
            args.baseline.resolve(), ticks, args.seed, args.pairs, Path(tmp)
        )
        print("Earthlike: 2 threads against 1", flush=True)
        th = bench_runs.earthlike_pairs(None, ticks, args.seed, args.pairs, Path(tmp))
    return vs, th


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every benchmark, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        default=None,
        help="comma-separated target populations (default 10000,100000,1000000)",
    )
    ap.add_argument(
        "--ticks",
        type=int,
        default=None,
        help="timed ticks per repetition (default: ~3M agent-steps)",
    )
    ap.add_argument(
        "--warmup", type=int, default=40, help="untimed ticks before timing (default 40)"
    )
    ap.add_argument(
        "--reps", type=int, default=None, help="repetitions, median reported (default 5; quick 3)"
    )
    ap.add_argument(
        "--mesa-ticks", type=int, default=20, help="ticks of the Mesa comparison (default 20)"
    )
    ap.add_argument(
        "--workloads", default="forager,world,dense", help="subset of forager,world,dense"
    )
    ap.add_argument("--no-mesa", action="store_true", help="skip the Mesa comparison")
    ap.add_argument(
        "--quick", action="store_true", help="sizes 10000,100000, 3 reps, 10 Mesa ticks"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--no-runs",
        action="store_true",
        help="skip thread scaling, runs per core-hour, the experiment and the start time",
    )
    ap.add_argument(
        "--scaling-size", type=int, default=100_000, help="N of the thread scaling (default 100000)"
    )
    ap.add_argument("--threads", type=int, default=2, help="threads of the scaling row (default 2)")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another source tree (e.g. `git archive 72b0260` unpacked): the earthlike run of this "
        "tree against it, and on 2 threads against 1, in new processes (bench_runs.earthlike_pairs)",
    )
    ap.add_argument(
        "--pairs", type=int, default=2, help="pairs of runs with --baseline (default 2)"
    )
    args = ap.parse_args(argv)
    if os.environ.get("EVOSIM_PARALLEL"):
        raise SystemExit("unset EVOSIM_PARALLEL: bench.py runs each row on the build it names")
    conf.set_threads(1)  # one thread (the serial build) unless a row says otherwise
    sizes = [
        int(s)
        for s in (args.sizes or ("10000,100000" if args.quick else "10000,100000,1000000")).split(
            ","
        )
    ]
    reps = args.reps or (3 if args.quick else 5)
    mesa_ticks = 10 if args.quick and args.mesa_ticks == 20 else args.mesa_ticks
    todo = set(args.workloads.split(","))
    print(
        f"evosim {evosim.__version__} benchmarks: one core, sizes {sizes}, {reps} reps; compiling ...",
        flush=True,
    )
    warm_up_compile(args.seed, bool(todo & {"world", "dense"}))
    results: list[Result] = []
    if not args.no_mesa:
        print(
            f"Mesa comparison: {MESA_AGENTS:,} agents on {MESA_SIDE}x{MESA_SIDE}, {mesa_ticks} ticks",
            flush=True,
        )
        mesa, evo = run_mesa_pair(mesa_ticks, reps, args.seed)
        results += [evo, mesa]
    for n in sizes:
        ticks = args.ticks or auto_ticks(n)
        if "forager" in todo:
            results.append(
                bench_model(
                    "evosim minimal forager",
                    n,
                    lambda n=n: make_forager(n, args.seed),
                    Forager.step,
                    lambda m: m.n,
                    Forager.agent_bytes,
                    args.warmup,
                    ticks,
                    reps,
                )
            )
        for dense in (False, True):
            if ("dense" if dense else "world") in todo:
                name = "evosim default world" + (", dense" if dense else "")
                results.append(
                    bench_model(
                        name,
                        n,
                        lambda n=n, d=dense: make_world_sim(n, d, args.seed),
                        Simulation.step,
                        lambda s: s.pop.n,
                        world_agent_bytes,
                        args.warmup,
                        ticks,
                        reps,
                    )
                )
    order = [
        EVO_MESA_ROW,
        MESA_ROW,
        "evosim minimal forager",
        "evosim default world",
        "evosim default world, dense",
    ]
    results.sort(key=lambda r: (order.index(r.workload), r.target))
    runs = None if args.no_runs else measure_runs(args, reps)
    pairs = None if args.baseline is None else measure_pairs(args)
    print("\n" + markdown(results, reps))
    if runs is not None:
        print("\n" + bench_runs.markdown(runs))
    if pairs is not None:
        print("\n" + bench_runs.pairs_markdown(*pairs))


if __name__ == "__main__":
    main()
