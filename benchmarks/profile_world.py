"""Where the time goes, per agent-step: each process of a tick timed on its own.

For the default world (:class:`evosim.Simulation`, sized like
``benchmarks/bench.py`` sizes it), every method that
:meth:`evosim.Simulation.step` calls (``regrow_food``, ``sense_and_move``,
``index_cells_and_count_brains``, ``forage``, ``metabolise``, ``reproduce``, ``die``, ...; read
from the source of ``step``, so new processes show up by themselves) is wrapped
with a CPU-time (``time.process_time``) timer; ``(rest of step)`` is what ``step`` spends
outside them. With ``--forager`` the phases of the minimal forager
(``evosim_forager.Forager.step``) are timed the same way. One core, numba
compilation excluded.

Usage::

    python benchmarks/profile_world.py --sizes 100000,1000000 --ticks 30
    python benchmarks/profile_world.py --dense
    python benchmarks/profile_world.py --forager
    python benchmarks/profile_world.py --mechanisms --sizes 100000

With ``--mechanisms`` the same state is continued with one mechanism at a
time switched off (:data:`MECHANISMS`: learning, innovation, perception beyond
the next cell, aggregation) and then all of them, to show what each costs per
agent-step.
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"  # before numba is imported: one core

import argparse  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402
from evosim_forager import Forager, make_forager  # noqa: E402

from evosim import Simulation  # noqa: E402


def step_phases(cls: type) -> list[str]:
    """Names of the methods ``cls.step`` calls, in order (``self.name()`` calls)."""
    src = inspect.getsource(cls.step)
    names = re.findall(r"self\.(\w+)\(\)", src)
    return list(dict.fromkeys(names))


def _timed(fn: Callable[[], object], spent: dict[str, float], name: str) -> Callable[[], object]:
    def wrapper() -> object:
        t0 = time.process_time()
        out = fn()
        spent[name] += time.process_time() - t0
        return out

    return wrapper


def time_phases(
    model: Simulation | Forager, ticks: int, pop: Callable[[], int]
) -> dict[str, float]:
    """Step ``model`` ``ticks`` times with each phase of its ``step`` (:func:`step_phases`) timed.

    Times are the process's CPU time (``time.process_time``), which other
    work on a shared machine inflates less than the wall clock.

    Returns:
        Nanoseconds per agent-step per phase, ``(rest of step)`` and
        ``total``; and ``mean_pop`` (``pop()``: the population before a tick).
    """
    names = step_phases(type(model))
    spent = dict.fromkeys(names, 0.0)
    for name in names:
        setattr(model, name, _timed(getattr(model, name), spent, name))
    steps, total = 0, 0.0
    for _ in range(ticks):
        steps += pop()
        t0 = time.process_time()
        model.step()
        total += time.process_time() - t0
    row = {k: v / steps * 1e9 for k, v in spent.items()}
    row["(rest of step)"] = (total - sum(spent.values())) / steps * 1e9
    row.update(total=total / steps * 1e9, mean_pop=steps / ticks)
    return row


#: Mechanisms of the default world that ``--mechanisms`` switches off, one at a time, as ``--set`` overrides.
MECHANISMS: dict[str, dict[str, object]] = {
    "learning attempts": {"culture.juvenile_rate": 0.0, "culture.adult_rate": 0.0},
    "innovation": {"culture.innovation_rate": 0.0},
    "perception beyond 1 cell": {"traits.brain.radius_max": 1},
    "aggregation (census, kin pull)": {"traits.sociality.attraction": 0.0},
}


def profile_world(
    n: int,
    dense: bool,
    warmup: int,
    ticks: int,
    seed: int = 1,
    overrides: dict[str, object] | None = None,
) -> dict[str, float]:
    """Time each process of the default world over ``ticks`` ticks, after ``warmup`` untimed ticks.

    ``overrides`` change the world's parameters (see :func:`bench.make_world_sim`).

    Returns:
        :func:`time_phases`'s row, and ``cells``.
    """
    sim = bench.make_world_sim(n, dense, seed, overrides)
    sim.advance(warmup)
    return {**time_phases(sim, ticks, lambda: sim.pop.n), "cells": sim.grids.habitat.size}


def profile_forager(n: int, warmup: int, ticks: int, seed: int = 1) -> dict[str, float]:
    """Time each phase of the minimal forager (see ``evosim_forager.Forager.step``), like :func:`profile_world`."""
    f = make_forager(n, seed)
    for _ in range(warmup):
        f.step()
    return {**time_phases(f, ticks, lambda: f.n), "cells": f.food.size}


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, profile each size, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated target populations")
    ap.add_argument("--warmup", type=int, default=40, help="untimed ticks first")
    ap.add_argument("--ticks", type=int, default=30, help="timed ticks")
    ap.add_argument(
        "--dense",
        action="store_true",
        help=f"default world with food regrowth {bench.DENSE_REGROWTH}",
    )
    ap.add_argument("--forager", action="store_true", help="profile the minimal forager instead")
    ap.add_argument(
        "--mechanisms",
        action="store_true",
        help="default world at the first size, each mechanism switched off in turn",
    )
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    bench.warm_up_compile(1, not args.forager)
    if args.mechanisms:
        n = sizes[0]
        every = {k: v for ov in MECHANISMS.values() for k, v in ov.items()}
        variants = {
            "(all on)": {},
            **{f"no {k}": ov for k, ov in MECHANISMS.items()},
            "none of these": every,
        }
        rows = [
            (name, profile_world(n, args.dense, args.warmup, args.ticks, overrides=ov))
            for name, ov in variants.items()
        ]
        title = f"Default world at N={n:,}: each mechanism switched off in turn (same state)"
    elif args.forager:
        rows = [(f"N={n:,}", profile_forager(n, args.warmup, args.ticks)) for n in sizes]
        title = "Minimal forager"
    else:
        rows = [(f"N={n:,}", profile_world(n, args.dense, args.warmup, args.ticks)) for n in sizes]
        title = "Default world" + (
            f" (dense: regrowth {bench.DENSE_REGROWTH})" if args.dense else ""
        )
    print(
        f"\n{title}, one core, CPU ns per agent-step (share of the tick), {args.ticks} ticks after {args.warmup}\n"
    )
    print(
        "| process | "
        + " | ".join(f"{h}: pop {r['mean_pop']:,.0f}, {r['cells']:,} cells" for h, r in rows)
        + " |"
    )
    print("|---|" + "---:|" * len(rows))
    keys = [k for k in rows[0][1] if k not in ("mean_pop", "cells")]
    for name in keys:
        print(
            f"| {name} | "
            + " | ".join(f"{r[name]:.1f} ({100 * r[name] / r['total']:.0f}%)" for _, r in rows)
            + " |"
        )
    print(
        "| agent-steps per CPU-s | "
        + " | ".join(f"{1e3 / r['total']:.2f} M" for _, r in rows)
        + " |"
    )


if __name__ == "__main__":
    main()
