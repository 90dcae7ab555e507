"""Where the time goes, per agent-step: each process of a tick timed on its own.

For the default world (:class:`evosim.Simulation`, sized like
``benchmarks/bench.py`` sizes it), every method that
:meth:`evosim.Simulation.step` calls (``regrow_food``, ``sense_and_move``,
``index_cells``, ``forage``, ``metabolise``, ``reproduce``, ``die``, ...; read
from the source of ``step``, so new processes show up by themselves) is wrapped
with a CPU-time (``time.process_time``) timer; ``(rest of step)`` is what ``step`` spends
outside them. With ``--forager`` the minimal forager's kernels are timed the
same way. One core, numba compilation excluded.

Usage::

    python benchmarks/profile_world.py --sizes 100000,1000000 --ticks 30
    python benchmarks/profile_world.py --dense
    python benchmarks/profile_world.py --forager
    python benchmarks/profile_world.py --cell-order   # experiment: agent rows sorted by cell
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported: one core
os.environ.setdefault("EVOSIM_PARALLEL", "0")

import argparse  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
from evosim_forager import (  # noqa: E402
    cell_index, compact, forage_simple, make_forager, metabolise_split_die, random_walk, regrow)
import numpy as np  # noqa: E402

from evosim import Simulation  # noqa: E402


def step_phases() -> list[str]:
    """Names of the methods ``Simulation.step`` calls, in order (``self.name()`` calls)."""
    src = inspect.getsource(Simulation.step)
    names = re.findall(r"self\.(\w+)\(\)", src)
    return list(dict.fromkeys(names))


def _timed(fn: Callable[[], object], spent: dict[str, float], name: str) -> Callable[[], object]:
    def wrapper() -> object:
        t0 = time.process_time()
        out = fn()
        spent[name] += time.process_time() - t0
        return out

    return wrapper


def sort_by_cell(sim: Simulation) -> None:
    """Permute the agent rows of ``sim`` into cell order (row-major), remapping guardian rows.

    An experiment: what keeping agents in cell order would buy the kernels'
    memory access. Births still append at the end, so the order decays slowly.
    """
    p = sim.pop
    cell = p.live("y").astype(np.int64) * sim.habitat.shape[1] + p.live("x")
    perm = np.argsort(cell, kind="stable")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(p.n)
    for name in p.FIELDS:
        arr = getattr(p, name)
        arr[: p.n] = arr[: p.n][perm]
    g = p.live("guardian")
    g[:] = np.where(g >= 0, inv[np.maximum(g, 0)], -1)


def profile_world(n: int, dense: bool, warmup: int, ticks: int, seed: int = 1,
                  cell_order: bool = False) -> list[tuple[str, dict[str, float]]]:
    """Time each process of the default world over ``ticks`` ticks, after ``warmup`` untimed ticks.

    With ``cell_order`` a second, identical world whose agent rows were sorted
    by cell (:func:`sort_by_cell`) after the warm-up runs alongside; the two
    alternate tick by tick, so changing load on the machine hits both alike.
    Times are the process's CPU time (``time.process_time``), which other
    work on a shared machine inflates less than the wall clock.

    Returns:
        ``(label, row)`` per variant; a row holds nanoseconds per agent-step
        per process, ``(rest of step)``, ``total``, ``mean_pop`` and ``cells``.
    """
    variants = [("rows in birth order", False)] + ([("rows sorted by cell", True)] if cell_order else [])
    names = step_phases()
    runs = []
    for label, sort in variants:
        sim = bench.make_world_sim(n, dense, seed)
        sim.advance(warmup)
        if sort:
            sort_by_cell(sim)
        spent = dict.fromkeys(names, 0.0)
        for name in names:
            setattr(sim, name, _timed(getattr(sim, name), spent, name))
        runs.append((label, sim, spent, [0, 0.0]))  # [agent-steps, total seconds]
    for _ in range(ticks):
        for _, sim, _, acc in runs:
            acc[0] += sim.pop.n
            t0 = time.process_time()
            sim.step()
            acc[1] += time.process_time() - t0
    out = []
    for label, sim, spent, (steps, total) in runs:
        row = {k: v / steps * 1e9 for k, v in spent.items()}
        row["(rest of step)"] = (total - sum(spent.values())) / steps * 1e9
        row.update(total=total / steps * 1e9, mean_pop=steps / ticks, cells=sim.habitat.size)
        out.append((label, row))
    return out


def profile_forager(n: int, warmup: int, ticks: int, seed: int = 1) -> dict[str, float]:
    """Time each kernel of the minimal forager (see ``evosim_forager.Forager.step``)."""
    f = make_forager(n, seed)
    for _ in range(warmup):
        f.step()
    spent: dict[str, float] = dict.fromkeys(
        ("regrow", "random_walk", "cell_index", "forage_simple", "metabolise_split_die", "compact x4"), 0.0)
    steps = 0
    clock = time.process_time
    for _ in range(ticks):
        steps += f.n
        t = clock()
        regrow(*f.regrow_args)
        spent["regrow"] += clock() - t
        t = clock()
        random_walk(f.x, f.y, f.ids, f.n, f.height, f.width, f.seed, f.tick)
        spent["random_walk"] += clock() - t
        t = clock()
        groups = cell_index(f.x, f.y, f.n, f.width, f.counts, f.order, f.group_start)
        spent["cell_index"] += clock() - t
        t = clock()
        forage_simple(f.order, f.group_start, groups, f.x, f.y, f.energy, f.food, f.intake)
        spent["forage_simple"] += clock() - t
        t = clock()
        m, b = metabolise_split_die(f.x, f.y, f.energy, f.ids, f.n, f.next_id, f.cap, f.metabolism,
                                    f.split_threshold, f.keep)
        spent["metabolise_split_die"] += clock() - t
        t = clock()
        for arr in (f.x, f.y, f.energy, f.ids):
            compact(arr, f.keep, m)
        spent["compact x4"] += clock() - t
        f.n, f.next_id, f.tick = m, f.next_id + b, f.tick + 1
    out = {k: v / steps * 1e9 for k, v in spent.items()}
    out["total"] = float(np.sum(list(spent.values()))) / steps * 1e9
    out["mean_pop"] = steps / ticks
    out["cells"] = f.food.size
    return out


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, profile each size, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated target populations")
    ap.add_argument("--warmup", type=int, default=40, help="untimed ticks first")
    ap.add_argument("--ticks", type=int, default=30, help="timed ticks")
    ap.add_argument("--dense", action="store_true", help=f"default world with food regrowth {bench.DENSE_REGROWTH}")
    ap.add_argument("--forager", action="store_true", help="profile the minimal forager instead")
    ap.add_argument("--cell-order", action="store_true",
                    help="experiment: also time a copy with agent rows sorted by cell (alternating ticks)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    bench.warm_up_compile(1, not args.forager)
    if args.forager:
        rows = [(f"N={n:,}", profile_forager(n, args.warmup, args.ticks)) for n in sizes]
        title = "Minimal forager"
    else:
        rows = [(f"N={n:,}, {label}", r) for n in sizes
                for label, r in profile_world(n, args.dense, args.warmup, args.ticks, cell_order=args.cell_order)]
        title = "Default world" + (f" (dense: regrowth {bench.DENSE_REGROWTH})" if args.dense else "")
    print(f"\n{title}, one core, CPU ns per agent-step (share of the tick), {args.ticks} ticks after {args.warmup}\n")
    print("| process | " + " | ".join(f"{h}: pop {r['mean_pop']:,.0f}, {r['cells']:,} cells" for h, r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    keys = [k for k in rows[0][1] if k not in ("mean_pop", "cells")]
    for name in keys:
        print(f"| {name} | " + " | ".join(f"{r[name]:.1f} ({100 * r[name] / r['total']:.0f}%)" for _, r in rows) + " |")
    print("| agent-steps per CPU-s | " + " | ".join(f"{1e3 / r['total']:.2f} M" for _, r in rows) + " |")

if __name__ == "__main__":
    main()
