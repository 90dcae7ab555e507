"""What a run or an experiment costs, from the benchmark of the earthlike world (no probe run).

The one place the benchmark figure lives. ``benchmarks/bench.py`` measures
how many whole earthlike runs (``worlds/earthlike.yaml``: 256x256 cells,
10,000 ticks, about 14,800 agents on average) one core does per hour;
docs/benchmarks.md records the measurement this module uses. A run of
another world is scaled by its ticks and its expected population:

    core-seconds = 3600 / EARTHLIKE_RUNS_PER_CORE_HOUR
                   x ticks / EARTHLIKE_TICKS x population / EARTHLIKE_POPULATION

where the expected population is the grid's cells times the earthlike mean
density (agents per cell; a world carries what its food grows, and its food
grows with its area), or the founders if there are more of them. It is a
rough figure — worlds with richer or poorer food, other costs of living, or
culture that takes off run faster or slower — used where a probe run would
cost too much: ``evosim experiment --dry-run``, the line before its runs, and the
hint after ``evosim run``. (``evosim sweep --dry-run`` measures a probe run
instead.)
"""

from __future__ import annotations

from typing import Any

#: Whole earthlike runs (10,000 ticks, recorded, one thread) per core-hour: 25.5 CPU-s per run
#: on an idle machine (docs/benchmarks.md, issue 21's ninth round: bench.py's recorded
#: in-process run, seed 1, 5.81 M agent-steps per CPU-s; 26.6 s for `evosim run` in a new process).
EARTHLIKE_RUNS_PER_CORE_HOUR = 141.0
#: Ticks of the benchmarked earthlike run.
EARTHLIKE_TICKS = 10_000
#: Mean agents per tick of that run (148.3 M agent-steps / 10,000 ticks).
EARTHLIKE_POPULATION = 14_800
#: Cells of the earthlike grid (256 x 256).
EARTHLIKE_CELLS = 256 * 256


def expected_population(world: Any) -> float:
    """Agents a world carries on average: its cells at the earthlike density, at least its founders."""
    cells = world.world.width * world.world.height
    founders = sum(s.count for s in world.species)
    return max(float(founders), cells * EARTHLIKE_POPULATION / EARTHLIKE_CELLS)


def run_core_seconds(world: Any, ticks: int) -> float:
    """Estimated core-seconds of one run of ``world`` for ``ticks`` ticks (see the module docstring)."""
    per_run = 3600.0 / EARTHLIKE_RUNS_PER_CORE_HOUR
    return per_run * ticks / EARTHLIKE_TICKS * expected_population(world) / EARTHLIKE_POPULATION


def duration(seconds: float) -> str:
    """A wall time as said to a person: ``"under a minute"``, ``"about 45 min"``,
    ``"about 2.4 h"``, ``"about 15 h"``, ``"about 3.5 days"``."""
    minutes = seconds / 60
    if minutes < 1:
        return "under a minute"
    if minutes < 90:
        return f"about {round(minutes)} min"
    hours = minutes / 60
    if hours < 10:
        return f"about {hours:.1f} h"
    if hours < 48:
        return f"about {round(hours)} h"
    return f"about {_sig(hours / 24)} days"


def cost_text(core_seconds: float, workers: int) -> str:
    """``"1.8 core-hours: about 54 min on 2 workers"``, ``"under a core-minute: under a minute
    on 1 worker"``."""
    wall = core_seconds / max(1, workers)
    return f"{core_amount(core_seconds)}: {duration(wall)} on {workers} worker{'' if workers == 1 else 's'}"


def core_amount(core_seconds: float) -> str:
    """Core time as said to a person: ``"under a core-minute"``, ``"12 core-minutes"`` (below 90),
    ``"1.8 core-hours"``, ``"36 core-hours"``, ``"1,200 core-hours"``."""
    minutes = core_seconds / 60
    if minutes < 1:
        return "under a core-minute"
    if minutes < 90:
        n = round(minutes)
        return f"{n} core-minute{'' if n == 1 else 's'}"
    return f"{_sig(minutes / 60)} core-hours"


def _sig(x: float) -> str:
    """``x`` to two significant figures, without an exponent: 1.8, 36, 1,200."""
    if x < 10:
        return f"{x:.1f}"
    digits = len(str(int(x)))
    return f"{round(x, 2 - digits):,.0f}"
