"""The progress bar of ``evosim run``: "compiling…" first, then the rate and ETA of compiled ticks.

The first tick of a process compiles (or loads) the numba kernels, which can
take far longer than the ticks after it; a rate averaged from the start
predicted hours for a 48 s run. :class:`TickRate` measures the rate and the
time left only from the ticks after the first one, and says "compiling the
kernels…" (or "starting…" when they are cached) until that tick is done. A
compile later in the run (the parallel build, when threads are first tried)
is left out of the rate too (``paused``).

The bar is drawn only when standard error is a terminal: elsewhere click
would print just its label, a stray line before the result.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click


def hms(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TickRate:
    """Rate and time left of a run, counted from its first completed tick.

    Args:
        ticks: the tick the run ends at.
        compiling: the kernels are not cached (the first tick compiles them).
        clock: seconds, monotonic (a parameter for tests).
        paused: seconds the run has spent compiling so far (left out of the rate).
    """

    def __init__(
        self,
        ticks: int,
        compiling: bool,
        clock: Callable[[], float] = time.perf_counter,
        paused: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.ticks = ticks
        self.compiling = compiling
        self.clock = clock
        self.paused = paused
        # (tick, clock - paused) when the first tick ended
        self.first: tuple[int, float] | None = None
        self.tick = 0
        self.population = 0

    def update(self, tick: int, population: int) -> None:
        """The run has finished ``tick`` with ``population`` agents."""
        if self.first is None:
            self.first = (tick, self.clock() - self.paused())
        self.tick, self.population = tick, population

    def rate(self) -> float | None:
        """Ticks per second since the first tick, compiling left out (None until a second tick is done)."""
        if self.first is None:
            return None
        done, dt = self.tick - self.first[0], self.clock() - self.paused() - self.first[1]
        return done / dt if done > 0 and dt > 0 else None

    def text(self) -> str:
        """What the bar shows after its counter."""
        if self.first is None:
            return "compiling the kernels (first run only)…" if self.compiling else "starting…"
        rate = self.rate()
        if rate is None:
            return f"population {self.population:,}"
        left = hms((self.ticks - self.tick) / rate)
        return f"{rate:,.0f} ticks/s  ETA {left}  population {self.population:,}"


def at_terminal() -> bool:
    """True if standard error is a terminal (where a progress bar is drawn)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def with_bar(job: Callable[[Any], Any], label: str, ticks: int, compiling: bool) -> Any:
    """Run ``job(progress)`` under a progress bar of ``ticks`` ticks (see :class:`TickRate`)."""
    from evosim.engine import runtime  # (here: importing it loads numba)

    rate = TickRate(ticks, compiling, paused=runtime.first_calls_seconds)
    # the bar must exist before `show` can run: click renders it (calling
    # `show`) as the `with` block is entered, before `as bar` would bind it
    bar: Any = click.progressbar(
        length=ticks,
        label=label,
        item_show_func=lambda _item: rate.text(),
        file=sys.stderr,
        show_pos=True,
        show_eta=False,
    )
    last: dict[str, int | None] = {"tick": None}
    with bar:

        def progress(sim: Any) -> None:
            first = last["tick"] is None
            if first or sim.tick - last["tick"] >= 10 or sim.tick >= ticks or sim.extinct:
                rate.update(sim.tick, sim.pop.n)
                bar.update(sim.tick - (last["tick"] or 0))
                last["tick"] = sim.tick

        return job(progress)
