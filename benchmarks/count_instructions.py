"""Instructions per agent-step, per process of a tick, counted by valgrind's callgrind.

Wall and CPU time on a shared machine move with the load (other processes
evict our caches and steal cycles); instruction counts do not. This script
counts, with ``valgrind --tool=callgrind``, the instructions each process of
:meth:`evosim.Simulation.step` executes (the same phases as
``profile_world.py``), so a kernel change can be judged on a loaded machine.
It cannot see memory stalls: pair it with ``profile_world.py`` (CPU time).

How: the state to measure is built natively (the default world tiled as
``bench.py`` tiles it, or a world file run for ``--at`` ticks) and saved; then
this script runs itself under callgrind with instrumentation off until the
timed ticks, and a tiny C shim (compiled here with ``gcc``, using
``valgrind/callgrind.h``) dumps the counters after every phase
(``CALLGRIND_DUMP_STATS_AT``). Numba compiles nothing under valgrind: the
native run fills the on-disk cache first. Usage::

    python benchmarks/count_instructions.py                  # default world, N=100,000, 5 ticks
    python benchmarks/count_instructions.py --sizes 100000,1000000 --ticks 3
    python benchmarks/count_instructions.py --world worlds/earthlike.yaml --at 2000 --ticks 5

Needs ``valgrind`` (with its headers) and ``gcc``.
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported: one core

import argparse  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
from profile_world import step_phases  # noqa: E402

from evosim import Simulation, load_world  # noqa: E402
from evosim.io import checkpoint  # noqa: E402

SHIM = r"""
#include <valgrind/callgrind.h>
void evosim_cg_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void evosim_cg_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
"""


def build_shim(folder: Path) -> Path:
    """Compile the client-request shim into ``folder``; returns the shared library's path."""
    src, lib = folder / "cgshim.c", folder / "cgshim.so"
    src.write_text(SHIM)
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def prepare(args: argparse.Namespace, n: int, folder: Path) -> Path:
    """Build the state to measure natively (compiling every kernel) and save it; returns the state file."""
    if args.world:
        world = load_world(args.world, dict(s.split("=", 1) for s in args.set))
        sim = Simulation(world, seed=args.seed)
        sim.advance(args.at)
        overrides = dict(s.split("=", 1) for s in args.set)
        source = str(Path(args.world).resolve())
    else:
        sim = bench.make_world_sim(n, args.dense, args.seed)
        sim.advance(args.warmup)
        h, w = sim.grids.shape
        overrides = {"world.width": w, "world.height": h, **bench._dense_overrides(args.dense)}
        source = None
    arrays, scalars = checkpoint.snapshot(sim)
    for _ in range(2):  # the phases' kernels are compiled (and cached) now, not under valgrind
        sim.step()
    state = folder / f"state-{n}.npz"
    np.savez(state, **arrays)
    meta = {"scalars": scalars, "world": source, "overrides": overrides}
    state.with_suffix(".json").write_text(json.dumps(meta))
    return state


def _dumping(fn: Callable[..., object], tag: str, cg: ctypes.CDLL) -> Callable[..., object]:
    """``fn``, dumping callgrind's counters (as ``tag``) after each call."""
    name = tag.encode()

    def wrapped(*args: object) -> object:
        out = fn(*args)
        cg.evosim_cg_dump(name)
        return out

    return wrapped


def _wrap_kernels(cg: ctypes.CDLL) -> None:
    """Dump the counters after every numba kernel the simulation calls (``--kernels``)."""
    from evosim.engine import population, sim  # noqa: PLC0415
    from evosim.engine.kernels.conf import Kernel  # noqa: PLC0415

    mods = {v for k, v in vars(sim).items() if k.startswith("k_")} | {population}
    for mod in mods:
        for name, fn in list(vars(mod).items()):
            if isinstance(fn, Kernel):
                setattr(mod, name, _dumping(fn, f"  {name}", cg))


def worker(state: Path, ticks: int, lib: Path, kernels: bool = False) -> None:
    """Under callgrind: restore the state, then step ``ticks`` ticks dumping the counters after each phase."""
    meta = json.loads(state.with_suffix(".json").read_text())
    arrays = dict(np.load(state))
    sim = checkpoint.restore(load_world(meta["world"], meta["overrides"]), arrays, meta["scalars"])
    sim.step()  # one untimed tick: first calls, lazy allocations
    cg = ctypes.CDLL(str(lib))
    if kernels:
        _wrap_kernels(cg)
    names = step_phases(Simulation)
    for name in names:
        setattr(sim, name, _dumping(getattr(sim, name), name, cg))
    steps = 0
    cg.evosim_cg_start()
    for _ in range(ticks):
        steps += sim.pop.n
        sim.step()
        cg.evosim_cg_dump(b"(rest of step)")
    state.with_suffix(".steps").write_text(str(steps))


def parse(folder: Path, event: str = "Ir") -> dict[str, int]:
    """Counts of ``event`` per phase: the dumps' ``summary`` lines, summed by each dump's trigger name."""
    out: dict[str, int] = {}
    for f in folder.glob("callgrind.out.*"):
        text = f.read_text(errors="replace")
        trig = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        names = re.search(r"^events: (.*)$", text, re.M)
        summ = re.search(r"^(?:summary|totals): (.*)$", text, re.M)
        if trig and names and summ:
            values = dict(zip(names.group(1).split(), summ.group(1).split()))
            out[trig.group(1)] = out.get(trig.group(1), 0) + int(values.get(event, 0))
    return out


def count(args: argparse.Namespace, n: int, folder: Path, lib: Path) -> dict[str, float]:
    """Prepare the state natively, count under callgrind; instructions per agent-step per phase."""
    state = prepare(args, n, folder)
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        *([f"--{sim}-sim=yes" for sim in ("branch", "cache")] if args.event != "Ir" else []),
        f"--callgrind-out-file={folder}/callgrind.out.%p",
        sys.executable,
        __file__,
        "--worker",
        str(state),
        "--ticks",
        str(args.ticks),
        "--lib",
        str(lib),
        *(["--kernels"] if args.kernels else []),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    steps = int(state.with_suffix(".steps").read_text())
    phases = parse(folder, args.event)
    row = {k: v / steps for k, v in phases.items()}
    row["mean_pop"] = steps / args.ticks
    row["total"] = sum(v for k, v in row.items() if k != "mean_pop")
    return row


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, count each size, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000", help="target populations (default world)")
    ap.add_argument("--ticks", type=int, default=5, help="counted ticks")
    ap.add_argument("--warmup", type=int, default=40, help="native ticks before counting")
    ap.add_argument("--dense", action="store_true", help="the dense default world")
    ap.add_argument("--world", help="a world file instead of the tiled default world")
    ap.add_argument("--at", type=int, default=2000, help="with --world: ticks run natively first")
    ap.add_argument("--set", action="append", default=[], help="with --world: KEY=VALUE")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--kernels", action="store_true", help="also count each numba kernel (indented rows)"
    )
    ap.add_argument(
        "--event",
        default="Ir",
        help="callgrind event to count: Ir (instructions, default), or with branch and cache "
        "simulation Bcm (mispredicted conditional branches), D1mr, DLmr (last-level read misses) ...",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--lib", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(Path(args.worker), args.ticks, Path(args.lib), args.kernels)
        return
    sizes = [0] if args.world else [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="evosim-cg-") as tmp:
        folder = Path(tmp)
        lib = build_shim(folder)
        for n in sizes:
            rows.append((n, count(args, n, folder, lib)))
            for f in folder.glob("callgrind.out.*"):
                if os.environ.get("EVOSIM_KEEP_CALLGRIND"):  # for callgrind_annotate
                    f.rename(Path(os.environ["EVOSIM_KEEP_CALLGRIND"]) / f"{n}-{f.name}")
                else:
                    f.unlink()
    what = args.world or ("default world" + (", dense" if args.dense else ""))
    print(f"\n{what}: {args.event} per agent-step (callgrind), {args.ticks} ticks\n")
    head = [f"pop {r['mean_pop']:,.0f}" for _, r in rows]
    print("| process | " + " | ".join(head) + " |")
    print("|---|" + "---:|" * len(rows))
    keys = [*step_phases(Simulation), "(rest of step)", "total"]
    keys[-1:-1] = sorted({k for _, r in rows for k in r if k.startswith("  ")})
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r.get(k, 0.0):.1f}" for _, r in rows) + " |")


if __name__ == "__main__":
    main()
